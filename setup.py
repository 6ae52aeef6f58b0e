"""The optional C part of the tab reader; everything else is in pyproject.toml.

`tabgen.tab._scan` repeats the reader's per-character loops in C. When it cannot be built (no C
compiler), the install still succeeds and tabgen reads tabs with the same rules in pure Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("tabgen.tab._scan", ["tabgen/tab/_scan.c"], optional=True)])
