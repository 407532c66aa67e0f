"""The inner suite's program: asks the weather service about each city it is given; 'service' asks a
question whose answer never changes, 'lottery' also runs a program."""
import subprocess
import sys

import weatherapi

for word in sys.argv[1:]:
    if word == "service":
        print(weatherapi.describe_service())
    elif word == "lottery":
        print(subprocess.run(["lottery", "inner"], capture_output=True, text=True).stdout.strip())
    else:
        print(word, weatherapi.get_temperature(word))
