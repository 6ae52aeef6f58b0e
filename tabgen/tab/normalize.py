"""A `Tab` to its canonical form: every bar on the fixed rhythm grid of DESIGN.md.

Pure and idempotent. A note's slot is ``floor(position * width / bar.width)``: the stave writer
puts grid slot ``s`` at offset ``s * k + 1``, which floors back to ``s``. Two columns that land on
one slot are merged; when both hold a note on the same string the later one moves to the next free
slot on that string (or, at the end of the bar, the nearest free slot before it).

No note is ever dropped. A bar with more notes on one string than the grid has slots (a run of
32nd notes, or a stave written without bar lines that reads as one long bar) gets a finer grid:
the bar's width doubles (32, 64, ... slots for 4/4) until every string's notes fit. Such a "fine
bar" is the only way a canonical bar's width differs from ``slots_per_bar(meter)``; it is always a
power-of-two multiple of it, and the validator accepts exactly those widths.
"""

from __future__ import annotations

from collections import Counter

from tabgen.tab.rhythm import beat_slots, place_bar
from tabgen.tab.types import Bar, Column, Note, Tab, slots_per_bar


def grid_width(bar: Bar, slots: int) -> int:
    """The canonical width of a bar: `slots`, doubled until the busiest string's notes fit."""
    busiest = max(Counter(n.string for n in bar.notes).values(), default=0)
    width = slots
    while width < busiest:
        width *= 2
    return width


def normalize_bar(bar: Bar, slots: int) -> Bar:
    width = grid_width(bar, slots)
    if bar.width == width:
        return bar
    placed: dict[int, dict[int, Note]] = {}
    for col in bar.columns:
        slot = min(width - 1, col.position * width // bar.width)
        for note in col.notes:
            s = slot
            while s < width and note.string in placed.get(s, {}):
                s += 1
            if s == width:  # full on this string from here to the end: a free slot lies before
                s = slot
                while note.string in placed.get(s, {}):
                    s -= 1
            placed.setdefault(s, {})[note.string] = note
    columns = tuple(Column(s, tuple(sorted(placed[s].values()))) for s in sorted(placed))
    return Bar(width, columns, bar.repeat_start, bar.repeat_end)


def grid_bar(bar: Bar, slots: int, beat: int) -> Bar:
    """A parsed bar on the grid: its rhythm read from its spacing (`tabgen.tab.rhythm`), or its
    offsets scaled onto the grid where no grid fits."""
    width = grid_width(bar, slots)
    if bar.width == width:
        return bar
    placed = place_bar(bar, width, beat * (width // slots))
    return placed if placed is not None else normalize_bar(bar, width)


def normalize(tab: Tab) -> Tab:
    """The canonical tab: each bar on `slots_per_bar(tab.meter)` slots (or a power-of-two multiple)."""
    slots = slots_per_bar(tab.meter)
    beat = beat_slots(tab.meter)
    bars = tuple(grid_bar(b, slots, beat) for b in tab.bars)
    return Tab(tab.tuning, bars, tab.meter, tab.title, tab.meta, tab.line)
