"""Tabs built in code for the renderer tests: one helper instead of a copy per test file."""

from __future__ import annotations

from tabgen.tab.types import Bar, Column, Note, Tab, Tuning


def make_tab(bars, tuning="standard", meter=None, width=16, title="", meta=(), repeats=()):
    """bars: a list of bars, each a list of (slot, [(string, fret[, technique]), ...]);
    repeats: (repeat_start, repeat_end) per bar, for as many bars as given."""
    return Tab(
        Tuning.named(tuning),
        tuple(
            Bar(
                width,
                tuple(Column(pos, tuple(Note(*n) for n in notes)) for pos, notes in cols),
                *(repeats[i] if i < len(repeats) else (False, 0)),
            )
            for i, cols in enumerate(bars)
        ),
        meter=meter,
        title=title,
        meta=meta,
    )
