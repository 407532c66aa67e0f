"""Only the optional C accelerator of replay (capturemock/_speedups.c); everything else is in pyproject.toml.

``optional=True``: without a C compiler or Python's headers the build is skipped with a warning and
capturemock replays with its Python code, which gives the same answers. ``CAPTUREMOCK_PURE_PYTHON=1``
leaves it out on purpose: a ``py3-none-any`` wheel for any Python and machine."""
import os

from setuptools import Extension, setup

pure = os.environ.get("CAPTUREMOCK_PURE_PYTHON") == "1"
setup(ext_modules=[] if pure else [Extension("capturemock._speedups", ["capturemock/_speedups.c"], optional=True)])
