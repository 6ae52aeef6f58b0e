"""The tab object model: small frozen value classes, invariants checked at construction.

String 1 is the highest-sounding string (as in music21's GuitarFretBoard). A `Bar` is a
sequence of `Column`s placed at positions in ``range(width)``: for a parsed tab the width is the
bar's length in characters and a position is a character offset; for a canonical tab the width is
the rhythm grid (16 slots for 4/4, 12 for 3/4) and a position is a slot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tabgen.errors import TabValueError

MAX_FRET = 24
MIN_STRINGS = 4
MAX_STRINGS = 8

# How a note is played. The connecting techniques (h p b r / \ s) describe how the note is reached
# from the previous note on the same string; the rest are properties of the note itself.
TECHNIQUES: dict[str, str] = {
    "": "picked",
    "h": "hammer-on",
    "p": "pull-off",
    "b": "bend (the fret is the pitch bent to)",
    "r": "release (the fret is the pitch released to)",
    "/": "slide up",
    "\\": "slide down",
    "s": "slide",
    "~": "vibrato",
    "x": "dead note",
    "t": "tapped",
    "g": "grace note",
    "<>": "natural harmonic",
    "[]": "artificial harmonic",
    "pm": "palm mute",
    "()": "ghost note",
}
SLIDES = frozenset({"/", "\\", "s"})  # the techniques that slide into a note from the one before it

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """MIDI pitch to a name with octave: 40 -> 'E2'."""
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


@dataclass(frozen=True, slots=True)
class Tuning:
    """Open-string MIDI pitches, string 1 (highest) first."""

    pitches: tuple[int, ...]
    name: str = ""

    def __post_init__(self) -> None:
        n = len(self.pitches)
        if not MIN_STRINGS <= n <= MAX_STRINGS:
            raise TabValueError(f"a tuning has {MIN_STRINGS}..{MAX_STRINGS} strings, got {n}")
        if any(not 0 <= p <= 127 for p in self.pitches):
            raise TabValueError(f"open-string pitches must be in range 0..127, got {self.pitches}")

    @property
    def strings(self) -> int:
        return len(self.pitches)

    def pitch(self, string: int, fret: int) -> int:
        return self.pitches[string - 1] + fret

    def labels(self) -> list[str]:
        """Stave labels, highest string first; the highest E is written lower-case 'e'."""
        names = [_NOTE_NAMES[p % 12] for p in self.pitches]
        if names[0] == "E" and names[-1] == "E":
            names[0] = "e"
        return names

    @classmethod
    def named(cls, name: str) -> Tuning:
        key = name.strip().lower().replace("_", "-").replace(" ", "-")
        key = _ALIASES.get(key, key)
        if key not in NAMED_TUNINGS:
            known = ", ".join(sorted(NAMED_TUNINGS))
            raise TabValueError(f"unknown tuning {name!r}; known tunings: {known}")
        return NAMED_TUNINGS[key]

    @classmethod
    def for_strings(cls, n: int) -> Tuning:
        """The usual tuning for an instrument with n strings."""
        default = {4: "bass-4", 5: "bass-5", 6: "standard", 7: "seven", 8: "eight"}
        if n not in default:
            raise TabValueError(f"no default tuning for {n} strings (must be in range 4..8)")
        return NAMED_TUNINGS[default[n]]


def _t(name: str, *pitches: int) -> tuple[str, Tuning]:
    return name, Tuning(tuple(pitches), name)


NAMED_TUNINGS: dict[str, Tuning] = dict(
    [
        _t("standard", 64, 59, 55, 50, 45, 40),
        _t("drop-d", 64, 59, 55, 50, 45, 38),
        _t("dadgad", 62, 57, 55, 50, 45, 38),
        _t("open-g", 62, 59, 55, 50, 43, 38),
        _t("open-d", 62, 57, 54, 50, 45, 38),
        _t("open-e", 64, 59, 56, 52, 47, 40),
        _t("cgdgbe", 64, 59, 55, 50, 43, 36),
        _t("dgdgbe", 64, 59, 55, 50, 43, 38),
        _t("vihuela", 64, 59, 54, 50, 45, 40),
        _t("half-step-down", 63, 58, 54, 49, 44, 39),
        _t("bass-4", 43, 38, 33, 28),
        _t("bass-5", 43, 38, 33, 28, 23),
        _t("seven", 64, 59, 55, 50, 45, 40, 35),
        _t("eight", 64, 59, 55, 50, 45, 40, 35, 30),
    ]
)
_ALIASES = {
    "std": "standard",
    "e-standard": "standard",
    "dropd": "drop-d",
    "drop-d-tuning": "drop-d",
    "openg": "open-g",
    "opend": "open-d",
    "bass": "bass-4",
    "7-string": "seven",
    "8-string": "eight",
}


@dataclass(frozen=True, order=True, slots=True)
class Note:
    """One note: a string (1 = highest), a fret, and how it is played (a key of TECHNIQUES)."""

    string: int
    fret: int
    technique: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.string <= MAX_STRINGS:
            raise TabValueError(f"string must be in range 1..{MAX_STRINGS}, got {self.string}")
        if not 0 <= self.fret <= MAX_FRET:
            raise TabValueError(f"fret must be in range 0..{MAX_FRET}, got {self.fret}")
        if self.technique not in TECHNIQUES:
            raise TabValueError(f"unknown technique {self.technique!r}")


@dataclass(frozen=True, slots=True)
class Column:
    """Notes struck together at one position of a bar, sorted by string."""

    position: int
    notes: tuple[Note, ...]

    def __post_init__(self) -> None:
        if self.position < 0:
            raise TabValueError(f"column position must be >= 0, got {self.position}")
        if not self.notes:
            raise TabValueError("a column holds at least one note")
        if list(self.notes) != sorted(self.notes):
            object.__setattr__(self, "notes", tuple(sorted(self.notes)))


@dataclass(frozen=True, slots=True)
class Bar:
    """Columns at increasing positions within ``range(width)``; repeat marks as written."""

    width: int
    columns: tuple[Column, ...] = ()
    repeat_start: bool = False
    repeat_end: int = 0  # 0: none; n: play n times in all (":|" alone means 2)

    def __post_init__(self) -> None:
        if self.width < 1:
            raise TabValueError(f"bar width must be >= 1, got {self.width}")
        positions = [c.position for c in self.columns]
        if positions != sorted(set(positions)):
            raise TabValueError(f"column positions must increase, got {positions}")
        if positions and positions[-1] >= self.width:
            raise TabValueError(f"column at {positions[-1]} outside a bar of width {self.width}")

    @property
    def notes(self) -> list[Note]:
        return [n for c in self.columns for n in c.notes]


@dataclass(frozen=True, slots=True)
class Tab:
    """A piece (or one stave of one): a tuning and its bars, with metadata.

    `line` is the 1-based line in the source file where the stave starts (0 when not from a file).
    `meter` is (beats, beat unit) when known. `meta` holds header fields such as title or source.
    """

    tuning: Tuning
    bars: tuple[Bar, ...]
    meter: tuple[int, int] | None = None
    title: str = ""
    meta: tuple[tuple[str, str], ...] = ()
    line: int = 0

    def __post_init__(self) -> None:
        for bar in self.bars:
            for note in bar.notes:
                if note.string > self.tuning.strings:
                    raise TabValueError(
                        f"note on string {note.string} but the tuning has {self.tuning.strings}"
                    )
        if self.meter is not None:
            beats, unit = self.meter
            if beats < 1 or unit not in (1, 2, 4, 8, 16, 32):
                raise TabValueError(f"bad meter {beats}/{unit}")

    def pitch(self, note: Note) -> int:
        return self.tuning.pitch(note.string, note.fret)

    @property
    def notes(self) -> list[Note]:
        return [n for b in self.bars for n in b.notes]


def slots_per_bar(meter: tuple[int, int] | None) -> int:
    """Grid slots in one bar: sixteenth notes, so 16 for 4/4, 12 for 3/4 and for 6/8."""
    if meter is None:
        return 16
    beats, unit = meter
    return max(1, beats * 16 // unit)


def is_bar_width(width: int, slots: int) -> bool:
    """True for `slots` times a power of two: a bar of the grid, or of normalize's finer grids."""
    ratio, rest = divmod(width, slots)
    return rest == 0 and ratio > 0 and ratio & (ratio - 1) == 0


def column_span(frets: Iterable[int]) -> int:
    """How far the hand stretches: the spread of the fretted (non-open) notes of a column."""
    fretted = [f for f in frets if f > 0]
    return max(fretted) - min(fretted) if fretted else 0
