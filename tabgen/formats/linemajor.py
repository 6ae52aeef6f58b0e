"""Line-major text: the article's stave, one string line after another.

Staves of `BARS_PER_STAVE` bars (the last one may be shorter), one line per string, highest first,
each line a label, ``|``, then one cell per grid slot and a ``|`` after every bar. A cell is ``-`` or
a fret character (frets 10-24 as ``a``-``o``, so that one slot stays one character and the lines of
a stave keep the same length) with an optional technique character after it. A blank line between
staves, a line ``$`` at the end::

    %E2A2D3G3B3E4 3/4
    e|0-----3-----|
    B|--1---------|
    G|----0-------|
    D|------------|
    A|------------|
    E|3-----------|
    $

To keep a column aligned the model must count up to a whole line (about 70 characters) back.

Version 2 adds ghost notes (technique character ``(``, at the end of the alphabet); version 1 has
the first alphabet, without it, and writes a ghost note as a plain note.
"""

from __future__ import annotations

from tabgen.errors import TabValueError
from tabgen.formats.base import (
    ALPHABET,
    BAR_MARK,
    EMPTY,
    END_MARK,
    FIRST_ALPHABET,
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
    literal,
    make_bar,
    note_cell,
    parse_cells,
    parse_header,
)
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Note, Tab, Tuning, column_span, is_bar_width, slots_per_bar

BARS_PER_STAVE = 4


def stave_labels(tuning: Tuning) -> list[str]:
    """Labels padded to one width: 'e ', 'C#', ..."""
    labels = tuning.labels()
    pad = max(len(s) for s in labels)
    return [s.ljust(pad) for s in labels]


def stave_sizes(bars: int) -> list[int]:
    full, rest = divmod(bars, BARS_PER_STAVE)
    return [BARS_PER_STAVE] * full + ([rest] if rest else [])


class LineMajor(TextFormat):
    name = "line"

    def __init__(self, version: int = 2) -> None:
        if version not in (1, 2):
            raise TabValueError(f"the line format has versions 1 and 2, not {version}")
        self.version = version
        self.alphabet = ALPHABET if version >= 2 else FIRST_ALPHABET  # 2: ghost notes

    def encode(self, tab: Tab, style: str | None = None) -> str:
        tab = normalize(tab)
        labels = stave_labels(tab.tuning)
        staves = []
        for first in range(0, len(tab.bars), BARS_PER_STAVE):
            rows = [[lab, BAR_MARK] for lab in labels]
            for bar in tab.bars[first : first + BARS_PER_STAVE]:
                cells = [[EMPTY] * bar.width for _ in labels]
                for col in bar.columns:
                    for note in col.notes:
                        cells[note.string - 1][col.position] = note_cell(note, self.alphabet)
                for row, row_cells in zip(rows, cells, strict=True):
                    row.extend(row_cells)
                    row.append(BAR_MARK)
            staves.append("".join("".join(r) + "\n" for r in rows))
        return self.header(tab.tuning, tab.meter) + "\n".join(staves) + END_MARK + "\n"

    def decode(self, text: str, max_span: int | None = None) -> Decoded:
        header, body, _, problems = body_lines(text)
        staves: list[list[str]] = [[]]
        for line in body:
            if line:
                staves[-1].append(line)
            elif staves[-1]:
                staves.append([])
        staves = [s for s in staves if s]
        # the first line of a stave says how many bars it has (an unclosed last bar counts too);
        # a bar is valid when every string line holds it, closed, with the same number of slots
        sizes = [len(_split_line(s[0])[1]) for s in staves]
        total = sum(sizes)
        try:
            tuning, meter, _ = parse_header(header or "")
        except TabValueError as e:
            if header is not None:
                problems.append(str(e))
            return Decoded(None, total, 0, problems)
        slots = slots_per_bar(meter)
        labels = [s.strip() for s in stave_labels(tuning)]
        bars, valid, bar_no = [], 0, 0
        for k, (stave, size) in enumerate(zip(staves, sizes, strict=True), start=1):
            stave_problems = []
            if len(stave) != tuning.strings:
                stave_problems.append(f"stave {k}: {len(stave)} lines for {tuning.strings} strings")
            split = [_split_line(line) for line in stave[: tuning.strings]]
            for i, (label, segments, _) in enumerate(split):
                if label.strip() != labels[i]:
                    stave_problems.append(f"stave {k} line {i + 1}: label {label!r}, not {labels[i]!r}")
                if len(segments) > size:
                    stave_problems.append(f"stave {k} line {i + 1}: {len(segments)} bars, not {size}")
            problems += stave_problems
            for j in range(size):
                bar_no += 1
                bar_problems = []
                notes_by_slot: dict[int, list[Note]] = {}
                width = len(parse_cells(split[0][1][j] if j < len(split[0][1]) else "")[0]) or slots
                if not is_bar_width(width, slots):
                    bar_problems.append(f"bar {bar_no}: {width} slots, not {slots} (or 2, 4, ... times)")
                for i, (_, segments, closed) in enumerate(split):
                    if j >= len(segments) - (0 if closed else 1):
                        bar_problems.append(f"bar {bar_no} string {i + 1}: missing, or no '|' after it")
                    cells, cell_problems = parse_cells(segments[j] if j < len(segments) else "")
                    bar_problems += [f"bar {bar_no} string {i + 1}: {p}" for p in cell_problems]
                    if len(cells) != width:
                        bar_problems.append(f"bar {bar_no} string {i + 1}: {len(cells)} slots, not {width}")
                    for s, c in enumerate(cells[:width]):
                        if c is not None:
                            notes_by_slot.setdefault(s, []).append(Note(i + 1, c.fret, c.technique))
                if max_span is not None:
                    for s, notes in sorted(notes_by_slot.items()):
                        if column_span([n.fret for n in notes]) > max_span:
                            bar_problems.append(
                                f"bar {bar_no} slot {s + 1}: fretted notes span more than {max_span}"
                            )
                bars.append(make_bar(width, notes_by_slot))
                problems += bar_problems
                valid += 0 if bar_problems or stave_problems else 1
        return Decoded(Tab(tuning, tuple(bars), meter), total, valid, problems)

    def prime(self, tab: Tab, bars: int, style: str | None = None) -> str:
        """As TextFormat.prime, but only whole staves: string lines are written one after another,
        so the bars of a stave that the model is to finish cannot be given (they are dropped)."""
        check_bars(bars)
        keep = len(tab.bars) if len(tab.bars) >= bars else len(tab.bars) // BARS_PER_STAVE * BARS_PER_STAVE
        text = self.encode(Tab(tab.tuning, tab.bars[: min(keep, bars)], tab.meter))
        if keep >= bars:
            return text
        return text[: -len(END_MARK) - 1] + ("\n" if keep else "")  # the blank line before the next stave

    def bars_in(self, text: str) -> int:
        bars, at_stave_start = 0, True
        for line in text.split("\n"):
            if not line or line == END_MARK or line.startswith("%"):
                at_stave_start = True
            elif at_stave_start:
                label, segments, closed = _split_line(line)
                bars += len(segments) - (0 if closed else 1)
                at_stave_start = False
        return bars

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
        return Grammar(book, _program(book, self.header(tuning, meter), stave_labels(tuning), widths, bars))


def _split_line(line: str) -> tuple[str, list[str], bool]:
    """'e|0--|-1-|' -> ('e', ['0--', '-1-'], True): the label, the bars' cells, closed by '|'."""
    label, _, rest = line.partition(BAR_MARK)
    if not rest:
        return label, [], True
    segments = rest.split(BAR_MARK)
    closed = segments[-1] == ""
    return label, segments[:-1] if closed else segments, closed


def _program(book: MaskBook, header: str, labels: list[str], widths: frozenset[int], bars: int) -> Program:
    yield from literal(book, header)
    sizes, widest = stave_sizes(bars), max(widths)
    for k, size in enumerate(sizes):
        # the fretted span of each column so far (lowest, highest; 0: none), one list per bar;
        # the first string line decides each bar's width (the grid, or a finer one)
        lows: list[list[int]] = [[] for _ in range(size)]
        highs: list[list[int]] = [[] for _ in range(size)]
        for i, label in enumerate(labels):
            yield from literal(book, label + BAR_MARK)
            for lo, hi in zip(lows, highs, strict=True):
                j, tech = 0, False
                while True:
                    if i == 0 and j == widest:
                        mask = book.one(BAR_MARK, tech)
                    elif i == 0:
                        mask = book.cell(0, 0, dash=True, newline=False, tech=tech, bar=j in widths)
                    elif j == len(lo):
                        mask = book.one(BAR_MARK, tech)
                    else:
                        mask = book.cell(lo[j], hi[j], dash=True, newline=False, tech=tech)
                    ch = yield mask
                    if ch in TECH_OF:
                        tech = False
                        continue
                    if ch == BAR_MARK:
                        break
                    tech = ch != EMPTY
                    f = FRET_OF[ch] if tech else 0
                    if i == 0:
                        lo.append(f)
                        hi.append(f)
                    elif f:
                        lo[j], hi[j] = (min(lo[j], f) if lo[j] else f), max(hi[j], f)
                    j += 1
            yield book.one("\n")
        if k < len(sizes) - 1:
            yield book.one("\n")
    yield from literal(book, END_MARK + "\n")
