"""Pitches to strings and frets the way a guitarist would play them.

`fret_pitches` takes a sequence of events (each a chord: MIDI pitches struck together) and picks
one fingering per event with a dynamic program (Viterbi over the candidate fingerings of each
event) that minimizes `cost`: hand movement between events (position shifts, fret distance,
string crossings) plus the cost of each fingering (high frets, stretches). A lone open string
costs nothing and leaves the hand where it is, so open position wins wherever the range allows;
an open string costs a little inside a fretted chord, and more the higher up the neck the hand
plays (where a guitarist keeps to stopped notes). The weights were chosen, under the hand-checked
fingerings of tests/test_fretting.py, for agreement with the string numbers of Mutopia's guitar
scores (bench/string_agreement.py; the figures are in corpora/README.md).

`strings=` asks for given pitches on given strings (a score's string numbers) where a hand can
play them so.

Rules every fingering keeps: one note per string, frets within ``0..max_fret``, and the fretted
notes of a chord at most ``max_span`` frets apart (open strings excluded). A pitch outside the
instrument is moved by octaves into it; a chord that no hand can hold moves one note by an octave,
and only when even that fails is a note dropped. Both are counted, never silent.

`naive_fretting` is the baseline: every note at its lowest fret. The corpus README compares the two
with `cost`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from tabgen.tab.types import MAX_FRET, Note, Tuning, column_span

Fingering = tuple[Note, ...]

# Weights of the cost model, in "frets of hand movement". A hand covers COMFORT+1 frets without moving.
COMFORT = 3
W_FRET = 0.02  # per fret of every fretted note: low positions are easier to read and to play
W_HIGH = 0.5  # per fret above 12, where frets get narrow and (on most guitars) hard to reach
W_STRETCH = 0.9  # per fret a chord spreads beyond a relaxed hand
W_UNPLAYABLE = 20.0  # per fret a chord spreads beyond max_span (only naive fingerings do that)
W_SHIFT = 0.1  # per fret the hand travels along the neck
W_SHIFT_FIXED = 1.7  # any position shift at all: a guitarist plays in one position while it serves
W_CROSS = 0.05  # per string the hand's centre moves across the neck (the plucking hand crosses freely)
W_OPEN = 0.05  # per open string in a fingering that also frets notes
W_OPEN_HIGH = 0.05  # per open string and per fret the hand sits above the 4th position


def weights() -> dict[str, float]:
    """The cost model's weights as they stand (a corpus cache keys its entries by them)."""
    return {k: v for k, v in globals().items() if k.startswith("W_") or k == "COMFORT"}


@dataclass(frozen=True)
class Fretting:
    """The chosen fingering of each event, and what had to change to make it playable."""

    chords: tuple[Fingering, ...]
    octave_moves: int  # notes moved by one or more octaves
    dropped: int  # notes no hand could add to their chord (or unisons merged)
    cost: float


def _static(fingering: Fingering, max_span: int) -> float:
    """The cost of holding one fingering, wherever the hand is."""
    fretted = [n.fret for n in fingering if n.fret > 0]
    if not fretted:
        return 0.0
    spread = column_span(fretted)
    c = sum(W_FRET * f + W_HIGH * max(0, f - 12) for f in fretted)
    c += W_OPEN * (len(fingering) - len(fretted))
    return c + W_STRETCH * max(0, spread - COMFORT) + W_UNPLAYABLE * max(0, spread - max_span)


def _positions(fingering: Fingering) -> list[int]:
    """Where the index finger can be (fret p covers p..p+COMFORT) to play a fingering.

    Open strings can be played from anywhere: the hand stays where it was (and pays as usual
    if it moves), so an open string is no free ride to another position."""
    fretted = [n.fret for n in fingering if n.fret > 0]
    if not fretted:
        return list(range(1, MAX_FRET - COMFORT + 1))
    lo, hi = min(fretted), max(fretted)
    if hi - lo >= COMFORT:
        return [lo]
    return list(range(max(1, hi - COMFORT), lo + 1))


@lru_cache(maxsize=65536)
def _states(
    fingerings: tuple[Fingering, ...], max_span: int
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """The Viterbi states of one event: (fingering index, hand position), with their positions,
    mean strings and static costs as arrays."""
    st = [(i, p) for i, f in enumerate(fingerings) for p in _positions(f)]
    pos = np.array([p for _, p in st], dtype=np.float64)
    centre = np.array([sum(n.string for n in fingerings[i]) / len(fingerings[i]) for i, _ in st])
    static = np.array([_static(fingerings[i], max_span) for i, _ in st])
    if W_OPEN_HIGH:  # an open string rings out of place when the hand plays high up the neck
        opens = np.array([sum(n.fret == 0 for n in fingerings[i]) for i, _ in st], dtype=np.float64)
        static = static + W_OPEN_HIGH * opens * np.maximum(0.0, pos - 4)
    return st, pos, centre, static


def _viterbi(cands: Sequence[Sequence[Fingering]], max_span: int) -> tuple[list[Fingering], float]:
    """The least-cost path through one candidate per event. States are (fingering, hand position).

    Moving the hand from position a to b costs a fixed amount plus the distance. Crossing strings
    costs by the distance between the fingerings' mean strings. Empty events are skipped (the hand stays).
    """
    steps = [c for c in cands if c and c[0]]
    if not steps:
        return [() for _ in cands], 0.0
    st, prev_pos, prev_centre, best = _states(tuple(steps[0]), max_span)
    back: list[np.ndarray] = []
    states = [st]
    for fingerings in steps[1:]:
        st, pos, centre, static = _states(tuple(fingerings), max_span)
        shift = np.abs(prev_pos[:, None] - pos[None, :])
        moving = shift > 0
        move = W_CROSS * np.abs(prev_centre[:, None] - centre[None, :])
        move = move + np.where(moving, W_SHIFT_FIXED + W_SHIFT * shift, 0.0)
        total = best[:, None] + move
        arg = total.argmin(axis=0)
        back.append(arg)
        best = total[arg, np.arange(len(st))] + static
        states.append(st)
        prev_pos, prev_centre = pos, centre
    j = int(best.argmin())
    total_cost = float(best[j])
    path: list[Fingering] = []
    for k in range(len(steps) - 1, -1, -1):
        path.append(steps[k][states[k][j][0]])
        if k:
            j = int(back[k - 1][j])
    path.reverse()
    it = iter(path)
    return [next(it) if c and c[0] else () for c in cands], total_cost


def cost(chords: Sequence[Fingering], max_span: int = 4) -> float:
    """Total cost of a sequence of fingerings, with the hand positions chosen at their best."""
    return _viterbi([(f,) for f in chords], max_span)[1]


def _into_range(pitch: int, low: int, high: int) -> int:
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def _assignments(pitches: tuple[int, ...], tuning: Tuning, max_fret: int, max_span: int) -> list[Fingering]:
    """Every way to put the pitches on distinct strings with the fretted notes within max_span."""
    out: list[Fingering] = []

    def walk(i: int, used: tuple[Note, ...], lo: int, hi: int) -> None:
        if i == len(pitches):
            out.append(tuple(sorted(used)))
            return
        taken = {n.string for n in used}
        for s, open_pitch in enumerate(tuning.pitches, start=1):
            fret = pitches[i] - open_pitch
            if s in taken or not 0 <= fret <= max_fret:
                continue
            nlo, nhi = (min(lo, fret), max(hi, fret)) if fret else (lo, hi)
            if nhi - nlo > max_span and fret:
                continue
            walk(i + 1, (*used, Note(s, fret)), nlo, nhi)

    walk(0, (), 99, -1)
    return out


@lru_cache(maxsize=65536)
def _candidates(
    pitches: tuple[int, ...], tuning: Tuning, max_fret: int, max_span: int
) -> tuple[tuple[Fingering, ...], int, int]:
    """Candidate fingerings for one chord, with the octave moves and drops that made it playable.

    Pitches are highest first. Out-of-range pitches move by octaves; a chord with no fingering
    tries every single-note octave move, then drops inner notes, then the bass, keeping the top.
    """
    low, high = min(tuning.pitches), max(tuning.pitches) + max_fret
    moved = tuple(_into_range(p, low, high) for p in pitches)
    moves = sum(a != b for a, b in zip(pitches, moved, strict=True))
    unique = tuple(sorted(set(moved), reverse=True))
    dropped = len(moved) - len(unique)
    while len(unique) > tuning.strings:  # more notes than strings: drop inner notes
        unique = unique[:-2] + unique[-1:]
        dropped += 1
    found = _assignments(unique, tuning, max_fret, max_span)
    if found:
        return tuple(found), moves, dropped
    for i in range(len(unique)):  # one note up or down an octave
        for step in (12, -12):
            p = unique[i] + step
            if not low <= p <= high or p in unique:
                continue
            variant = tuple(sorted((*unique[:i], p, *unique[i + 1 :]), reverse=True))
            found += _assignments(variant, tuning, max_fret, max_span)
        if found:
            return tuple(found), moves + 1, dropped
    # no single move helps: drop notes below the top one until a fingering exists
    for k in range(len(unique) - 1, 0, -1):
        for keep in combinations(unique[1:], k - 1):
            found = _assignments((unique[0], *keep), tuning, max_fret, max_span)
            if found:
                return tuple(found), moves, dropped + len(unique) - k
    return tuple(_assignments(unique[:1], tuning, max_fret, max_span)), moves, dropped + len(unique) - 1


def fret_pitches(
    events: Sequence[Sequence[int]],
    tuning: Tuning,
    max_fret: int = MAX_FRET,
    max_span: int = 4,
    strings: Sequence[dict[int, int]] | None = None,
) -> Fretting:
    """The least-cost playable fingering of every event (a chord of MIDI pitches; may be empty).

    `strings`, per event, {pitch: string} the player asked for (a score's string numbers): the
    event's candidates are narrowed to those that play each such pitch on its string, where any
    playable candidate does; otherwise the request is ignored."""
    cands: list[tuple[Fingering, ...]] = []
    moves = dropped = 0
    for i, ev in enumerate(events):
        if not ev:
            cands.append(((),))
            continue
        found, m, d = _candidates(tuple(sorted(ev, reverse=True)), tuning, max_fret, max_span)
        if strings and strings[i]:
            want = strings[i]
            kept = tuple(
                f
                for f in found
                if all(
                    any(n.string == s and tuning.pitch(n.string, n.fret) == p for n in f)
                    for p, s in want.items()
                )
            )
            found = kept or found
        cands.append(found)
        moves += m
        dropped += d
    chosen, total = _viterbi(cands, max_span)
    return Fretting(tuple(chosen), moves, dropped, total)


def naive_fretting(events: Sequence[Sequence[int]], tuning: Tuning, max_fret: int = MAX_FRET) -> Fretting:
    """The baseline: each note, highest first, at its lowest fret on a string still free."""
    low, high = min(tuning.pitches), max(tuning.pitches) + max_fret
    chords: list[Fingering] = []
    moves = dropped = 0
    for ev in events:
        notes: list[Note] = []
        for p in sorted(set(ev), reverse=True):
            q = _into_range(p, low, high)
            moves += q != p
            free = [
                (q - o, s)
                for s, o in enumerate(tuning.pitches, 1)
                if 0 <= q - o <= max_fret and s not in {n.string for n in notes}
            ]
            if free:
                fret, s = min(free)
                notes.append(Note(s, fret))
            else:
                dropped += 1
        chords.append(tuple(sorted(notes)))
    return Fretting(tuple(chords), moves, dropped, cost(chords))
