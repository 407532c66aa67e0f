"""Differential test: generated scenarios run under CaptureMock 2.10 (PyPI, throwaway venv) and under ours.

The parts are kept apart so each can be read alone: ``generator`` writes scenarios from a seed,
``runner`` runs one scenario phase with one implementation, ``masker`` removes run-dependent text,
``comparer`` lists the differences and sorts them into deliberate ones, known bugs and the rest.
"""
