"""Python's cyclic garbage collector, paused while a burst of long-lived objects is made.

Building a score (music21) or reading a tab makes many container objects that live on; each 700 of
them trigger a collection that walks the young ones again, and a few of those walk everything. The
work makes no reference cycles of its own, so nothing is lost by pausing: whatever cycles appear
meanwhile are collected at the next collection after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off inside the block, back as it was after (also when it was off already)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
