"""Text a person would call a guitar tab to `Tab`s (one per stave) plus `Diagnostic`s.

How a text is read:

1. Lines. A *string line* is an optional label (``e``, ``B``, ``F#``, ``Eb``, German ``H``, any case)
   with a separator (``|``, ``||``, ``:|``, ``-`` or a space before ``|``), then a body that is mostly
   dashes, digits, bar lines and technique marks (at least 60 % such characters, at most 20 %
   spaces, and at least 3 dashes unless the line is labelled and closed by a bar line, as a short
   bar ``e|<12>|`` is). A *stave* is a run of 4 to 8 consecutive string lines; longer runs are
   split, ragged ends (a stray line of dashes) trimmed. Staves of nothing but ``x`` (drum tabs)
   and staves holding more letters of words than notes are not read. Everything else (chord
   names, lyrics, rhythm, count and fingering lines, prose) is no stave, but header lines
   (``Title:``, ``Meter:``, ``Key:``, ``Source:``, ``Tuning:``, ...) set the metadata of the staves
   below them; a new ``Title:`` starts a new piece.
2. Bars. Each line's body is cut at its bar lines (runs of ``|``), so a line one dash longer than
   its neighbours still gives the same bars (with a diagnostic). Repeat marks next to a bar line
   (``|:`` ``:|`` ``||o`` ``o||`` ``*|`` ``|*``) set `Bar.repeat_start`/`repeat_end`; marks written
   on every line are not part of the bar's width, marks on some lines (the dots on the middle
   strings) count as dashes. ``xN`` above the stave or after its last bar line sets ``repeat_end=N``.
3. Notes. In each bar of each line, tokens are: ``<12>`` natural and ``[12]`` artificial harmonics,
   ``(5)`` ghost notes,
   a run of digits with an optional connecting technique before it (``h p b r / \\ s``, ``t`` for
   tapped, ``g`` for a grace note as in ``g0h1``) and an optional ``~`` (vibrato) or ``g`` (grace)
   after it, and ``x``/``X`` (dead note,
   fret 0). A note's position is the character offset in its bar where its digits start. A
   ``PM---`` line above (or below) the stave palm-mutes the plain notes under it.

The one rule for digit runs (ambiguous ``222``, ``101310``, ``35``):

* two digits form one fret when they read 10..24 (``12``); otherwise (``35``, ``05``) two frets;
* three or more digits: a run of one repeated digit (``222``, ``5555``) is that fret repeated, one
  note per character (tremolo); otherwise, when the run cuts into pairs that all read 10..24
  (``101310`` -> 10 13 10), those are the frets; otherwise each digit is a fret (``353`` -> 3 5 3).

Every run of two or more digits read as several notes gets a diagnostic naming what was read.

Tuning: from the labels (octaves inferred, see `tabgen.tab.labels`); a ``Tuning:`` line with the
same pitch classes (or an unlabelled stave of the same size) gives its exact octaves; an unlabelled
stave takes the tuning of the piece's previous stave of the same size, else the usual tuning for
its string count. The parser never normalizes: positions are character offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from tabgen import collector
from tabgen.errors import TabgenError
from tabgen.tab.decode import unwrap
from tabgen.tab.labels import parse_tuning, same_classes, tuning_from_labels
from tabgen.tab.types import MAX_FRET, MAX_STRINGS, MIN_STRINGS, Bar, Column, Note, Tab, Tuning

try:  # the per-character loops compiled (tabgen/tab/_scan.c); same results, several times faster
    from tabgen.tab import _scan
except ImportError:  # built without a C compiler: the same rules in pure Python
    _scan = None  # type: ignore[assignment]  # (the checker reads the C part from _scan.pyi)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something the reader noticed: 1-based line and column in the file (column 0: whole line)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path or '<text>'}:{self.line}"
        if self.column:
            where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass
class ParseResult:
    """The staves read, in reading order, and what was noticed on the way."""

    tabs: list[Tab] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# --- line classification ---------------------------------------------------------------------

# indent, then either a label with its separator, or bare bar lines
_HEAD = re.compile(r"( *)(?:([A-Ha-h][#b]?)( ?-?:?\|+| ?:\|*|-)|(\|+))?")
_BARE_START = frozenset("-0123456789<[")
_SPACED_WORD = re.compile(r"\s[A-Za-z]{2}")
_STAVE_CHARS = str.maketrans("", "", "-|0123456789~=<>[]()/\\hpbrstxX*:")


@dataclass(slots=True)
class _Line:
    index: int  # 0-based line index in the text
    label: str | None
    start: int  # column where the body starts
    body: str  # without trailing spaces
    opened: bool  # a bar line sits right before the body
    length: int  # of the body without a remark after its last bar line
    other: int  # characters in it that are no stave characters (letters of words, ...)
    words: int  # letters in it that make words of three or more


_LABEL, _OTHER, _WORDS = attrgetter("label"), attrgetter("other"), attrgetter("words")


def _goes_on(after: str) -> bool:
    """Text after a line's last bar line is more bar (``|--0--``), not a remark (``|  Fine``, ``|10``)."""
    return "-" in after and " " not in after


def _events(lines: list[str]) -> Iterator[_Line | int]:
    """The lines worth a look, in order: a stave line's _Line, or the index of another line that
    may be a header line. What `_scan.classify` gives, in Python."""
    for i, text in enumerate(lines):
        found = _py_string_line(i, text) if "-" in text else None
        if found is not None:
            yield found
        elif ":" in text or "/" in text:
            yield i


def _string_line(index: int, text: str) -> _Line | None:
    """The line as a string line of a stave, or None."""
    if _scan is not None:
        found = _scan.string_line(text)
        if found is not NotImplemented:  # (the C loop reads ASCII lines only)
            return None if found is None else _Line(index, *found)
    return _py_string_line(index, text)


def _py_string_line(index: int, text: str) -> _Line | None:
    m = _HEAD.match(text)
    assert m is not None  # every part of _HEAD is optional: it matches any line
    start = m.end()
    body = text[start:].rstrip()
    n = len(body)
    if n < 3 or body[0] == " ":
        return None
    _, label, sep, bars = m.groups()
    if label is None and bars is None and body[0] not in _BARE_START:
        return None
    # a labelled line closed by a bar line may be a short bar of notes ("e|<12>|"); others need dashes
    if body.count("-") < 3 and not ((label is not None or bars is not None) and body[-1] == "|"):
        return None
    core = body
    last = body.rfind("|")
    if 0 < last < n - 1 and not _goes_on(body[last + 1 :]):
        core = body[: last + 1]  # a remark after the last bar line ("||  D.C. al Fine") is no stave text
        n = len(core)
    other = len(core.translate(_STAVE_CHARS))
    if other * 5 > n * 2 or core.count(" ") * 5 > n:
        return None
    if " " in core and _SPACED_WORD.search(core):
        return None  # prose with dashes ("- CVE-2024-21208", "success (2003-08-08)")
    opened = bars is not None or (sep is not None and sep.endswith("|"))
    words = sum(map(len, _WORD.findall(core)))
    return _Line(index, label, start, body, opened, n, other, words)


# --- header lines ------------------------------------------------------------------------------

_KEYS = (
    "time signature|key signature|title|meter|time|key|source|tuning|artist|composer|album|"
    "author|arranger|capo|tempo|subtitle|license|style"
)
_HEADER = re.compile(
    rf"(?:^|(?<=\s\s))\s*({_KEYS})\s*:\s*(.*?)\s*(?=\s\s+(?:{_KEYS})\s*:|$)",
    re.IGNORECASE,
)
# every key contains one of these: a line without any of them is no header line
_HEADER_WORDS: tuple[str, ...] = ("title", "meter", "time", "key", "source", "tuning", "artist")
_HEADER_WORDS += ("composer", "album", "author", "arranger", "capo", "tempo", "license", "style")
_METER_LINE = re.compile(r"\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s+time)?\s*", re.IGNORECASE)
_METER = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})")
_KEY_ALIASES = {"time signature": "meter", "time": "meter", "key signature": "key"}


@dataclass
class _Context:
    """Metadata in force at the current line: what the staves below it carry."""

    title: str = ""
    meter: tuple[int, int] | None = None
    tuning: Tuning | None = None
    meta: list[tuple[str, str]] = field(default_factory=list)
    previous: dict[int, Tuning] = field(default_factory=dict)  # string count -> last tuning


def _meter(value: str) -> tuple[int, int] | None:
    m = _METER.search(value)
    if not m:
        return None
    beats, unit = int(m.group(1)), int(m.group(2))
    if beats < 1 or unit not in (1, 2, 4, 8, 16, 32):
        return None
    return beats, unit


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.lines = unwrap(text).split("\n")
        self.path = path
        self.ctx = _Context()
        self.result = ParseResult()
        self.tokens: list[dict[str, Token]] = [{} for _ in range(MAX_STRINGS + 1)]  # per string

    def diag(self, index: int, column: int, message: str) -> None:
        self.result.diagnostics.append(Diagnostic(self.path, index + 1, column, message))

    # header lines -------------------------------------------------------------------------------

    def header(self, index: int, text: str) -> None:
        if ":" in text:
            if text.isascii():  # (case folds no other character onto an ASCII letter then)
                lower = text.lower()
                if not any(word in lower for word in _HEADER_WORDS):
                    return  # the usual line with a colon: no header key in it, and no regex run
            for m in _HEADER.finditer(text):
                self.field(index, m.group(1).lower(), m.group(2))
        elif "/" in text:
            if _METER_LINE.fullmatch(text):
                meter = _meter(text)
                if meter:
                    self.ctx.meter = meter

    def field(self, index: int, key: str, value: str) -> None:
        key = _KEY_ALIASES.get(key, key)
        if not value:
            return
        ctx = self.ctx
        if key == "title":
            self.ctx = _Context(title=value)
        elif key == "meter":
            meter = _meter(value)
            if meter is None:
                self.diag(index, 0, f"cannot read the meter {value!r}; expected like 3/4")
            else:
                ctx.meter = meter
        elif key == "tuning":
            try:
                ctx.tuning = parse_tuning(value)
            except TabgenError as e:
                self.diag(index, 0, f"{e}; the tuning comes from the stave labels")
        elif any(k == key for k, _ in ctx.meta):  # given again (a second piece without a Title:)
            ctx.meta = [(k, value if k == key else v) for k, v in ctx.meta]
        else:
            ctx.meta.append((key, value))

    # the main loop ------------------------------------------------------------------------------

    def read(self) -> ParseResult:
        lines = self.lines
        run: list[_Line] = []  # consecutive stave lines
        for found in _scan.classify(lines, _Line) if _scan is not None else _events(lines):
            if found.__class__ is not _Line:
                if found.__class__ is tuple:  # a line the C loop does not read (not ASCII)
                    i = found[0]
                    found = _py_string_line(i, lines[i])
                else:  # a line that may be a header line
                    i, found = found, None
                if found is None:
                    if run:
                        self.staves(run)
                        run = []
                    self.header(i, lines[i])
                    continue
            if run and run[-1].index != found.index - 1:
                self.staves(run)
                run = []
            run.append(found)
        if run:
            self.staves(run)
        return self.result

    def staves(self, run: list[_Line]) -> None:
        if MIN_STRINGS <= len(run) <= MAX_STRINGS and len({s.length for s in run}) == 1:
            self.stave(run)  # the usual run: one stave, nothing to trim or split
            return
        for stave in self.split_run(run):
            self.stave(stave)

    def split_run(self, run: list[_Line]) -> list[list[_Line]]:
        """A run of string lines to staves of 4..8 lines."""
        if len(run) < MIN_STRINGS:
            return []
        run = _trim(run)
        if len(run) <= MAX_STRINGS:
            return [run] if len(run) >= MIN_STRINGS else []
        labels = [s.label for s in run]
        # the stave size: the period of the labels where they repeat (e B G D A E e B ...), else a
        # size that divides the run, else 6
        periods = [k for k in range(MIN_STRINGS, MAX_STRINGS + 1) if len(run) % k == 0]
        size = next((k for k in periods if None not in labels and labels == labels[:k] * (len(run) // k)), 0)
        size = size or next((k for k in (6, 4, 7, 8, 5) if k in periods), 6)
        groups = [run[k : k + size] for k in range(0, len(run), size)]
        good = [g for g in groups if MIN_STRINGS <= len(g) <= MAX_STRINGS]
        self.diag(
            run[0].index,
            0,
            f"{len(run)} stave lines in a row; read as staves of {'/'.join(str(len(g)) for g in good)} lines",
        )
        return good

    # one stave ----------------------------------------------------------------------------------

    def annotation_lines(self, stave: list[_Line]) -> list[tuple[int, str]]:
        """Non-stave lines right above (two) and below (one) the stave: PM and xN lines."""
        lines = self.lines
        top, bottom = stave[0].index, stave[-1].index
        found = []
        for k in (top - 1, top - 2):
            if k < 0 or not lines[k].strip():
                break
            found.append((k, lines[k]))
        k = bottom + 1
        if k < len(lines) and lines[k].strip() and _PM_LINE.fullmatch(lines[k]):
            # a PM line between two staves belongs to the one below it
            below = k + 1 < len(lines) and _string_line(k + 1, lines[k + 1]) is not None
            if not below:
                found.append((k, lines[k]))
        return found

    def stave(self, stave: list[_Line]) -> None:
        try:
            tab = _StaveReader(self, stave).read()
        except TabgenError as e:  # a value the tab model rejects: this stave is skipped, not the file
            self.diag(stave[0].index, 0, f"stave not read: {e}")
            return
        if tab is not None:
            self.result.tabs.append(tab)


def _trim(run: list[_Line]) -> list[_Line]:
    """Drop lines at either end of a run that do not match the rest (a stray rule of dashes)."""
    if len({s.length for s in run}) == 1:
        return run  # the usual case: all lines as long as each other
    lengths = sorted(s.length for s in run)
    median = lengths[len(lengths) // 2]
    bars = sorted(s.body.count("|") for s in run)
    median_bars = bars[len(bars) // 2]

    def odd(s: _Line) -> bool:
        if abs(s.length - median) > max(4, median // 4):
            return True
        return median_bars >= 2 and s.body.count("|") == 0

    while len(run) > MIN_STRINGS and odd(run[-1]):
        run = run[:-1]
    while len(run) > MIN_STRINGS and odd(run[0]):
        run = run[1:]
    return run


# --- notes ---------------------------------------------------------------------------------------

# a gap, then a token: (prefix) digits (suffix) | <natural harmonic> | [artificial harmonic] | (ghost note)
# | dead | stray
_TOKENS = re.compile(r"([^hpbr/\\stg\d<\[(xX]*)([hpbr/\\stg]?\d+[~g]?|<\d+>|\[\d+\]|\(\d+\)|[xX]|.)")
_ENCLOSED = {"<": "<>", "[": "[]", "(": "()"}  # <12> natural, [12] artificial harmonic, (5) ghost note
# a token's notes as (offset in the token, note), and a diagnostic or ""
Token = tuple[tuple[tuple[int, Note], ...], str]

# Every note the reader can make, made once (notes are immutable: shared). The C loop gets the plain
# ones as a list, at ((string - 1) * 15 + technique) * 25 + fret; "pm" comes from a palm-mute line.
SCAN_TECHNIQUES = ("", "h", "p", "b", "r", "/", "\\", "s", "t", "~", "g", "<>", "[]", "x", "()")
_NOTES: dict[tuple[int, int, str], Note] = {
    (string, fret, technique): Note(string, fret, technique)
    for string in range(1, MAX_STRINGS + 1)
    for technique in (*SCAN_TECHNIQUES, "pm")
    for fret in range(MAX_FRET + 1)
}
_SCAN_NOTES = [
    _NOTES[(string, fret, technique)]
    for string in range(1, MAX_STRINGS + 1)
    for technique in SCAN_TECHNIQUES
    for fret in range(MAX_FRET + 1)
]
_new = object.__new__
_set = object.__setattr__  # (the classes are frozen: their own __setattr__ refuses)


def _note(string: int, fret: int, technique: str) -> Note:
    return _NOTES[(string, fret, technique)]  # (every fret the reader makes is <= MAX_FRET)


def _column(position: int, notes: list[Note]) -> Column:
    """A Column without re-running its checks: the reader builds it sorted by string at a
    position >= 0 (skipping __post_init__ more than halves the cost of a column)."""
    column = _new(Column)
    _set(column, "position", position)
    _set(column, "notes", tuple(notes))
    return column


def _bar(width: int, columns: tuple[Column, ...], repeat_start: bool, repeat_end: int) -> Bar:
    """A Bar without re-running its checks: the reader's columns increase and lie inside it."""
    bar = _new(Bar)
    _set(bar, "width", width)
    _set(bar, "columns", columns)
    _set(bar, "repeat_start", repeat_start)
    _set(bar, "repeat_end", repeat_end)
    return bar


def _tab(
    tuning: Tuning,
    bars: tuple[Bar, ...],
    meter: tuple[int, int] | None,
    title: str,
    meta: tuple[tuple[str, str], ...],
    line: int,
) -> Tab:
    """A Tab without re-running its checks: the tuning has one string per stave line and the
    meter passed `_meter`."""
    tab = _new(Tab)
    fields = {"tuning": tuning, "bars": bars, "meter": meter, "title": title, "meta": meta, "line": line}
    for name, value in fields.items():
        _set(tab, name, value)
    return tab


_MARKS = ":*o"
_PM_LINE = re.compile(r"[\s|]*(?:P\.?M\.?[-_.=~|\s]*)+")
_PM_SPAN = re.compile(r"P\.?M\.?[-_.=~]*\|?")
_REPEAT_COUNT = re.compile(r"(?<![A-Za-z0-9])[xX](\d{1,2})(?![A-Za-z0-9])")
_WORD = re.compile(r"[A-Za-z]{3,}")
_PARENS = str.maketrans("", "", "()")


_MISALIGNED = "bar lines do not line up with the other lines of the stave"


def _bar_length(bar: int, difference: int) -> str:
    what = "longer" if difference > 0 else "shorter"
    return f"bar {bar + 1} is {abs(difference)} character(s) {what} on this line"


def split_digits(run: str) -> tuple[list[tuple[int, int]], str | None]:
    """A run of digits to (offset, fret) pairs by the module's rule, and a diagnostic if ambiguous."""
    n = len(run)
    if n == 1:
        return [(0, int(run))], None
    if n == 2:
        value = int(run)
        if run[0] != "0" and value <= MAX_FRET:
            return [(0, value)], None
        return [(0, int(run[0])), (1, int(run[1]))], f"{run!r} read as frets {run[0]} and {run[1]}"
    if run.count(run[0]) == n:
        return [(k, int(run[0])) for k in range(n)], f"{run!r} read as fret {run[0]} repeated {n} times"
    pairs = [run[k : k + 2] for k in range(0, n, 2)]
    if n % 2 == 0 and all(p[0] != "0" and 10 <= int(p) <= MAX_FRET for p in pairs):
        frets = [int(p) for p in pairs]
        return [(2 * k, f) for k, f in enumerate(frets)], f"{run!r} read as frets {' '.join(pairs)}"
    return [(k, int(c)) for k, c in enumerate(run)], f"{run!r} read as frets {' '.join(run)}"


def _counts_at_closing_bars(bars: list[Bar]) -> int:
    """A single digit 2..9 on the top line right before a closing repeat (``----4|`` over ``*|``
    on the middle strings) is how many times the bar is played, not a note: bars[j] gets it as
    its repeat count. The number of such digits."""
    found = 0
    for j, bar in enumerate(bars):
        if bar.repeat_end != 2 or not bar.columns:
            continue
        last = bar.columns[-1]
        if last.position != bar.width - 1 or len(last.notes) != 1:
            continue
        note = last.notes[0]
        if note.string != 1 or note.technique or not 2 <= note.fret <= 9:
            continue
        if len(bar.columns) > 1 and bar.columns[-2].position == bar.width - 2:
            continue  # a digit right before it on another string: a chord written tight, not a count
        bars[j] = _bar(bar.width, bar.columns[:-1], bar.repeat_start, note.fret)
        found += 1
    return found


class _StaveReader:
    def __init__(self, reader: _Reader, lines: list[_Line]) -> None:
        self.reader = reader
        self.lines = lines
        self.strings = len(lines)
        starts = {s.start for s in lines}
        if len(starts) > 1 and len({s.start + s.length for s in lines}) == 1:
            # labels of different widths ("F#-" over "E-") with bar lines that line up: the
            # bars start at one column for all lines
            common = max(starts)
            for s in lines:
                s.body, s.length, s.start = s.body[common - s.start :], s.length - (common - s.start), common

    def diag(self, index: int, column: int, message: str) -> None:
        self.reader.diag(index, column, message)

    @staticmethod
    def segments(line: _Line) -> tuple[list[tuple[int, int]], str]:
        """Body offsets (start, end) of the line's bars, and any text after its last bar line."""
        if _scan is not None:
            found = _scan.segments(line.body)
            if found is not NotImplemented:
                return found
        pieces = line.body.split("|")
        last = len(pieces) - 1
        segs: list[tuple[int, int]] = []
        pos = 0
        for k, piece in enumerate(pieces):
            n = len(piece)
            if k == last:
                # after the last bar line: more bar when it goes on with dashes, else a remark
                if piece and (not last or _goes_on(piece)):
                    segs.append((pos, pos + n))
                    piece = ""
                return segs, piece
            if n and not piece.isspace():
                segs.append((pos, pos + n))
            pos += n + 1
        return segs, ""  # pragma: no cover - split always gives a last piece

    def read(self) -> Tab | None:
        lines = self.lines
        annotations = self.reader.annotation_lines(lines)
        pm = self.palm_mute_spans(annotations) if annotations else []
        fast = None
        if _scan is not None and not pm:
            fast = _scan.stave(lines, _SCAN_NOTES, Column, Bar)
        if fast is not None and fast is not NotImplemented:
            # read in C, exactly as bars_and_notes reads it (the tests compare the two)
            segs, ref, trailing, bars, notes, dead, reported = fast
            for k, at, what in reported:  # what to report, in the order bars_and_notes reports it
                s = lines[k]
                if what is None:
                    self.diag(s.index, 0, _MISALIGNED)
                elif what.__class__ is str:  # a token read with a diagnostic
                    self.diag(s.index, s.start + at + 1, self.known(k + 1, what)[1])
                else:
                    self.diag(s.index, s.start + at + 1, _bar_length(*what))
            if not bars:
                return None
            self.repeat_counts(bars, segs, lines[ref], trailing, annotations)
            notes -= _counts_at_closing_bars(bars)
            only_dead = notes and dead == notes
        else:
            found = self.bars_and_notes(pm)
            if found is None:
                return None
            bars, notes, segs, ref_line, trailing = found
            if not bars:
                return None
            self.repeat_counts(bars, segs, ref_line, trailing, annotations)
            notes -= _counts_at_closing_bars(bars)
            if sum(s.body.count("-") for s in lines) < 3:
                return None
            only_dead = notes and all(n.technique == "x" for b in bars for c in b.columns for n in c.notes)
        if only_dead and not self.guitar_labels(lines):
            self.diag(lines[0].index, 0, "stave with only x marks looks like a drum tab; not read")
            return None
        words = 0
        if sum(map(_OTHER, lines)) >= 5:  # words have vowels, which are no stave characters
            words = sum(map(_WORDS, lines))
        if words >= 12 and words > notes:
            self.diag(lines[0].index, 0, "stave lines hold words rather than notes; not read")
            return None
        tuning = self.tuning()
        ctx = self.reader.ctx
        ctx.previous[self.strings] = tuning
        return _tab(tuning, tuple(bars), ctx.meter, ctx.title, tuple(ctx.meta), lines[0].index + 1)

    def bars_and_notes(
        self, pm: list[tuple[int, int]]
    ) -> tuple[list[Bar], int, list[tuple[int, int]], _Line, list[str]] | None:
        """The stave's bars and the number of notes read, with the bar spans and the line they were
        taken from and the text after each line's last bar line; None when no line has a bar."""
        lines = self.lines
        cut = [self.segments(s) for s in lines]
        counts = [len(c[0]) for c in cut]
        majority = max(set(counts), key=lambda k: (counts.count(k), k))
        if majority == 0:
            return None
        ref = counts.index(majority)
        spans = []
        for s, (segs, _), count in zip(lines, cut, counts, strict=True):
            if count != majority:
                self.diag(s.index, 0, _MISALIGNED)
                segs = [(a, min(b, len(s.body))) for a, b in cut[ref][0]]
            spans.append(segs)

        bars, notes = self.bars(spans, majority, pm)
        return bars, notes, spans[ref], lines[ref], [c[1] for c in cut]

    def bars(
        self, spans: list[list[tuple[int, int]]], majority: int, pm: list[tuple[int, int]]
    ) -> tuple[list[Bar], int]:
        """The stave's bars, each line's notes sorted into them by offset; the number of notes read."""
        layout = [self.bar_layout(j, spans) for j in range(majority)]
        starts = [[lay[0][i] for lay in layout] for i in range(self.strings)]
        ends = [[lay[1][i] for lay in layout] for i in range(self.strings)]
        columns: list[dict[int, list[Note]]] = [{} for _ in range(majority)]
        notes = 0
        for i, s in enumerate(self.lines):
            notes += self.notes(i + 1, s, starts[i], ends[i], columns, pm)
        bars = []
        for (_, _, width, repeat_start, repeat_end), cols in zip(layout, columns, strict=True):
            if width > 0:
                row = [_column(p, cols[p]) for p in sorted(cols)]
                bars.append(_bar(width, tuple(row), repeat_start, repeat_end))
        return bars, notes

    def bar_layout(
        self, j: int, spans: list[list[tuple[int, int]]]
    ) -> tuple[list[int], list[int], int, bool, int]:
        """Where bar j's content starts and ends on each line (repeat marks taken off), its width
        and its repeat marks."""
        starts, ends = [], []
        open_marks, close_marks = [], []
        for s, segs in zip(self.lines, spans, strict=True):
            body = s.body
            a, b = segs[j] if j < len(segs) else (len(body), len(body))
            starts.append(a)
            ends.append(b)
            open_marks.append(
                b > a and body[a] in _MARKS and ((a > 0 and body[a - 1] == "|") or (a == 0 and s.opened))
            )
            close_marks.append(b > a and body[b - 1] in _MARKS and body[b : b + 1] == "|")
        # marks on every line are not part of the bar; marks on some lines stand where a dash would
        if all(open_marks):
            starts = [a + 1 for a in starts]
        if all(close_marks):
            ends = [b - 1 for b in ends]
        lengths = [b - a for a, b in zip(starts, ends, strict=True)]
        width = max(lengths)
        if width > 0 and min(lengths) != width:
            usual = max(lengths, key=lengths.count)  # the most common; the higher line's when tied
            for s, a, n in zip(self.lines, starts, lengths, strict=True):
                if n != usual:
                    self.diag(s.index, s.start + a + 1, _bar_length(j, n - usual))
        return starts, ends, width, any(open_marks), 2 if any(close_marks) else 0

    def notes(
        self,
        string: int,
        s: _Line,
        starts: list[int],
        ends: list[int],
        columns: list[dict[int, list[Note]]],
        pm: list[tuple[int, int]],
    ) -> int:
        """Read one string line's notes into the bars' columns; the number read."""
        nbars = len(starts)
        count = 0
        j = 0
        start, end = starts[0], ends[0]
        cols = columns[0]
        pos = 0
        for gap, token in _TOKENS.findall(s.body):
            at = pos + len(gap)
            pos = at + len(token)
            notes, message = self.known(string, token)
            if message:
                self.diag(s.index, s.start + at + 1, message)
            for offset, note in notes:
                here = at + offset
                if here >= end:
                    while j < nbars and here >= ends[j]:
                        j += 1
                    if j == nbars:
                        return count
                    start, end, cols = starts[j], ends[j], columns[j]
                if here < start:
                    continue  # on a repeat mark or bar line
                count += 1
                if pm and not note.technique and any(lo <= s.start + here < hi for lo, hi in pm):
                    note = _note(string, note.fret, "pm")
                col = cols.get(here - start)
                if col is None:
                    cols[here - start] = [note]
                else:
                    col.append(note)
        return count

    def known(self, string: int, token: str) -> Token:
        """`token`, looked up first among the tokens this text has read on this string (a text
        repeats its tokens a lot: "0", "2", "h5", "12")."""
        seen = self.reader.tokens[string]
        found = seen.get(token)
        if found is None:
            found = seen[token] = self.token(string, token)
        return found

    @staticmethod
    def token(string: int, token: str) -> Token:
        """The notes of a token as (offset in the token, note), and a diagnostic or ''."""
        first, last = token[0], token[-1]
        if first in _ENCLOSED:
            if len(token) < 3 or last not in ">])":
                return (), ""  # a stray bracket
            fret = int(token[1:-1])
            technique = _ENCLOSED[first]
            if fret > MAX_FRET:
                what = "ghost note" if technique == "()" else "harmonic"
                return (), f"{what} at fret {fret} is beyond fret {MAX_FRET}; skipped"
            return ((1, _note(string, fret, technique)),), ""
        if first in "xX" and len(token) == 1:
            return ((0, _note(string, 0, "x")),), ""
        prefix = "" if first.isdigit() else first
        suffix = "" if last.isdigit() else last
        digits = token[len(prefix) : len(token) - len(suffix)]
        if not digits.isdigit():
            return (), ""  # a stray technique letter
        at = len(prefix)
        if len(digits) == 1:
            return ((at, _note(string, int(digits), prefix or suffix)),), ""
        parts, message = split_digits(digits)
        found: list[list[Any]] = [[at + k, f, ""] for k, f in parts]
        if prefix:
            found[0][2] = prefix
        if suffix and not found[-1][2]:
            found[-1][2] = suffix
        return tuple((k, _note(string, f, t)) for k, f, t in found), message or ""

    @staticmethod
    def palm_mute_spans(annotations: list[tuple[int, str]]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for _, text in annotations:
            if "PM" in text or "P.M" in text:
                if _PM_LINE.fullmatch(text):
                    spans.extend(m.span() for m in _PM_SPAN.finditer(text))
        return spans

    @staticmethod
    def repeat_counts(
        bars: list[Bar],
        segs: list[tuple[int, int]],
        ref: _Line,
        trailing: list[str],
        annotations: list[tuple[int, str]],
    ) -> None:
        """xN above the stave (at a closing bar line) or after its last bar line."""
        found: dict[int, int] = {}
        for text in trailing:
            m = _REPEAT_COUNT.search(text) if text else None
            if m:
                found[len(bars) - 1] = int(m.group(1))
        for _, text in annotations:
            if (
                ("x" in text or "X" in text)
                and _REPEAT_COUNT.search(text)
                and not _REPEAT_COUNT.sub("", text).translate(_PARENS).strip()  # "x3" or "(x3)"
            ):
                closing = [ref.start + b for _, b in segs][: len(bars)]
                for m in _REPEAT_COUNT.finditer(text):
                    c = m.start()
                    j = min(range(len(closing)), key=lambda k: abs(closing[k] - c))
                    found[j] = int(m.group(1))
        for j, count in found.items():
            if 1 <= count <= 99:
                b = bars[j]
                bars[j] = Bar(b.width, b.columns, b.repeat_start, count)

    @staticmethod
    def guitar_labels(lines: list[_Line]) -> bool:
        """True when every line is labelled and the labels spell a named tuning (e B G D A E, not HH SD
        BD, nor drum letters that happen to be note names such as C H B A)."""
        labels = tuple(s.label for s in lines)
        if None in labels:
            return False
        tuning = tuning_from_labels(labels)
        return tuning is not None and bool(tuning.name)

    def tuning(self) -> Tuning:
        lines = self.lines
        ctx = self.reader.ctx
        header = ctx.tuning if ctx.tuning is not None and ctx.tuning.strings == self.strings else None
        labels = tuple(map(_LABEL, lines))
        if None not in labels:
            from_labels = tuning_from_labels(labels)
            if from_labels is not None:
                if header is not None:
                    if header == from_labels or same_classes(header, labels):
                        return header
                    self.diag(
                        lines[0].index, 0, "the stave labels disagree with the Tuning: line; labels win"
                    )
                return from_labels
        elif any(label is not None for label in labels):
            self.diag(lines[0].index, 0, "only some lines of the stave are labelled; labels ignored")
        if header is not None:
            return header
        if self.strings in ctx.previous:
            return ctx.previous[self.strings]
        return Tuning.for_strings(self.strings)


# --- entry points --------------------------------------------------------------------------------


def parse_text(text: str, path: str = "") -> ParseResult:
    """Every stave in `text`, as one Tab each in reading order, with diagnostics. Never raises
    on bad text: what cannot be read is a diagnostic."""
    try:
        with collector.paused():  # the reader makes objects for every note, and no cycles
            return _Reader(text, path).read()
    except TabgenError as e:  # a value the tab model rejects: report, do not crash
        return ParseResult([], [Diagnostic(path, 0, 0, f"cannot read: {e}")])
    except RecursionError:  # pragma: no cover - defensive
        return ParseResult([], [Diagnostic(path, 0, 0, "text too deeply nested to read")])


def join_staves(tabs: list[Tab]) -> list[Tab]:
    """Consecutive staves of one piece (same tuning, title, meter and metadata) joined into one Tab."""
    joined: list[Tab] = []
    group: list[Tab] = []  # staves of the piece being joined: built once at its end, so linear time

    def close() -> None:
        if len(group) == 1:
            joined.append(group[0])
        elif group:
            first = group[0]
            bars = tuple(bar for tab in group for bar in tab.bars)
            joined.append(Tab(first.tuning, bars, first.meter, first.title, first.meta, first.line))

    for tab in tabs:
        last = group[-1] if group else None
        if (
            last is not None
            and last.tuning == tab.tuning
            and last.title == tab.title
            and last.meter == tab.meter
            and last.meta == tab.meta
        ):
            group.append(tab)
        else:
            close()
            group = [tab]
    close()
    return joined
