"""When each note of a tab sounds, read off the rhythm grid (DESIGN.md, Rhythm).

Every bar is one measure of the tab's meter (4/4 when unknown). A column at slot ``s`` of a bar of
``width`` slots starts at ``s / width`` of the measure; a note rings until the next note on its
string or the end of its bar. Times are exact `Fraction`s of a quarter note, so renderers convert
them to seconds (MIDI) or to note values (MusicXML, Guitar Pro) without rounding drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Note, Tab

DEFAULT_METER = (4, 4)


@dataclass(frozen=True)
class Timed:
    """One note with its place in time. `prev` is the index of the previous note on the same
    string when that note is still ringing at `start` (so a legato technique has something to join)."""

    bar: int  # the bar's place in playing order (repeats played out)
    column: int
    note: Note
    start: Fraction
    end: Fraction
    prev: int | None


# A tab on the rhythm grid is `normalize`'s canonical tab (the grid's width rule is
# `tabgen.tab.normalize.grid_width`, a finer grid for a run faster than the grid): `on_grid` is that
# one function, under the name the renderers call it by.
on_grid = normalize


def meter_of(tab: Tab) -> tuple[int, int]:
    return tab.meter or DEFAULT_METER


def bar_length(meter: tuple[int, int]) -> Fraction:
    """A measure's length in quarter notes: 4 for 4/4, 3 for 3/4 and for 6/8."""
    beats, unit = meter
    return Fraction(beats * 4, unit)


def column_offsets(bar: Bar, length: Fraction) -> list[Fraction]:
    """Each column's onset within its measure, in quarter notes."""
    return [length * c.position / bar.width for c in bar.columns]


# note values one note (or Guitar Pro beat) can take, longest first, in quarter notes: dotted and plain
NOTE_VALUES = tuple(
    Fraction(v) for v in ("6", "4", "3", "2", "3/2", "1", "3/4", "1/2", "3/8", "1/4", "3/16", "1/8", "1/16")
)


def split_duration(length: Fraction) -> list[Fraction]:
    """`length` as note values that each take one note (to be tied together): 5/4 -> [1, 1/4]."""
    parts: list[Fraction] = []
    while length > 0:
        value = next((v for v in NOTE_VALUES if v <= length), None)
        if value is None:  # below a 64th: left as it is (a tuplet or complex value)
            parts.append(length)
            break
        parts.append(value)
        length -= value
    return parts


def main_columns(bar: Bar) -> tuple[list[list[Note]], list[list[Note]]]:
    """Each column's timed notes and grace notes. A grace note (g) takes no time of its own: it
    leans on the next column that holds a timed note; with no such column after it, it is timed."""
    timed_cols: list[list[Note]] = []
    grace_cols: list[list[Note]] = []
    later_main = False
    for col in reversed(bar.columns):
        plain = [n for n in col.notes if n.technique != "g"]
        timed = plain if later_main else list(col.notes)
        timed_cols.insert(0, timed)
        grace_cols.insert(0, [n for n in col.notes if n not in timed])
        later_main = later_main or bool(plain)
    return timed_cols, grace_cols


def played_bars(tab: Tab) -> list[int]:
    """The tab's bar indexes in playing order, repeats played out: a bar closing a repeat
    (``repeat_end`` n >= 2) sends the player back n - 1 times to the last bar opening one (``|:``),
    else to the bar after the previous closing repeat, else to the start."""
    order: list[int] = []
    start = 0
    for j, bar in enumerate(tab.bars):
        if bar.repeat_start:
            start = j
        order.append(j)
        if bar.repeat_end >= 2:
            order.extend(list(range(start, j + 1)) * (bar.repeat_end - 1))
            start = j + 1
    return order


def timeline(tab: Tab) -> list[Timed]:
    """All notes of the (normalized) tab in playing order, repeats played out, with onsets and
    let-ring ends. `Timed.bar` is the bar's place in that order."""
    tab = on_grid(tab)
    length = bar_length(meter_of(tab))
    events: list[Timed] = []
    last_on_string: dict[int, int] = {}  # string -> index of its latest note
    for b, k in enumerate(played_bars(tab)):
        bar = tab.bars[k]
        bar_start = length * b
        offsets = column_offsets(bar, length)
        # a note's end: the next onset on its string within this bar, else the bar's end
        ends: dict[tuple[int, int], Fraction] = {}
        next_on: dict[int, Fraction] = {}
        for c in range(len(bar.columns) - 1, -1, -1):
            for n in bar.columns[c].notes:
                ends[(c, n.string)] = next_on.get(n.string, bar_start + length)
                next_on[n.string] = bar_start + offsets[c]
        for c, col in enumerate(bar.columns):
            start = bar_start + offsets[c]
            for n in col.notes:
                p = last_on_string.get(n.string)
                ringing = p if p is not None and events[p].end == start else None
                last_on_string[n.string] = len(events)
                events.append(Timed(b, c, n, start, ends[(c, n.string)], ringing))
    return events
