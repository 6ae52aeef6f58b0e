"""What every text format shares: the alphabet, the header line, note cells, `Decoded`, and the
`Grammar` engine that masks sampling.

A format writes ONE piece as: a header line, a body, an end marker line ``$``. The header is
``%`` + the open strings lowest first + a space + the meter (``-`` when unknown)::

    %E2A2D3G3B3E4 4/4

In the body a note is a cell: one fret character (``0``-``9`` for frets 0-9, ``a``-``o`` for
10-24), optionally followed by one technique character (upper case, see `TECH_CHARS`). A slot
without a note on a string is ``-``.

The grammar is a generator (a coroutine) per format: it yields the mask of the characters allowed
next and receives the character chosen. Masks come from a per-alphabet cache, so one step costs a
`send` and a few integer operations, whatever the alphabet size.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from tabgen.errors import TabValueError
from tabgen.tab.labels import named_tuning
from tabgen.tab.types import MAX_FRET, Bar, Column, Note, Tab, Tuning, pitch_name

FRET_CHARS = "0123456789abcdefghijklmno"  # index = fret, 0..24
FRET_OF = {c: i for i, c in enumerate(FRET_CHARS)}
assert len(FRET_CHARS) == MAX_FRET + 1

# One character per technique (tabgen.tab.types.TECHNIQUES), none of them a fret character.
TECH_CHARS: dict[str, str] = {
    "h": "H",
    "p": "P",
    "b": "B",
    "r": "R",
    "/": "/",
    "\\": "\\",
    "s": "S",
    "~": "~",
    "x": "X",
    "t": "T",
    "g": "G",
    "<>": "N",
    "[]": "A",
    "pm": "M",
    "()": "(",
}
TECH_OF = {c: t for t, c in TECH_CHARS.items()}
# Techniques whose characters came after the first alphabet: they go at its end, so the ids of the
# first 50 characters (those of every model trained before, the bundled one too) never move.
LATER_TECHNIQUES = ("()",)

EMPTY = "-"
HEADER_MARK = "%"
END_MARK = "$"
BAR_MARK = "|"


def _dedupe(chars: str) -> str:
    return "".join(dict.fromkeys(chars))


# One alphabet for every format, so a vocab never depends on the data. Index = token id.
# FIRST_ALPHABET is that of time v1 and v2 and line v1; later versions append LATER_TECHNIQUES.
_FIRST_TECH = "".join(c for t, c in TECH_CHARS.items() if t not in LATER_TECHNIQUES)
FIRST_ALPHABET = _dedupe("\n -|$%" + FRET_CHARS + _FIRST_TECH + "ABCDEFG#e/" + "0123456789")
ALPHABET = FIRST_ALPHABET + "".join(TECH_CHARS[t] for t in LATER_TECHNIQUES)


@dataclass
class Decoded:
    """The result of decoding model text: never an exception.

    `tab` is None when the header cannot be read. `bars_total` counts the bars the text attempts,
    `bars_valid` those that decode cleanly; `problems` says what is wrong, one line each.
    """

    tab: Tab | None
    bars_total: int
    bars_valid: int
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Header line


# A piece's style, as one letter at the end of its header line (formats that carry one): the
# collection it came from, or a user's own name for their tabs (a letter of USER_STYLE_LETTERS).
STYLES: dict[str, str] = {"guitar": "g", "folk": "f", "chorale": "c"}
STYLE_NAMES = {letter: name for name, letter in STYLES.items()}
USER_STYLE_LETTERS = "abdehijklmno"


def header_line(tuning: Tuning, meter: tuple[int, int] | None, style: str | None = None) -> str:
    """``%E2A2D3G3B3E4 4/4\\n``: open strings lowest first, then the meter or ``-``, then the
    style letter when there is one."""
    names = "".join(pitch_name(p) for p in reversed(tuning.pitches))
    m = f"{meter[0]}/{meter[1]}" if meter else EMPTY
    return f"{HEADER_MARK}{names} {m}" + (f" {style}" if style else "") + "\n"


_NAME_RE = re.compile(r"(C#?|D#?|E|F#?|G#?|A#?|B)(-1|[0-9])")
_SEMITONE = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "G#": 8, "A": 9}
_SEMITONE.update({"A#": 10, "B": 11})


def parse_header(line: str) -> tuple[Tuning, tuple[int, int] | None, str | None]:
    """The tuning, meter and style letter (None when absent) of a header line; TabValueError when
    it is not one."""
    body = line[1:] if line.startswith(HEADER_MARK) else ""
    names, _, meter_text = body.partition(" ")
    meter_text, _, style = meter_text.partition(" ")
    if style and (len(style) != 1 or not ("a" <= style <= "o")):
        raise TabValueError(f"bad style {style!r} in header line {line!r}")
    pitches, at = [], 0
    for m in _NAME_RE.finditer(names):
        if m.start() != at:
            break
        pitches.append((int(m.group(2)) + 1) * 12 + _SEMITONE[m.group(1)])
        at = m.end()
    if not names or at != len(names):
        raise TabValueError(f"bad header line {line!r}: expected e.g. %E2A2D3G3B3E4 4/4")
    tuning = named_tuning(tuple(reversed(pitches)))
    if meter_text == EMPTY:
        return tuning, None, style or None
    beats, slash, unit = meter_text.partition("/")
    if not (slash and beats.isdigit() and unit.isdigit()):
        raise TabValueError(f"bad meter {meter_text!r} in header line {line!r}")
    meter = (int(beats), int(unit))
    Tab(tuning, (), meter)  # checks the meter
    return tuning, meter, style or None


# ---------------------------------------------------------------------------------------------
# Cells


def note_cell(note: Note, alphabet: str = ALPHABET) -> str:
    """A note's cell; a technique whose character `alphabet` lacks (a ghost note in the first
    alphabet) is left out, so the note is written plain."""
    if not note.technique:
        return FRET_CHARS[note.fret]
    tech = TECH_CHARS[note.technique]
    return FRET_CHARS[note.fret] + (tech if tech in alphabet else "")


def parse_cells(text: str) -> tuple[list[Note | None], list[str]]:
    """A run of cells to one entry per slot (a Note on string 1, or None), and problems.

    The string of each Note is a placeholder; callers set it (`Note` is frozen, so they rebuild).
    """
    slots: list[Note | None] = []
    problems = []
    for i, ch in enumerate(text):
        if ch == EMPTY:
            slots.append(None)
        elif ch in FRET_OF:
            slots.append(Note(1, FRET_OF[ch]))
        elif ch in TECH_OF:
            prev = slots[-1] if slots else None
            if prev is None or prev.technique or i == 0 or text[i - 1] not in FRET_OF:
                problems.append(f"technique {ch!r} not right after a fret")
            else:
                slots[-1] = Note(1, prev.fret, TECH_OF[ch])
        else:
            problems.append(f"unexpected character {ch!r}")
    return slots, problems


def make_bar(slots: int, notes_by_slot: dict[int, list[Note]]) -> Bar:
    cols = tuple(Column(s, tuple(sorted(notes_by_slot[s]))) for s in sorted(notes_by_slot) if s < slots)
    return Bar(slots, cols)


def body_lines(text: str) -> tuple[str | None, list[str], bool, list[str]]:
    """Split one piece into (header line or None, body lines, end marker seen, problems).

    The body runs from the line after the header to the end marker, the next header, or the end.
    Anything before the header and after the end marker is ignored: decode reads the first piece.
    Without a header the body is the whole text, so that its bars are still counted.
    """
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADER_MARK)), None)
    header = None if start is None else lines[start]
    problems = ["no header line (e.g. %E2A2D3G3B3E4 4/4)"] if header is None else []
    body: list[str] = []
    for line in lines[(-1 if start is None else start) + 1 :]:
        if line == END_MARK:
            return header, body, True, problems
        if line.startswith(HEADER_MARK):
            break
        body.append(line)
    return header, body, False, problems + ["no end marker line '$'"]


# ---------------------------------------------------------------------------------------------
# Grammar


class MaskBook:
    """Cached read-only masks over one alphabet for one max_span, shared by all grammars."""

    _books: dict[tuple[str, int], MaskBook] = {}

    @classmethod
    def get(cls, alphabet: str, max_span: int) -> MaskBook:
        key = (alphabet, max_span)
        if key not in cls._books:
            cls._books[key] = cls(alphabet, max_span)
        return cls._books[key]

    def __init__(self, alphabet: str, max_span: int) -> None:
        self.alphabet = alphabet
        self.max_span = max_span
        self.ids = {c: i for i, c in enumerate(alphabet)}
        self.none = self._freeze(np.zeros(len(alphabet), dtype=bool))
        self._one = {c: self._mask(c) for c in alphabet}
        self._tech = np.zeros(len(alphabet), dtype=bool)
        self._tech[[self.ids[c] for c in TECH_OF if c in self.ids]] = True  # those of this alphabet
        self._cache: dict[tuple[object, ...], np.ndarray] = {}

    def _freeze(self, m: np.ndarray) -> np.ndarray:
        m.flags.writeable = False
        return m

    def _mask(self, chars: str) -> np.ndarray:
        m = np.zeros(len(self.alphabet), dtype=bool)
        m[[self.ids[c] for c in chars]] = True
        return self._freeze(m)

    def one(self, ch: str, tech: bool = False) -> np.ndarray:
        """Only `ch` (or a technique character, when one may still follow a fret)."""
        if not tech:
            return self._one[ch]
        key = ("one", ch)
        if key not in self._cache:
            self._cache[key] = self._freeze(self._one[ch] | self._tech)
        return self._cache[key]

    def chars(self, chars: str) -> np.ndarray:
        """Any of `chars`."""
        key = ("chars", chars)
        if key not in self._cache:
            self._cache[key] = self._mask(chars)
        return self._cache[key]

    def cell(
        self, lo: int, hi: int, dash: bool, newline: bool, tech: bool, bar: bool = False, repeat: bool = False
    ) -> np.ndarray:
        """A cell start: the frets that keep the column's fretted span within max_span (lo/hi: the
        lowest and highest fretted note so far, 0 when none), '-' if `dash`, a newline if `newline`,
        '|' if `bar`, '#' (a bar repeat) if `repeat`, technique characters if `tech` (the previous
        cell was a fret)."""
        key = (lo, hi, dash, newline, tech, bar, repeat)
        m = self._cache.get(key)
        if m is None:
            chars = "0"
            for f in range(1, MAX_FRET + 1):
                if not lo or max(hi, f) - min(lo, f) <= self.max_span:
                    chars += FRET_CHARS[f]
            chars += (EMPTY if dash else "") + ("\n" if newline else "") + (BAR_MARK if bar else "")
            chars += "#" if repeat else ""
            m = np.array(self._mask(chars))
            if tech:
                m |= self._tech
            m = self._cache[key] = self._freeze(m)
        return m


Program = Generator[np.ndarray, str, None]


class Grammar:
    """A state machine over one format's text for one tuning, meter and bar count.

    `allowed_mask()` is a read-only bool array over the alphabet (all False once `done`); do not
    write into it. `advance(ch)` raises TabValueError for a character the mask does not allow.
    """

    def __init__(self, book: MaskBook, program: Program) -> None:
        self._book = book
        self._ids = book.ids
        self._program = program
        self._mask = next(program)
        self.done = False
        self.chars = 0  # characters accepted so far

    def allowed_mask(self) -> np.ndarray:
        return self._mask

    def advance(self, ch: str) -> None:
        i = self._ids.get(ch)
        if i is None or not self._mask[i]:
            state = "after the end" if self.done else f"at character {self.chars}"
            raise TabValueError(f"character {ch!r} is not allowed {state}")
        self.chars += 1
        try:
            self._mask = self._program.send(ch)
        except StopIteration:
            self.done = True
            self._mask = self._book.none

    def feed(self, text: str) -> None:
        for ch in text:
            self.advance(ch)


def literal(book: MaskBook, text: str) -> Program:
    """Yield for each character of a fixed text (used with `yield from`)."""
    for ch in text:
        yield book.one(ch)


# ---------------------------------------------------------------------------------------------
# The format interface


class TextFormat(ABC):
    """One way of writing a piece as text for the model. See DESIGN.md "The model's text format"."""

    name: str
    version: int
    alphabet: str = ALPHABET
    styled = False  # whether the header carries a style letter (else `style` arguments are ignored)

    def header(self, tuning: Tuning, meter: tuple[int, int] | None, style: str | None = None) -> str:
        """The header line that starts a piece (compose primes the model with it)."""
        return header_line(tuning, meter, style if self.styled else None)

    @abstractmethod
    def encode(self, tab: Tab, style: str | None = None) -> str:
        """One piece: header line, body, end marker. The tab is normalized first."""

    @abstractmethod
    def decode(self, text: str, max_span: int | None = None) -> Decoded:
        """The first piece of `text`, leniently. With `max_span`, a column whose fretted notes
        spread further makes its bar invalid."""

    @abstractmethod
    def bars_in(self, text: str) -> int:
        """Complete bars in an encoded text (any number of pieces)."""

    @abstractmethod
    def grammar(
        self,
        tuning: Tuning,
        meter: tuple[int, int] | None,
        bars: int,
        max_span: int = 4,
        max_fine: int = 1,
        style: str | None = None,
    ) -> Grammar:
        """The state machine that accepts exactly the pieces of `bars` bars with playable columns.

        Bars are on the meter's grid; `max_fine` (a power of two) also allows normalize's finer
        grids of a bar with many notes, up to that many times the slots."""

    def prime(self, tab: Tab, bars: int, style: str | None = None) -> str:
        """The start of a `bars`-bar piece that begins with the bars of `tab` (at most `bars`):
        feed it to `grammar(tab.tuning, tab.meter, bars)` and let the model go on from there."""
        check_bars(bars)
        text = self.encode(Tab(tab.tuning, tab.bars[:bars], tab.meter), style)
        return text[: -len(END_MARK) - 1] if len(tab.bars) < bars else text

    # ids: what the corpus writes and the model reads

    def to_ids(self, text: str) -> np.ndarray:
        """Text to uint8 token ids; TabValueError on a character outside the alphabet."""
        raw = np.frombuffer(text.encode("latin-1", errors="replace"), dtype=np.uint8)
        ids = _lookup(self.alphabet)[raw]
        if (ids == 255).any():
            bad = sorted({text[i] for i in np.flatnonzero(ids == 255)[:20]})
            raise TabValueError(f"characters outside the {self.name!r} alphabet: {bad}")
        return ids

    def from_ids(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.alphabet[i] for i in np.asarray(ids, dtype=np.int64).tolist())

    def __repr__(self) -> str:
        return f"<TextFormat {self.name} v{self.version}>"


_LOOKUPS: dict[str, np.ndarray] = {}


def _lookup(alphabet: str) -> np.ndarray:
    """A 256-entry byte -> id table (255: not in the alphabet)."""
    if alphabet not in _LOOKUPS:
        table = np.full(256, 255, dtype=np.uint8)
        for i, c in enumerate(alphabet):
            table[ord(c)] = i
        _LOOKUPS[alphabet] = table
    return _LOOKUPS[alphabet]


def check_bars(bars: int) -> None:
    if bars < 1:
        raise TabValueError(f"bars must be >= 1, got {bars}")


def bar_widths(slots: int, max_fine: int) -> frozenset[int]:
    """The widths a bar may have: the grid, and the finer grids of normalize (2, 4, ... times),
    up to `max_fine` times the grid."""
    if max_fine < 1:
        raise TabValueError(f"max_fine must be >= 1, got {max_fine}")
    out, w = set(), slots
    while w <= slots * max_fine:
        out.add(w)
        w *= 2
    return frozenset(out)
