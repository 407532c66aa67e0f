"""A child process of the program under test: intercepted too, through TextTest's sitecustomize."""
import sys

import weatherapi

print("child reports", sys.argv[1], weatherapi.get_temperature(sys.argv[1]))
