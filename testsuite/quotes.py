"""Stands in for a vendor API client: prices change on every call."""
import random


class QuoteError(Exception):
    pass


class Session:
    def __init__(self, user):
        self.user = user

    def price(self, symbol):
        if symbol == "NOPE":
            raise QuoteError(f"unknown symbol {symbol}")
        return round(random.uniform(10, 500), 2)

    def history(self, symbol, days=3):
        return [self.price(symbol) for _ in range(days)]


def connect(user):
    return Session(user)
