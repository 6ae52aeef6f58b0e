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

Version 2 adds two marks of written form (version 1, without them, still reads and samples the
models trained on it):

- **bars to come**: each bar line carries how many bars follow it, capped at 9 (``|9`` ... ``|1``,
  ``|0`` before the end marker), so the model knows when a piece is about to end, as a player
  does. The grammar writes the count itself; the model only reads it.
- **bar repeats**: a bar equal to one of the 8 bars before it is written as one line ``#k`` ("as k
  bars back", the notation's repeat sign with a reach), the nearest such bar; silent bars are
  written out. So a phrase that returns is one short line the model can write, not a copy.

Version 3 adds ghost notes (technique character ``(``, at the end of the alphabet); versions 1
and 2 have the first alphabet, without it, and write a ghost note as a plain note.

A header may end with a style letter (``%E2A2D3G3B3E4 4/4 g``: `tabgen.formats.base.STYLES`).
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from tabgen.errors import TabValueError
from tabgen.formats.base import (
    ALPHABET,
    BAR_MARK,
    EMPTY,
    END_MARK,
    FIRST_ALPHABET,
    FRET_OF,
    STYLE_NAMES,
    TECH_OF,
    Decoded,
    Grammar,
    MaskBook,
    Program,
    TextFormat,
    bar_widths,
    body_lines,
    check_bars,
    literal,
    make_bar,
    note_cell,
    parse_cells,
    parse_header,
)
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, column_span, is_bar_width, slots_per_bar

REPEAT_MARK = "#"
REPEAT_REACH = 8  # a bar repeat points at most this many bars back (one digit)
COUNT_CAP = 9  # the bars-to-come count of a bar line stops at one digit


def bars_to_come(bars: int, b: int) -> str:
    """The count written after bar `b` (0-based) of a piece of `bars` bars."""
    return str(min(bars - 1 - b, COUNT_CAP))


def repeat_distance(
    previous: list[tuple[int, tuple[Column, ...]]], content: tuple[int, tuple[Column, ...]]
) -> int:
    """The smallest k <= REPEAT_REACH with previous[-k] == content (a bar's width and columns), 0
    when there is none or the bar is silent (a silent bar is written out)."""
    if not content[1]:
        return 0
    for k in range(1, min(REPEAT_REACH, len(previous)) + 1):
        if previous[-k] == content:
            return k
    return 0


def is_bar_line(line: str) -> bool:
    return line[:1] == BAR_MARK


class TimeMajor(TextFormat):
    name = "time"

    def __init__(self, version: int = 3) -> None:
        if version not in (1, 2, 3):
            raise TabValueError(f"the time format has versions 1, 2 and 3, not {version}")
        self.version = version
        self.marks = self.styled = version >= 2  # bars-to-come counts, bar repeats, a style letter
        self.alphabet = ALPHABET if version >= 3 else FIRST_ALPHABET  # 3: ghost notes

    def encode(self, tab: Tab, style: str | None = None) -> str:
        tab = normalize(tab)
        return self._text(tab, len(tab.bars), style) + END_MARK + "\n"

    def prime(self, tab: Tab, bars: int, style: str | None = None) -> str:
        check_bars(bars)
        tab = normalize(Tab(tab.tuning, tab.bars[:bars], tab.meter))
        text = self._text(tab, bars, style)
        return text + END_MARK + "\n" if len(tab.bars) == bars else text

    def _text(self, tab: Tab, total: int, style: str | None) -> str:
        """The header and the bars of `tab`, counted as the first bars of a piece of `total`."""
        n = tab.tuning.strings
        out = [self.header(tab.tuning, tab.meter, style)]
        written: list[tuple[int, tuple[Column, ...]]] = []
        for b, bar in enumerate(tab.bars):
            content = (bar.width, bar.columns)
            k = repeat_distance(written, content) if self.marks else 0
            written.append(content)
            if k:
                out.append(f"{REPEAT_MARK}{k}\n")
            else:
                lines = [""] * bar.width
                for col in bar.columns:
                    cells = [EMPTY] * n
                    for note in col.notes:
                        cells[note.string - 1] = note_cell(note, self.alphabet)
                    lines[col.position] = "".join(cells).rstrip(EMPTY)
                out.append("\n".join(lines) + "\n")
            out.append(BAR_MARK + (bars_to_come(total, b) if self.marks else "") + "\n")
        return "".join(out)

    def decode(self, text: str, max_span: int | None = None) -> Decoded:
        header, body, _, problems = body_lines(text)
        bar_groups: list[list[str]] = [[]]
        bar_lines: list[str] = []
        for line in body:
            if is_bar_line(line):
                bar_groups.append([])
                bar_lines.append(line)
            else:
                bar_groups[-1].append(line)
        if not bar_groups[-1]:
            bar_groups.pop()
        closed = len(bar_lines)
        total = len(bar_groups)
        try:
            tuning, meter, style = parse_header(header or "")
        except TabValueError as e:
            if header is not None:
                problems.append(str(e))
            return Decoded(None, total, 0, problems)
        slots = slots_per_bar(meter)
        bars: list[Bar] = []
        valid = 0
        for b, lines in enumerate(bar_groups, start=1):
            bar_problems = [] if b <= closed else [f"bar {b}: no closing '|' line"]
            if b <= closed and not self._bar_line_ok(bar_lines[b - 1]):
                bar_problems.append(f"bar {b}: bad bar line {bar_lines[b - 1]!r}")
            if self.marks and len(lines) == 1 and lines[0][:1] == REPEAT_MARK:
                k = lines[0][1:]
                if k.isdigit() and len(k) == 1 and 1 <= int(k) < b:
                    bars.append(bars[b - 1 - int(k)])
                else:
                    bars.append(Bar(slots))
                    bar_problems.append(f"bar {b}: bad bar repeat {lines[0]!r}")
                problems += bar_problems
                valid += 0 if bar_problems else 1
                continue
            width = len(lines) or slots
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
        meta = (("style", STYLE_NAMES.get(style, style)),) if style else ()
        return Decoded(Tab(tuning, tuple(bars), meter, meta=meta), total, valid, problems)

    def _bar_line_ok(self, line: str) -> bool:
        """'|' in version 1; '|' and a digit in version 2 (the count is a hint: not checked)."""
        if not self.marks:
            return line == BAR_MARK
        return len(line) == 2 and line[1].isdigit()

    def bars_in(self, text: str) -> int:
        return sum(1 for line in text.split("\n") if is_bar_line(line))

    def grammar(
        self,
        tuning: Tuning,
        meter: tuple[int, int] | None,
        bars: int,
        max_span: int = 4,
        max_fine: int = 1,
        style: str | None = None,
    ) -> Grammar:
        check_bars(bars)
        book = MaskBook.get(self.alphabet, max_span)
        widths = bar_widths(slots_per_bar(meter), max_fine)
        header = self.header(tuning, meter, style)
        return Grammar(book, _program(book, header, tuning.strings, widths, bars, self.marks))


def _program(
    book: MaskBook, header: str, strings: int, widths: frozenset[int], bars: int, marks: bool
) -> Program:
    yield from literal(book, header)
    widest = max(widths)
    written: list[tuple[str, ...]] = []  # each bar's slot lines, repeats resolved
    for b in range(bars):
        # the bar repeats that encode would write here: to a bar with notes, the nearest of equals
        reach: dict[str, tuple[str, ...]] = {}
        if marks:
            for k in range(1, min(REPEAT_REACH, b) + 1):
                lines = written[b - k]
                if any(lines) and lines not in reach.values():
                    reach[str(k)] = lines
        lines_now: list[str] = []
        count = 0  # slot lines so far in this bar
        while True:
            if count == widest:
                closed = (yield book.one(BAR_MARK)) == BAR_MARK
                line = ""
            else:
                closed, line = yield from _slot_line(
                    book, strings, close=count in widths, repeat=bool(reach) and count == 0
                )
            if line.startswith(REPEAT_MARK):
                mark = yield book.chars("".join(reach))
                lines_now = list(reach[mark])
                yield book.one("\n")
                yield book.one(BAR_MARK)
                closed = True
            if closed:
                if marks:
                    yield book.one(bars_to_come(bars, b))
                yield book.one("\n")
                break
            lines_now.append(line)
            count += 1
        written.append(tuple(lines_now))
    yield from literal(book, END_MARK + "\n")


def _slot_line(
    book: MaskBook, strings: int, close: bool, repeat: bool = False
) -> Generator[np.ndarray, str, tuple[bool, str]]:
    """One slot line: (True, "") when the bar mark came instead (allowed first when `close`),
    (False, "#") when a bar repeat mark came (allowed first when `repeat`), else (False, the line)."""
    lo = hi = i = 0
    dash = tech = False  # the previous cell was '-' / a fret (a technique may follow)
    line: list[str] = []
    while True:
        if i == strings:
            ch = yield book.one("\n", tech)
        else:
            # '-' never last (trailing dashes are left out), so no line ends with one
            ch = yield book.cell(
                lo,
                hi,
                dash=i < strings - 1,
                newline=not dash,
                tech=tech,
                bar=close and i == 0 and not line,
                repeat=repeat and not line,
            )
        if ch == "\n":
            return False, "".join(line)
        if ch == BAR_MARK:
            return True, ""
        if ch == REPEAT_MARK:
            return False, REPEAT_MARK
        line.append(ch)
        if ch in TECH_OF:
            tech = False
            continue
        dash, tech = ch == EMPTY, ch != EMPTY
        f = FRET_OF.get(ch, 0)
        if f:
            lo, hi = (min(lo, f) if lo else f), max(hi, f)
        i += 1
