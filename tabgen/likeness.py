"""How like a folder of tabs a piece is: which pieces of the shipped corpus a fine-tune replays.

A fine-tune rehearses pieces of the source model's corpus so that it keeps writing well-formed tabs
(tabgen.finetune), and whatever it rehearses it also learns to write: pieces taken at random from
the guitar collection are mostly in other meters and tunings than a user's folder, and about a fifth
of their onsets are chords. So the replayed pieces are taken most alike first: in the folder's
meters and tunings, as chordal and with as many notes to the beat as the folder's training pieces
(notes, not onsets: a chord is one onset of several notes, so onsets alone would rank block chords
as sparse). With them a quarter of the training text replayed keeps raw samples as valid as 0.4 of
pieces taken at random did, and the folder's own share of each step grows (docs/train.md).

`Profile` holds the counts of one piece (they add up over pieces); `Target` is the pooled profile
of the folder's training pieces; `distance` is what the ordering sorts by:

    (1 - share of the folder's bars in the piece's meter)
  + (1 - share of the folder's bars in the piece's tuning)
  + |chord share - the folder's|
  + |log(notes per quarter / the folder's)|

A meter or tuning the folder never uses costs a whole point, more than any texture difference
within a meter usually does, so those pieces come last.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from tabgen.tab.types import Tab


@dataclass(frozen=True)
class Profile:
    """One piece's meter and tuning, and its counts of bars, quarter notes, sounding notes, onsets and
    chord onsets (columns with two sounding notes or more; dead notes do not sound), as tabgen.form
    counts them."""

    meter: tuple[int, int]
    tuning: tuple[int, ...]
    bars: int
    quarters: float
    notes: int
    onsets: int
    chords: int

    @property
    def chord_share(self) -> float:
        return self.chords / self.onsets if self.onsets else 0.0

    @property
    def notes_per_quarter(self) -> float:
        return self.notes / self.quarters if self.quarters else 0.0


def profile(tab: Tab) -> Profile:
    """The profile of one piece."""
    beats, unit = tab.meter or (4, 4)
    notes = onsets = chords = 0
    for bar in tab.bars:
        for col in bar.columns:
            sounding = sum(1 for n in col.notes if n.technique != "x")
            notes += sounding
            onsets += sounding > 0
            chords += sounding > 1
    quarters = float(len(tab.bars) * Fraction(4 * beats, unit))
    return Profile((beats, unit), tab.tuning.pitches, len(tab.bars), quarters, notes, onsets, chords)


@dataclass(frozen=True)
class Target:
    """The pooled profile of a folder's pieces: the share of its bars in each meter and tuning,
    its chord share and notes per quarter."""

    meters: dict[tuple[int, int], float]
    tunings: dict[tuple[int, ...], float]
    chord_share: float
    notes_per_quarter: float

    @classmethod
    def of(cls, profiles: Iterable[Profile]) -> Target:
        profiles = list(profiles)
        bars = sum(p.bars for p in profiles) or 1
        meters: Counter[tuple[int, int]] = Counter()
        tunings: Counter[tuple[int, ...]] = Counter()
        for p in profiles:
            meters[p.meter] += p.bars
            tunings[p.tuning] += p.bars
        onsets = sum(p.onsets for p in profiles)
        quarters = sum(p.quarters for p in profiles)
        return cls(
            {m: n / bars for m, n in meters.items()},
            {t: n / bars for t, n in tunings.items()},
            sum(p.chords for p in profiles) / onsets if onsets else 0.0,
            sum(p.notes for p in profiles) / quarters if quarters else 0.0,
        )


def distance(piece: Profile, target: Target) -> float:
    """How unlike the folder a piece is (the module docstring's sum; 0 for a piece just like it)."""
    d = (1 - target.meters.get(piece.meter, 0.0)) + (1 - target.tunings.get(piece.tuning, 0.0))
    d += abs(piece.chord_share - target.chord_share)
    if piece.notes_per_quarter > 0 and target.notes_per_quarter > 0:
        d += abs(math.log(piece.notes_per_quarter / target.notes_per_quarter))
    else:
        d += 1.0  # a piece without notes (or a target without) is as unlike as a foreign meter
    return d
