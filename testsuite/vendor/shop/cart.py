"""Cart sub-module of the stand-in SDK: identifiers differ on every run."""
import random


class Cart:
    def __init__(self, owner):
        self.owner = owner
        self.items = []

    def add(self, sku, qty=1):
        self.items.append((sku, qty))
        return f"line-{random.randint(1, 9999)}"

    def total(self):
        return round(sum(qty * random.uniform(1, 20) for _, qty in self.items), 2)


def open_cart(owner):
    return Cart(owner)
