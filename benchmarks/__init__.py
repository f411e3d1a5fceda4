"""Benchmarks, run from the repository's root as modules (``python -m benchmarks.run``,
``python -m benchmarks.cli``): they import the test harness (``tests.engine``,
``tests.cli``) as the package it is. Figures are printed, never asserted."""
