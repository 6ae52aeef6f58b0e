"""Fretting against hand-checked fingerings, and the optimality of the dynamic program."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.tab.fretting import cost, fret_pitches, naive_fretting
from tabgen.tab.types import Tuning

STANDARD = Tuning.named("standard")


def frets(result):
    return [[(n.string, n.fret) for n in chord] for chord in result.chords]


def single(*pitches):
    return [[p] for p in pitches]


def test_c_major_scale_in_open_position():
    # C3 D3 E3 F3 G3 A3 B3 C4: A3, D0 D2 D3, G0 G2, B0 B1 -- the first scale a guitarist learns
    r = fret_pitches(single(48, 50, 52, 53, 55, 57, 59, 60), STANDARD)
    assert frets(r) == [[(5, 3)], [(4, 0)], [(4, 2)], [(4, 3)], [(3, 0)], [(3, 2)], [(2, 0)], [(2, 1)]]
    assert r.octave_moves == 0 and r.dropped == 0


def test_c_major_arpeggio_uses_the_open_chord_shape():
    # C E G C E C G E over the open C chord x32010
    r = fret_pitches(single(48, 52, 55, 60, 64, 60, 55, 52), STANDARD)
    assert frets(r) == [[(5, 3)], [(4, 2)], [(3, 0)], [(2, 1)], [(1, 0)], [(2, 1)], [(3, 0)], [(4, 2)]]


def test_melody_that_climbs_to_the_twelfth_fret_shifts_position_once():
    # G3 A3 B3 C4 in open position, then E5 F5 G5 E5: one jump to the 12th position
    r = fret_pitches(single(55, 57, 59, 60, 76, 77, 79, 76), STANDARD)
    assert frets(r) == [[(3, 0)], [(3, 2)], [(2, 0)], [(2, 1)], [(1, 12)], [(1, 13)], [(1, 15)], [(1, 12)]]


def test_naive_lowest_fret_costs_more_on_a_melody_in_seventh_position():
    # D major scale from E4 up to E5 and back: naive plays it all on the top string
    events = single(64, 66, 67, 69, 71, 72, 74, 76, 74, 72)
    best, naive = fret_pitches(events, STANDARD), naive_fretting(events, STANDARD)
    assert {n.string for c in naive.chords for n in c} == {1}
    assert best.cost < naive.cost
    assert [STANDARD.pitch(n.string, n.fret) for c in best.chords for n in c] == [e[0] for e in events]


def test_open_chords_within_span():
    r = fret_pitches([[48, 52, 55, 60, 64], [43, 47, 50, 55, 59, 67], [40, 47, 52, 56, 59, 64]], STANDARD)
    c_major = [(1, 0), (2, 1), (3, 0), (4, 2), (5, 3)]  # x32010
    g_major = [(1, 3), (2, 0), (3, 0), (4, 0), (5, 2), (6, 3)]  # 320003
    e_major = [(1, 0), (2, 0), (3, 1), (4, 2), (5, 2), (6, 0)]  # 022100
    assert frets(r) == [c_major, g_major, e_major]


def test_f_barre_chord():
    r = fret_pitches([[41, 48, 53, 57, 60, 65]], STANDARD)
    assert frets(r) == [[(1, 1), (2, 1), (3, 2), (4, 3), (5, 3), (6, 1)]]  # 133211


def test_out_of_range_pitches_move_by_octaves_and_are_counted():
    r = fret_pitches([[30], [100], [64]], STANDARD)  # F#1 below the low E, E7 above fret 24
    assert frets(r) == [[(6, 2)], [(1, 24)], [(1, 0)]]  # F#2, E6
    assert r.octave_moves == 2 and r.dropped == 0
    r = fret_pitches([[100]], STANDARD, max_fret=12)
    assert frets(r) == [[(1, 12)]] and r.octave_moves == 1


def test_chord_beyond_reach_moves_one_note_by_an_octave():
    # F5 over F2: 12 frets apart on any strings; moving F5 down an octave gives e1 + E1
    r = fret_pitches([[77, 41]], STANDARD)
    assert frets(r) == [[(1, 1), (6, 1)]]
    assert r.octave_moves == 1 and r.dropped == 0


def test_more_notes_than_strings_drops_and_counts():
    r = fret_pitches([[40, 45, 50, 55, 59, 64, 69]], STANDARD)
    assert len(r.chords[0]) == 6 and r.dropped == 1
    assert len({n.string for n in r.chords[0]}) == 6


def test_empty_events_stay_empty():
    r = fret_pitches([[67], [], [69]], STANDARD)
    assert frets(r) == [[(1, 3)], [], [(1, 5)]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(40, 84), min_size=1, max_size=24))
def test_dynamic_program_never_costs_more_than_naive(melody):
    events = [[p] for p in melody]
    best, naive = fret_pitches(events, STANDARD), naive_fretting(events, STANDARD)
    assert [STANDARD.pitch(c[0].string, c[0].fret) for c in best.chords] == melody
    assert abs(cost(best.chords) - best.cost) < 1e-9
    assert best.cost <= naive.cost + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(20, 110), min_size=1, max_size=4), min_size=1, max_size=10))
def test_every_chord_is_playable(events):
    r = fret_pitches(events, STANDARD)
    for chord, ev in zip(r.chords, events, strict=True):
        strings = [n.string for n in chord]
        assert len(strings) == len(set(strings))
        fretted = [n.fret for n in chord if n.fret]
        assert not fretted or max(fretted) - min(fretted) <= 4
        # every pitch kept is one of the event's pitch classes
        assert {STANDARD.pitch(n.string, n.fret) % 12 for n in chord} <= {p % 12 for p in ev}


# --- polyphony: bass, inner voices and melody fretted together -----------------------------------


def test_open_strings_where_a_guitarist_uses_them():
    # E2 under B3, then G3 E4 B3: the open E minor arpeggio, every note an open string
    r = fret_pitches([[40, 59], [55], [64], [59]], STANDARD)
    assert frets(r) == [[(2, 0), (6, 0)], [(3, 0)], [(1, 0)], [(2, 0)]]
    # after an open D or a D-string note, G3 is the open G string, not D5
    assert frets(fret_pitches(single(50, 55), STANDARD)) == [[(4, 0)], [(3, 0)]]
    assert frets(fret_pitches(single(52, 55), STANDARD)) == [[(4, 2)], [(3, 0)]]
    # G2 with G3 over it: the open G
    assert frets(fret_pitches([[43, 55]], STANDARD)) == [[(3, 0), (6, 3)]]


def test_bass_and_melody_an_octave_and_more_apart():
    # A2 under A4: open A in the bass, the melody on the top string
    assert frets(fret_pitches([[45, 69]], STANDARD)) == [[(1, 5), (5, 0)]]
    # in drop D, D2 under A3 and F#4 is the open low D
    r = fret_pitches([[38, 57, 66]], Tuning.named("drop-d"))
    assert frets(r) == [[(1, 2), (3, 2), (6, 0)]]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["standard", "drop-d", "dadgad", "open-g"]),
    st.lists(st.lists(st.integers(36, 90), min_size=1, max_size=6), min_size=1, max_size=8),
)
def test_every_polyphonic_column_is_playable_in_every_tuning(name, events):
    tuning = Tuning.named(name)
    r = fret_pitches(events, tuning)
    kept = 0
    for chord, ev in zip(r.chords, events, strict=True):
        strings = [n.string for n in chord]
        assert len(strings) == len(set(strings)) and all(0 <= n.fret <= 24 for n in chord)
        fretted = [n.fret for n in chord if n.fret]
        assert not fretted or max(fretted) - min(fretted) <= 4
        assert {tuning.pitch(n.string, n.fret) % 12 for n in chord} <= {p % 12 for p in ev}
        kept += len(chord)
    # a note is lost only when counted as dropped (unisons too)
    assert kept == sum(len(ev) for ev in events) - r.dropped


def test_a_players_string_is_kept_where_a_hand_can_play_it():
    # E4 asked on the B string: fret 5 there, and the melody after it stays in that position
    r = fret_pitches(single(64, 62), STANDARD, strings=[{64: 2}, {}])
    assert frets(r) == [[(2, 5)], [(2, 3)]]
    # the bass of a chord asked on the sixth string: A2 at E5 under the open B and E
    r = fret_pitches([[45, 59, 64]], STANDARD, strings=[{45: 6}])
    assert frets(r) == [[(1, 0), (2, 0), (6, 5)]]
    # E5 cannot sound on the low E string: the request is ignored
    assert frets(fret_pitches(single(76), STANDARD, strings=[{76: 6}])) == [[(1, 12)]]
