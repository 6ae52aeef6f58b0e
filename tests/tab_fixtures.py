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


# every technique in two 4/4 bars, as make_tab's bars: legato and slides, then harmonics, grace,
# dead, palm-muted, vibrato and tapped notes
TECHNIQUE_BARS = [
    [
        (0, [(3, 5)]),
        (2, [(3, 7, "h")]),
        (4, [(3, 5, "p")]),
        (6, [(3, 7)]),
        (8, [(3, 9, "b")]),
        (10, [(3, 7, "r")]),
        (12, [(5, 3)]),
        (14, [(5, 5, "/")]),
    ],
    [
        (0, [(1, 12, "<>")]),
        (3, [(1, 2, "g")]),
        (4, [(1, 0), (6, 0, "x")]),
        (8, [(2, 5, "[]")]),
        (10, [(6, 0, "pm")]),
        (12, [(2, 5, "~"), (4, 7, "t")]),
    ],
]


# a barre chord, a chord off the first position and notes on strings that are not the lowest
# fret for their pitch: a reader that re-frets by pitch gets these wrong
CHORD_AND_BARRE_BARS = [
    [(0, [(6, 1), (5, 3), (4, 3), (3, 2), (2, 1), (1, 1)]), (8, [(5, 7), (4, 9), (3, 9), (2, 8)])],
    [(0, [(3, 7)]), (4, [(4, 7), (2, 8)]), (8, [(5, 12), (1, 12)]), (12, [(6, 5), (2, 5), (1, 5)])],
]
