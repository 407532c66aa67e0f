"""The program's audit helper: its calls to the vendor module are bookkeeping, never traffic
(listed in ignore_callers)."""
import weatherapi


def log_service():
    print("audit:", weatherapi.describe_service())
