"""Only the optional C accelerator of replay (capturemock/_speedups.c); everything else is in pyproject.toml.

``optional=True``: without a C compiler or Python's headers the build is skipped with a warning and
capturemock replays with its Python code, which gives the same answers."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("capturemock._speedups", ["capturemock/_speedups.c"], optional=True)])
