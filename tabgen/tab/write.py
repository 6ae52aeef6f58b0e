"""`Tab` to ASCII stave text, the form a guitarist reads. Used by normalize, render and the corpus.

Layout of one bar: every column gets a cell of the same width ``k``. A cell starts with a lead
character (``-``, or a prefix technique such as ``h`` in ``5h7``, or ``<`` of a harmonic, ``(`` of a
ghost note), then the fret digits, then any suffix (``~``, ``g``, ``>``, ``)``), then dashes. The
digits of a column all start at the same character offset, which is the column's position when the
text is parsed back.

A tab whose columns already sit at character offsets (a parsed tab) is written at those offsets
when they fit; otherwise (a grid tab) each position ``p`` becomes offset ``p * k + 1``.

Above a stave go the lines the parser reads back as annotations: ``x3`` over the closing bar line
of a bar played three times (``:|`` alone means twice), and a ``PM--`` line over runs of columns
holding palm-muted notes. Palm muting is marked per column, so in a column with a palm-muted note
every plain note reads back palm-muted.
"""

from __future__ import annotations

from collections.abc import Callable

from tabgen.tab.types import Bar, Column, Note, Tab, pitch_name

PREFIX_TECHNIQUES = frozenset({"h", "p", "b", "r", "/", "\\", "s", "t"})
SUFFIX_TECHNIQUES = frozenset({"~", "g"})


def note_token(note: Note) -> tuple[str, str, str]:
    """A note as (lead, digits, suffix): Note(1, 7, 'h') -> ('h', '7', '')."""
    t = note.technique
    digits = "x" if t == "x" else str(note.fret)
    if t in PREFIX_TECHNIQUES:
        return t, digits, ""
    if t == "<>":
        return "<", digits, ">"
    if t == "[]":
        return "[", digits, "]"
    if t == "()":
        return "(", digits, ")"
    if t in SUFFIX_TECHNIQUES:
        return "", digits, t
    return "", digits, ""


def _cell_width(bar: Bar) -> int:
    body = [len(d) + len(s) for n in bar.notes for _, d, s in [note_token(n)]]
    return max([1, *body]) + 1


def _fits_at_offsets(bar: Bar, strings: int) -> bool:
    """True when every note's lead, digits and suffix fit at its offset without touching others."""
    ends = [0] * (strings + 1)  # first free offset on each string
    for col in bar.columns:
        for n in col.notes:
            lead, digits, suffix = note_token(n)
            start = col.position - len(lead)
            # a digit directly after digits would read as one number; keep a gap unless a lead sits between
            if start < ends[n.string] or (not lead and col.position == ends[n.string] and ends[n.string]):
                return False
            ends[n.string] = col.position + len(digits) + len(suffix)
    if max(ends) > bar.width:
        return False
    # a PM mark must not reach over a column that is not palm-muted
    spans = _palm_mute_spans(bar, lambda p: p)
    return not any(lo <= c.position < hi for c in bar.columns if not _muted(c) for lo, hi in spans)


def _muted(col: Column) -> bool:
    return any(n.technique == "pm" for n in col.notes)


def _palm_mute_spans(bar: Bar, offset: Callable[[int], int]) -> list[tuple[int, int]]:
    """Offsets [lo, hi) of the PM marks over runs of palm-muted columns (at least 2 wide for "PM")."""
    spans: list[tuple[int, int]] = []
    run: list[Column] = []
    for col in [*bar.columns, None]:
        if col is not None and _muted(col):
            run.append(col)
            continue
        if run:
            lo = offset(run[0].position)
            digits = max(len(note_token(n)[1]) for n in run[-1].notes if n.technique == "pm")
            spans.append((lo, max(lo + 2, offset(run[-1].position) + digits)))
            run = []
    return spans


def _layout(bar: Bar, strings: int) -> tuple[int, Callable[[int], int]]:
    """The bar's width in characters and the character offset of each position."""
    if _fits_at_offsets(bar, strings):
        return bar.width, (lambda p: p)
    k = _cell_width(bar)
    return bar.width * k, (lambda p: p * k + 1)


def bar_lines(bar: Bar, strings: int) -> list[str]:
    """One bar's cells for each string, highest string first, without bar lines."""
    width, offset = _layout(bar, strings)
    rows = [["-"] * width for _ in range(strings)]
    for col in bar.columns:
        at = offset(col.position)
        for n in col.notes:
            lead, digits, suffix = note_token(n)
            row = rows[n.string - 1]
            text = lead + digits + suffix
            start = at - len(lead)
            row[start : start + len(text)] = text
    return ["".join(r) for r in rows]


def header_lines(tab: Tab) -> list[str]:
    """Metadata lines the parser reads back: Title, Meter, Tuning and any other fields."""
    lines = []
    if tab.title:
        lines.append(f"Title: {tab.title}")
    if tab.meter:
        lines.append(f"Meter: {tab.meter[0]}/{tab.meter[1]}")
    lines.append("Tuning: " + " ".join(pitch_name(p) for p in reversed(tab.tuning.pitches)))
    lines.extend(f"{k.capitalize()}: {v}" for k, v in tab.meta)
    return lines


def _stave_lines(labels: list[str], bars: list[tuple[Bar, list[str]]]) -> list[str]:
    """One stave: an optional repeat-count line (``x3`` over the closing bar line), an optional
    PM line over palm-muted columns, then the string lines."""
    rows = list(labels)
    marks = [" "] * len(labels[0])
    counts = [" "] * len(labels[0])
    for bar, cells in bars:
        open_mark = ":" if bar.repeat_start else ""
        close_mark = ":" if bar.repeat_end else ""
        start = len(rows[0]) + len(open_mark)
        rows = [r + open_mark + cell + close_mark + "|" for r, cell in zip(rows, cells, strict=True)]
        marks += [" "] * (len(rows[0]) - len(marks))
        counts += [" "] * (len(rows[0]) - len(counts))
        if any(n.technique == "pm" for n in bar.notes):
            _, offset = _layout(bar, len(labels))
            for lo, hi in _palm_mute_spans(bar, offset):
                mark = "PM" + "-" * (hi - lo - 2)
                marks[start + lo : start + hi] = mark
        if bar.repeat_end not in (0, 2):
            text = f"x{bar.repeat_end}"
            closing = len(rows[0]) - 1
            counts[closing : closing + len(text)] = text
    out = []
    if "".join(counts).strip():
        out.append("".join(counts).rstrip())
    if "".join(marks).strip():
        out.append("".join(marks).rstrip())
    return out + rows


def to_text(tab: Tab, width: int = 80, header: bool = True) -> str:
    """The whole tab as stave text, wrapped so that no line is much longer than `width`."""
    labels = tab.tuning.labels()
    pad = max(len(s) for s in labels)
    labels = [s.ljust(pad) + "|" for s in labels]
    strings = tab.tuning.strings
    staves: list[list[tuple[Bar, list[str]]]] = []
    current: list[tuple[Bar, list[str]]] = []
    length = len(labels[0])
    for bar in tab.bars:
        cells = bar_lines(bar, strings)
        if current and length + len(cells[0]) + 2 > width:
            staves.append(current)
            current, length = [], len(labels[0])
        current.append((bar, cells))
        length += len(cells[0]) + 1 + bool(bar.repeat_start) + bool(bar.repeat_end)
    if current or not staves:
        staves.append(current)
    out = header_lines(tab) + [""] if header else []
    for stave in staves:
        out.extend(_stave_lines(labels, stave))
        out.append("")
    return "\n".join(out)
