"""Stands in for a third-party weather client: every answer changes from run to run."""
import random
import time


class Station:
    def __init__(self, name):
        self.name = name

    def reading(self):
        return f"{round(random.uniform(-10, 30), 1)} C at {time.strftime('%H:%M:%S')}"


def get_temperature(city):
    return round(random.uniform(-10, 30), 1)
