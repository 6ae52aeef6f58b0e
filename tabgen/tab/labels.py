"""String labels and `Tuning:` values to a `Tuning`.

Labels name pitch classes only, so octaves are inferred: the highest string takes the octave that
puts it nearest E4 (MIDI 64), and each lower string takes the highest pitch of its class strictly
below the string above it. That gives E4 B3 G3 D3 A2 E2 for ``e B G D A E``, D2 for a low ``D``
(drop D), B1 for a seventh string ``B``. Four or five strings labelled ``G D A E (B)`` are a bass
(G2 D2 A1 E1 B0). A result equal to a named tuning carries that name (`named_tuning`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from tabgen.errors import TabValueError
from tabgen.tab.types import NAMED_TUNINGS, Tuning

_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11, "H": 11}
_NOTE = re.compile(r"([A-Ha-h])([#b♯♭]?)(-?\d)?")
_BASS = {(7, 2, 9, 4): "bass-4", (7, 2, 9, 4, 11): "bass-5"}


def pitch_class(label: str) -> int | None:
    """'F#' -> 6, 'Bb' -> 10, 'H' (German B) -> 11; None for anything else."""
    label = label.strip()
    if not label or label[0].upper() not in _PITCH_CLASS:
        return None
    pc = _PITCH_CLASS[label[0].upper()]
    for accidental in label[1:]:
        if accidental in "#♯":
            pc += 1
        elif accidental in "b♭":
            pc -= 1
        else:
            return None
    return pc % 12


def named_tuning(pitches: tuple[int, ...]) -> Tuning:
    """The tuning of these open-string pitches (highest string first), with its name when it is a
    named one: the first of NAMED_TUNINGS with exactly these pitches, else an unnamed `Tuning`.

    The one place pitches get a name (labels, `Tuning:` lines, the model's header line, Guitar Pro
    tracks, a checkpoint's tuning): a `Tuning` compares by its name too, so every reader must agree."""
    for tuning in NAMED_TUNINGS.values():  # (14 of them: a scan costs less than keeping a map in step)
        if tuning.pitches == pitches:
            return tuning
    return Tuning(pitches)


def tuning_from_classes(classes: list[int]) -> Tuning:
    """Pitch classes, highest string first, to a tuning with inferred octaves."""
    if tuple(classes) in _BASS:
        return NAMED_TUNINGS[_BASS[tuple(classes)]]
    top = min((classes[0] + 12 * octave for octave in range(11)), key=lambda p: (abs(p - 64), p))
    pitches = [top]
    for pc in classes[1:]:
        below = pitches[-1] - 1
        p = below - (below - pc) % 12
        pitches.append(max(p, 0))
    return named_tuning(tuple(pitches))


@lru_cache(maxsize=1024)
def tuning_from_labels(labels: tuple[str, ...]) -> Tuning | None:
    """Stave labels, highest string first ('e', 'B', ..., 'E'), to a tuning; None if one is no note.
    Cached: a file repeats its labels on every stave."""
    classes = [pitch_class(s) for s in labels]
    if any(c is None for c in classes):
        return None
    return tuning_from_classes([c for c in classes if c is not None])


def same_classes(tuning: Tuning, labels: tuple[str, ...]) -> bool:
    """True when the labels name the tuning's open strings (octaves aside)."""
    return [p % 12 for p in tuning.pitches] == [pitch_class(s) for s in labels]


def parse_tuning(value: str) -> Tuning:
    """A `Tuning:` header value: a name (``drop-d``), notes low to high with octaves
    (``E2 A2 D3 G3 B3 E4``) or without (``D A D G B E``, ``DADGAD``). Raises TabValueError."""
    text = value.strip()
    # "EADGBE (Standard)", "Drop D tuning": try the name, the words outside and inside brackets
    inside = re.findall(r"\(([^)]*)\)", text)
    text = re.sub(r"\([^)]*\)", " ", text).strip() or text
    for candidate in [text, *inside]:
        key = re.sub(r"\s+tuning$", "", candidate.strip(), flags=re.IGNORECASE)
        try:
            return Tuning.named(key)
        except TabValueError:
            pass
    compact = re.sub(r"[\s,\-]+", " ", text).strip()
    if " " in compact:
        tokens = compact.split(" ")
    else:
        tokens = [m.group(0) for m in _NOTE.finditer(compact)]
        if "".join(tokens) != compact:
            raise TabValueError(f"unknown tuning {value!r}")
    notes = []
    for token in tokens:
        m = _NOTE.fullmatch(token)
        if not m:
            raise TabValueError(f"unknown tuning {value!r}")
        pc = pitch_class(m.group(1) + m.group(2))
        if pc is None:
            raise TabValueError(f"unknown tuning {value!r}")
        octave = int(m.group(3)) if m.group(3) else None
        notes.append((pc, octave))
    if not notes:
        raise TabValueError(f"unknown tuning {value!r}")
    if all(o is not None for _, o in notes):
        pitches = tuple(pc + 12 * (o + 1) for pc, o in reversed(notes))  # type: ignore[operator]
        return named_tuning(pitches)
    return tuning_from_classes([pc for pc, _ in reversed(notes)])
