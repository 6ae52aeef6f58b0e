"""tabgen.form: the form figures on hand-made pieces whose values are known."""

from fractions import Fraction

import numpy as np
import pytest

from tabgen.form import (
    MAJOR_PROFILE,
    MINOR_PROFILE,
    corpus_figures,
    ends_on_tonic,
    estimate_key,
    form_figures,
    longest_silence,
    pitch_class_weights,
    same_key_halves,
)
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

STANDARD = Tuning.named("standard")  # e4 b3 g3 d3 a2 e2; string 1 is the high e


def bar(*cols: tuple[int, tuple[tuple[int, int], ...]], width: int = 16) -> Bar:
    """bar((0, ((1, 3),)), ...): columns at positions, each (string, fret) notes."""
    return Bar(width, tuple(Column(pos, tuple(Note(s, f) for s, f in notes)) for pos, notes in cols))


def quarters(*notes: tuple[int, int]) -> Bar:
    """Four quarter notes in 4/4, one (string, fret) each."""
    return bar(*((4 * i, (n,)) for i, n in enumerate(notes)))


# C major on the B and high e strings: C4 = B 1, D4 = B 3, E4 = e 0, F4 = e 1, G4 = e 3
C, D, E, F, G = (2, 1), (2, 3), (1, 0), (1, 1), (1, 3)
A_BAR = quarters(C, E, G, E)
B_BAR = quarters(D, F, D, G)
END_BAR = bar((0, (C, (5, 3))))  # C4 over a low C (A string, fret 3), a whole note


def piece(*bars: Bar, meter=(4, 4)) -> Tab:
    return Tab(STANDARD, tuple(bars), meter)


def test_exact_and_transposed_repeats_windows_and_rhythm():
    up = quarters((2, 3), (1, 2), (1, 5), (1, 2))  # A_BAR a whole tone up (D F# A F#)
    tab = piece(A_BAR, B_BAR, A_BAR, B_BAR, up, END_BAR)
    f = form_figures([tab])
    # 5 bars after the first: bars 3 and 4 repeat exactly, bar 5 is bar 1 transposed
    assert f.exact_bar_repeats == pytest.approx(2 / 5)
    assert f.transposed_bar_repeats == pytest.approx(1 / 5)
    # 2-bar windows (1,2) (2,3) (3,4) (4,5) (5,6): (3,4) repeats (1,2)
    assert f.window2_repeats == pytest.approx(1 / 5)
    # bars 2-5 have the previous bar's rhythm (four quarters), bar 6 does not
    assert f.rhythm_recurrence == pytest.approx(4 / 5)
    assert f.restart_rate == 0.0
    # 21 onsets in 6 bars of 4 quarters; all on a beat; one chord of 21 onsets
    assert f.onsets_per_quarter == pytest.approx(21 / 24)
    assert f.on_beat_share == 1.0
    assert f.chord_share == pytest.approx(1 / 21)
    # 22 notes: one on a lower string (the low C), 4 on the open high e (E4 twice in bars 1 and 3)
    assert f.bass_string_share == pytest.approx(1 / 22)
    assert f.open_string_share == pytest.approx(4 / 22)
    assert f.pieces_on_lowest_string == 0.0  # the low C is on the A string
    low_e = form_figures([tab, piece(A_BAR, bar((0, ((6, 0),))))])
    assert low_e.pieces_on_lowest_string == 0.5


def test_silent_bars_are_restarts_and_never_repeats():
    silent = Bar(16)
    late = bar((8, (G,)))  # the first note at half the bar: a restart
    tab = piece(A_BAR, silent, silent, late, A_BAR)
    f = form_figures([tab])
    assert f.exact_bar_repeats == pytest.approx(1 / 4)  # only bar 5
    assert f.restart_rate == pytest.approx(3 / 4)  # bars 2, 3 (silent) and 4 (late)
    # the last quarter of bar 1 to beat 3 of bar 4: 2 3/4 bars
    assert longest_silence(tab) == Fraction(11, 4)
    assert f.longest_silence_bars == pytest.approx(2.75) and f.pieces_silent_over_2_bars == 1.0
    assert f.window2_repeats == 0.0  # (2,3) is two silent bars: not counted


def test_beats_of_compound_meters_are_dotted_quarters():
    six_eight = bar((0, (C,)), (3, (E,)), (6, (G,)), (9, (E,)), width=12)  # eighths 1, 2.. : 0, 3, 6, 9
    f = form_figures([piece(six_eight, meter=(6, 8))])
    assert f.on_beat_share == pytest.approx(2 / 4)  # on the two dotted-quarter beats: 0 and 6
    assert f.onsets_per_quarter == pytest.approx(4 / 3)  # 4 onsets in 3 quarters


def test_key_profiles_are_music21s():
    from music21.analysis.discrete import KrumhanslSchmuckler

    ks = KrumhanslSchmuckler()
    assert list(MAJOR_PROFILE) == ks.getWeights("major")
    assert list(MINOR_PROFILE) == ks.getWeights("minor")


def test_key_estimate_agrees_with_music21_on_scales_and_a_chorale():
    import music21

    def pcs(stream) -> np.ndarray:
        w = np.zeros(12)
        for n in stream.recurse().notes:
            for p in n.pitches:
                w[p.pitchClass] += float(n.quarterLength)
        return w

    for name in ["bach/bwv269", "bach/bwv66.6", "bach/bwv153.1"]:
        score = music21.corpus.parse(name)
        theirs = score.analyze("key")
        ours = estimate_key(pcs(score))
        assert ours == (theirs.tonic.pitchClass, theirs.mode), name


def test_ends_on_the_tonic_and_one_key_in_both_halves():
    home = piece(A_BAR, B_BAR, A_BAR, END_BAR)
    assert estimate_key(pitch_class_weights(home)[0]) == (0, "major")
    assert ends_on_tonic(home) is True
    away = piece(A_BAR, B_BAR, A_BAR, quarters(D, D, D, D))  # ends on D
    assert ends_on_tonic(away) is False
    assert same_key_halves(piece(A_BAR, B_BAR, A_BAR, B_BAR)) is True
    # first half in C, second half around F# (F#4 A#4 C#5 A#4, then B4 C5 D#5 F#4): not C
    f_sharp = quarters((2, 7), (1, 6), (1, 9), (1, 6))
    f_sharp2 = quarters((2, 11), (1, 8), (1, 11), (1, 2))
    assert same_key_halves(piece(A_BAR, B_BAR, f_sharp, f_sharp2)) is False
    assert same_key_halves(piece(bar((0, (C,))), bar((0, (E,))))) is None  # too few notes for a key


def test_corpus_figures_take_the_same_meter_cut_to_the_sample_length():
    long_tune = piece(A_BAR, B_BAR, A_BAR, B_BAR, A_BAR, END_BAR)
    short_tune = piece(A_BAR, A_BAR)  # too short for 4-bar samples: left out of the repetition figures
    waltz = piece(bar((0, (C,)), width=12), meter=(3, 4))  # another meter: left out altogether
    f = corpus_figures([long_tune, short_tune, waltz], (4, 4), 4)
    assert f.pieces == 1 and f.bars == 4  # the long tune's first 4 bars
    assert f.exact_bar_repeats == pytest.approx(2 / 3)
    assert f.ends_on_tonic == 1.0  # the long tune's real end (a C); the short tune has no key
