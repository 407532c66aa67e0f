"""Payments sub-module of the stand-in SDK: never imported by the package itself."""
import random


class PaymentDeclined(Exception):
    pass


def charge(amount, card):
    if card.endswith("0000"):
        raise PaymentDeclined(f"card {card} declined")
    return f"txn-{random.randint(100000, 999999)}"
