"""Stands in for a vendor SDK package with sub-modules; the package imports one of its own."""
from . import cart  # noqa: F401  (the SDK wires its sub-modules itself)

VERSION = "5.2"
