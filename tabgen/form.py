"""The form of pieces: does music return, does it land, does it keep going? Figures on `Tab`s.

The same code measures composed pieces and the corpus they learned from, so the two can be set
side by side (`tabgen eval`). Every figure is pooled over the pieces (a share of all their bars,
onsets or notes), not averaged per piece, so long pieces weigh more, as they do for a listener.

- exact bar repetition: bars after the first whose notes (pitches at positions) equal an earlier
  bar's in the same piece; empty bars never count as repeats;
- transposed bar repetition: bars that are not exact repeats but equal an earlier bar moved by a
  constant number of semitones;
- 2-bar window repetition: windows of two bars (not both empty) equal to an earlier window;
- rhythm recurrence: bars after the first with notes at exactly the previous bar's positions;
- ends on the tonic: the last onset's top or bottom note is the tonic of the piece's key
  (Krumhansl-Schmuckler, music21's key profiles, notes weighted by how long they sound);
- same key in both halves: the key of the first half of the bars equals that of the second;
- onsets per quarter note and the on-beat share of onsets (a beat: a quarter in simple meters,
  a dotted quarter in 6/8, 9/8, 12/8);
- restart rate: bars after the first whose first note comes at or after half the bar (or that
  have none): where a new tune seems to begin;
- longest internal silence: the longest time between two onsets of a piece, in bars;
- chord share (onsets of two notes or more), bass-string share (notes on the lower half of the
  strings: 4-6 of six) and open-string share;
- pieces on the lowest string: the share of pieces with a note on it (does a drop-D piece use
  its low D?).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from tabgen.tab.types import Bar, Tab

# a bar as a listener hears it: its width and (position, pitches) of each sounding column
Signature = tuple[int, tuple[tuple[int, tuple[int, ...]], ...]]

MIN_KEY_NOTES = 8  # fewer notes than this in a half: no key estimate for it


@dataclass(frozen=True)
class FormFigures:
    pieces: int
    bars: int
    exact_bar_repeats: float
    transposed_bar_repeats: float
    window2_repeats: float
    rhythm_recurrence: float
    ends_on_tonic: float | None
    same_key_halves: float | None
    onsets_per_quarter: float
    on_beat_share: float
    restart_rate: float
    longest_silence_bars: float  # the longest over all pieces
    pieces_silent_over_2_bars: float
    chord_share: float
    bass_string_share: float
    open_string_share: float
    pieces_on_lowest_string: float  # share of pieces with a note on the lowest string

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sounding(tab: Tab, bar: Bar) -> list[tuple[int, tuple[int, ...]]]:
    """(position, sorted pitches) of each column of a bar, dead notes left out."""
    out = []
    for col in bar.columns:
        pitches = tuple(sorted(tab.pitch(n) for n in col.notes if n.technique != "x"))
        if pitches:
            out.append((col.position, pitches))
    return out


def bar_signature(tab: Tab, bar: Bar) -> Signature:
    """What a listener hears in a bar: its width and the pitches at each position."""
    return (bar.width, tuple(_sounding(tab, bar)))


def transposed_signature(tab: Tab, bar: Bar) -> Signature | None:
    """The signature with every pitch relative to the bar's lowest; None for a silent bar."""
    cols = _sounding(tab, bar)
    if not cols:
        return None
    low = min(p for _, ps in cols for p in ps)
    return (bar.width, tuple((pos, tuple(p - low for p in ps)) for pos, ps in cols))


def _quarters(bar: Bar, meter: tuple[int, int] | None) -> Fraction:
    """A bar's length in quarter notes."""
    beats, unit = meter or (4, 4)
    return Fraction(4 * beats, unit)


def _beat_slots(meter: tuple[int, int] | None, width: int) -> Fraction:
    """Grid slots per beat in a bar of `width` slots."""
    beats, unit = meter or (4, 4)
    per_beat = Fraction(4, unit)  # quarters per beat unit
    if unit == 8 and beats % 3 == 0 and beats > 3:  # compound meter: the beat is a dotted quarter
        per_beat = Fraction(3, 2)
    return Fraction(width) * per_beat / _quarters(Bar(width), meter)


# Krumhansl and Kessler's key profiles (1982), as music21's KrumhanslSchmuckler key analysis uses
# them (a test checks that they are the same); written here so that compose needs no music21.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


@cache
def _key_profiles() -> np.ndarray:
    """24 x 12 centred key profiles: major keys (tonic 0-11), then minor."""
    rows = [
        np.roll(np.array(profile), tonic) for profile in (MAJOR_PROFILE, MINOR_PROFILE) for tonic in range(12)
    ]
    p = np.array(rows)
    centred: np.ndarray = p - p.mean(axis=1, keepdims=True)
    return centred


def estimate_key(weights: np.ndarray) -> tuple[int, str] | None:
    """(tonic pitch class, 'major' or 'minor') best correlated with a 12-bin pitch-class weighting."""
    if weights.sum() == 0 or np.count_nonzero(weights) < 2:
        return None
    p = _key_profiles()
    x = weights - weights.mean()
    r = (p @ x) / (np.linalg.norm(p, axis=1) * np.linalg.norm(x))
    best = int(np.argmax(r))
    return best % 12, ("major" if best < 12 else "minor")


def _timeline(tab: Tab) -> list[tuple[Fraction, tuple[int, ...]]]:
    """(onset in bars from the start, sorted pitches) of every sounding column."""
    out = []
    for i, bar in enumerate(tab.bars):
        for pos, pitches in _sounding(tab, bar):
            out.append((i + Fraction(pos, bar.width), pitches))
    return out


def pitch_class_weights(tab: Tab, bars: range | None = None) -> tuple[np.ndarray, int]:
    """12-bin pitch-class weights of the notes in `bars` (each weighted by the time to the next
    onset, at most a bar), and how many notes were weighed."""
    events = _timeline(tab)
    lo, hi = (0, len(tab.bars)) if bars is None else (bars.start, bars.stop)
    weights = np.zeros(12)
    count = 0
    for k, (t, pitches) in enumerate(events):
        if not lo <= t < hi:
            continue
        nxt = events[k + 1][0] if k + 1 < len(events) else Fraction(len(tab.bars))
        length = float(min(nxt - t, Fraction(1)))
        for p in pitches:
            weights[p % 12] += length
            count += 1
    return weights, count


def _key_of(tab: Tab, bars: range | None = None) -> tuple[int, str] | None:
    weights, count = pitch_class_weights(tab, bars)
    return estimate_key(weights) if count >= MIN_KEY_NOTES else None


def ends_on_tonic(tab: Tab) -> bool | None:
    """The last onset's top or bottom note is the tonic of the whole piece's key (None: no key)."""
    events = _timeline(tab)
    key = _key_of(tab)
    if not events or key is None:
        return None
    last = events[-1][1]
    return key[0] in (last[0] % 12, last[-1] % 12)


def same_key_halves(tab: Tab) -> bool | None:
    """The key of the first half of the bars equals the key of the second half (None: too few notes)."""
    half = len(tab.bars) // 2
    if half == 0:
        return None
    first, second = _key_of(tab, range(0, half)), _key_of(tab, range(half, len(tab.bars)))
    if first is None or second is None:
        return None
    return first == second


def longest_silence(tab: Tab) -> Fraction:
    """The longest time between two consecutive onsets of the piece, in bars (0 with fewer than two)."""
    times = [t for t, _ in _timeline(tab)]
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=Fraction(0))


def _share(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _mean(flags: Iterable[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def form_figures(tabs: Sequence[Tab]) -> FormFigures:
    """The form figures of the module docstring, pooled over `tabs`."""
    bars_after_first = exact = transposed = 0
    windows = window_repeats = rhythm = restarts = 0
    onsets = on_beat = chords = notes = bass = open_ = 0
    quarters = Fraction(0)
    silences = []
    lowest = 0
    for tab in tabs:
        lowest += any(n.string == tab.tuning.strings for n in tab.notes)
        seen: set[Signature] = set()
        seen_t: set[Signature] = set()
        seen_w: set[tuple[Signature, Signature]] = set()
        sigs = [bar_signature(tab, b) for b in tab.bars]
        prev_positions: tuple[Fraction, ...] | None = None
        for i, bar in enumerate(tab.bars):
            cols = _sounding(tab, bar)
            sig, tsig = sigs[i], transposed_signature(tab, bar)
            positions = tuple(Fraction(pos, bar.width) for pos, _ in cols)
            if i > 0:
                bars_after_first += 1
                if cols and sig in seen:
                    exact += 1
                elif tsig is not None and tsig in seen_t:
                    transposed += 1
                if cols and positions == prev_positions:
                    rhythm += 1
                if not cols or cols[0][0] * 2 >= bar.width:
                    restarts += 1
                window = (sigs[i - 1], sig)
                if sigs[i - 1][1] or sig[1]:
                    windows += 1
                    window_repeats += window in seen_w
                seen_w.add(window)
            seen.add(sig)
            if tsig is not None:
                seen_t.add(tsig)
            prev_positions = positions
            quarters += _quarters(bar, tab.meter)
            beat = _beat_slots(tab.meter, bar.width)
            for pos, pitches in cols:
                onsets += 1
                on_beat += Fraction(pos) % beat == 0
                chords += len(pitches) > 1
            for n in bar.notes:
                if n.technique == "x":
                    continue
                notes += 1
                bass += n.string > tab.tuning.strings // 2
                open_ += n.fret == 0
        silences.append(longest_silence(tab))
    return FormFigures(
        pieces=len(tabs),
        bars=sum(len(t.bars) for t in tabs),
        exact_bar_repeats=_share(exact, bars_after_first),
        transposed_bar_repeats=_share(transposed, bars_after_first),
        window2_repeats=_share(window_repeats, windows),
        rhythm_recurrence=_share(rhythm, bars_after_first),
        ends_on_tonic=_mean(ends_on_tonic(t) for t in tabs),
        same_key_halves=_mean(same_key_halves(t) for t in tabs),
        onsets_per_quarter=float(onsets / quarters) if quarters else 0.0,
        on_beat_share=_share(on_beat, onsets),
        restart_rate=_share(restarts, bars_after_first),
        longest_silence_bars=float(max(silences, default=0)),
        pieces_silent_over_2_bars=_share(sum(1 for s in silences if s > 2), len(tabs)),
        chord_share=_share(chords, onsets),
        bass_string_share=_share(bass, notes),
        open_string_share=_share(open_, notes),
        pieces_on_lowest_string=_share(lowest, len(tabs)),
    )


def corpus_figures(tabs: Iterable[Tab], meter: tuple[int, int] | None, bars: int) -> FormFigures:
    """The figures of corpus pieces to set beside samples of `bars` bars in `meter`.

    Only pieces in that meter count. Repetition, rhythm, density and texture are measured on the
    first `bars` bars of the pieces that have that many (as long as a sample); the ending and the
    key of the halves on the whole pieces, whose real end is the one that should land."""

    same = [t for t in tabs if (t.meter or (4, 4)) == (meter or (4, 4)) and t.bars]
    cut = [replace(t, bars=t.bars[:bars]) for t in same if len(t.bars) >= bars]
    figures = form_figures(cut)
    return replace(
        figures,
        ends_on_tonic=_mean(ends_on_tonic(t) for t in same),
        same_key_halves=_mean(same_key_halves(t) for t in same),
    )
