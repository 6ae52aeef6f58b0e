"""Time-major text: the piece column by column, one short line per grid slot.

A slot line holds one cell per string, highest string first, with the trailing ``-`` cells left
out: a slot with no note is an empty line, a slot with only the top E ringing open is ``0``. A
line ``|`` closes every bar, a line ``$`` ends the piece. One bar of 3/4 (12 slots)::

    %E2A2D3G3B3E4 3/4
    0----3
    (empty line)
    -1
    (empty line)
    --0
    ... (7 more slot lines)
    |
    $

Alignment holds by construction (a note's string is its place in the line, its time is the line),
and a bar is always the same number of lines back.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from tabgen.errors import TabValueError
from tabgen.formats.base import (
    BAR_MARK,
    EMPTY,
    END_MARK,
    FRET_OF,
    TECH_OF,
    Decoded,
    Grammar,
    MaskBook,
    Program,
    TextFormat,
    bar_widths,
    body_lines,
    check_bars,
    column_span,
    is_bar_width,
    literal,
    make_bar,
    note_cell,
    parse_cells,
    parse_header,
)
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Note, Tab, Tuning, slots_per_bar


class TimeMajor(TextFormat):
    name = "time"
    version = 1

    def encode(self, tab: Tab) -> str:
        tab = normalize(tab)
        n = tab.tuning.strings
        out = [self.header(tab.tuning, tab.meter)]
        for bar in tab.bars:
            lines = [""] * bar.width
            for col in bar.columns:
                cells = [EMPTY] * n
                for note in col.notes:
                    cells[note.string - 1] = note_cell(note)
                lines[col.position] = "".join(cells).rstrip(EMPTY)
            out.append("\n".join(lines) + "\n" + BAR_MARK + "\n")
        out.append(END_MARK + "\n")
        return "".join(out)

    def decode(self, text: str, max_span: int | None = None) -> Decoded:
        header, body, _, problems = body_lines(text)
        bar_groups: list[list[str]] = [[]]
        for line in body:
            if line == BAR_MARK:
                bar_groups.append([])
            else:
                bar_groups[-1].append(line)
        if not bar_groups[-1]:
            bar_groups.pop()
        closed = len(bar_groups) if body[-1:] == [BAR_MARK] or not body else len(bar_groups) - 1
        total = len(bar_groups)
        try:
            tuning, meter = parse_header(header or "")
        except TabValueError as e:
            if header is not None:
                problems.append(str(e))
            return Decoded(None, total, 0, problems)
        slots = slots_per_bar(meter)
        bars, valid = [], 0
        for b, lines in enumerate(bar_groups, start=1):
            width = len(lines) or slots
            bar_problems = [] if b <= closed else [f"bar {b}: no closing '|' line"]
            if not is_bar_width(len(lines), slots):
                bar_problems.append(f"bar {b}: {len(lines)} slot lines, not {slots} (or 2, 4, ... times)")
            notes_by_slot: dict[int, list[Note]] = {}
            for s, line in enumerate(lines):
                cells, cell_problems = parse_cells(line)
                bar_problems += [f"bar {b} slot {s + 1}: {p}" for p in cell_problems]
                if len(cells) > tuning.strings:
                    bar_problems.append(
                        f"bar {b} slot {s + 1}: {len(cells)} cells for {tuning.strings} strings"
                    )
                notes = [
                    Note(i + 1, c.fret, c.technique)
                    for i, c in enumerate(cells[: tuning.strings])
                    if c is not None
                ]
                if max_span is not None and column_span([x.fret for x in notes]) > max_span:
                    bar_problems.append(f"bar {b} slot {s + 1}: fretted notes span more than {max_span}")
                if notes:
                    notes_by_slot[s] = notes
            bars.append(make_bar(width, notes_by_slot))
            problems += bar_problems
            valid += 0 if bar_problems else 1
        return Decoded(Tab(tuning, tuple(bars), meter), total, valid, problems)

    def bars_in(self, text: str) -> int:
        return sum(1 for line in text.split("\n") if line == BAR_MARK)

    def grammar(
        self, tuning: Tuning, meter: tuple[int, int] | None, bars: int, max_span: int = 4, max_fine: int = 1
    ) -> Grammar:
        check_bars(bars)
        book = MaskBook.get(self.alphabet, max_span)
        widths = bar_widths(slots_per_bar(meter), max_fine)
        return Grammar(book, _program(book, self.header(tuning, meter), tuning.strings, widths, bars))


def _program(book: MaskBook, header: str, strings: int, widths: frozenset[int], bars: int) -> Program:
    yield from literal(book, header)
    widest = max(widths)
    for _ in range(bars):
        count = 0  # slot lines so far in this bar
        while True:
            if count == widest:
                closed = (yield book.one(BAR_MARK)) == BAR_MARK
            else:
                closed = yield from _slot_line(book, strings, close=count in widths)
            if closed:
                yield book.one("\n")
                break
            count += 1
    yield from literal(book, END_MARK + "\n")


def _slot_line(book: MaskBook, strings: int, close: bool) -> Generator[np.ndarray, str, bool]:
    """One slot line; True when the bar mark came instead (allowed first when `close`)."""
    lo = hi = i = 0
    dash = tech = False  # the previous cell was '-' / a fret (a technique may follow)
    while True:
        if i == strings:
            ch = yield book.one("\n", tech)
        else:
            # '-' never last (trailing dashes are left out), so no line ends with one
            ch = yield book.cell(
                lo, hi, dash=i < strings - 1, newline=not dash, tech=tech, bar=close and i == 0
            )
        if ch == "\n" or ch == BAR_MARK:
            return ch == BAR_MARK
        if ch in TECH_OF:
            tech = False
            continue
        dash, tech = ch == EMPTY, ch != EMPTY
        f = FRET_OF.get(ch, 0)
        if f:
            lo, hi = (min(lo, f) if lo else f), max(hi, f)
        i += 1
