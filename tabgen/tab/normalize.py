"""A `Tab` to its canonical form: every bar on the fixed rhythm grid of DESIGN.md.

Pure and idempotent. A note's slot is ``floor(position * slots / width)``: the stave writer puts
grid slot ``s`` at offset ``s * k + 1``, which floors back to ``s``. Two columns that land on one
slot are merged; when both hold a note on the same string the later one moves to the next free
slot, so no note is ever dropped silently.
"""

from __future__ import annotations

from tabgen.tab.types import Bar, Column, Note, Tab, slots_per_bar


def normalize_bar(bar: Bar, slots: int) -> Bar:
    if bar.width == slots:
        return bar
    placed: dict[int, dict[int, Note]] = {}
    for col in bar.columns:
        slot = min(slots - 1, col.position * slots // bar.width)
        for note in col.notes:
            s = slot
            while s < slots and note.string in placed.get(s, {}):
                s += 1
            if s == slots:  # bar full on this string from here: look back instead
                s = slot
                while note.string in placed.get(s, {}):
                    s -= 1
            placed.setdefault(s, {})[note.string] = note
    columns = tuple(Column(s, tuple(sorted(placed[s].values()))) for s in sorted(placed))
    return Bar(slots, columns, bar.repeat_start, bar.repeat_end)


def normalize(tab: Tab) -> Tab:
    """The canonical tab: each bar on `slots_per_bar(tab.meter)` slots."""
    slots = slots_per_bar(tab.meter)
    bars = tuple(normalize_bar(b, slots) for b in tab.bars)
    return Tab(tab.tuning, bars, tab.meter, tab.title, tab.meta, tab.line)
