"""``python -m capturemock``: the same as the ``capturemock`` command (§10)."""
from .cli import main

main()
