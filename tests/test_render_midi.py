"""MIDI rendering: pitches, onsets, let-ring ends and bends, read back from the written file.

At the default 100 BPM a quarter note lasts 0.6 s, a grid slot (a sixteenth) 0.15 s, a 4/4 bar 2.4 s.
"""

from __future__ import annotations

import os

import mido
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import RenderError, TabgenError
from tabgen.render.midi import channel_for, midi_file, tab_to_midi, write_midi
from tabgen.tab.parse import parse_text
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
from tests.tab_fixtures import make_tab

BAR = 2.4


def read_back(tab, tmp_path, tempo=100.0):
    path = tmp_path / "out.mid"
    write_midi(tab, path, tempo)
    midi = pretty_midi.PrettyMIDI(str(path))
    midi.source = path  # (for bends_of: which channel, so which string, a bend is on)
    return midi


def notes_of(midi):
    """(pitch, start, end, velocity) of every note, rounded to the millisecond, in time order."""
    found = [
        (n.pitch, round(n.start, 3), round(n.end, 3), n.velocity) for i in midi.instruments for n in i.notes
    ]
    return sorted(found, key=lambda x: (x[1], x[0]))


def bends_of(midi):
    """{"string N": [(time, value), ...]} for strings that bend (each string has its own channel)."""
    strings = {channel_for(k): k for k in range(1, 9)}
    found: dict[str, list] = {}
    for track in mido.MidiFile(midi.source).tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "pitchwheel":
                key = f"string {strings[msg.channel]}"
                found.setdefault(key, []).append((round(midi.tick_to_time(tick), 3), msg.pitch))
    return found


def test_one_instrument_track_with_a_channel_per_string():
    tab = make_tab([[(0, [(6, 3), (5, 2), (4, 0), (3, 0), (2, 0), (1, 3)]), (8, [(3, 2)])]])
    mid = midi_file(tab)
    assert len(mid.tracks) == 2  # the tempo track, then the guitar
    track = mid.tracks[1]
    assert [m.name for m in track if m.type == "track_name"] == ["Guitar"]
    programs = {m.channel: m.program for m in track if m.type == "program_change"}
    assert programs == {c: 25 for c in range(6)}
    notes = [(m.channel, m.note) for m in track if m.type == "note_on" and m.velocity]
    assert sorted(notes) == [(0, 67), (1, 59), (2, 55), (2, 57), (3, 50), (4, 47), (5, 43)]
    bass = midi_file(make_tab([[(0, [(4, 0)])]], tuning="bass-4"))
    assert [m.name for m in bass.tracks[1] if m.type == "track_name"] == ["Bass"]
    assert [channel_for(s) for s in (1, 9, 10, 11)] == [0, 8, 10, 11]  # (never 9: General MIDI drums)


def test_standard_tuning_pitches_onsets_and_let_ring(tmp_path):
    # G string open, then B string 1st fret, then G string 2nd fret; high e open rings to the bar end
    tab = make_tab([[(0, [(3, 0)]), (4, [(2, 1)]), (8, [(3, 2)]), (12, [(1, 0)])]])
    midi = read_back(tab, tmp_path)
    assert [(p, s, e) for p, s, e, _ in notes_of(midi)] == [
        (55, 0.0, 1.2),  # G3 rings until the next note on its string (slot 8)
        (60, 0.6, 2.4),  # C4 rings to the end of the bar
        (57, 1.2, 2.4),
        (64, 1.8, 2.4),
    ]
    assert midi.instruments[0].program == 25  # steel-string guitar
    assert midi.get_tempo_changes()[1].tolist() == [100.0]
    ts = midi.time_signature_changes
    assert [(t.numerator, t.denominator, t.time) for t in ts] == [(4, 4, 0.0)]


def test_second_bar_starts_after_the_first(tmp_path):
    tab = make_tab([[(0, [(6, 3)])], [(2, [(6, 5)])]])
    got = [(p, s, e) for p, s, e, _ in notes_of(read_back(tab, tmp_path))]
    assert got == [(43, 0.0, 2.4), (45, 2.7, 4.8)]


def test_drop_d_low_string(tmp_path):
    tab = make_tab([[(0, [(6, 0)]), (8, [(6, 2), (4, 0)])]], tuning="drop-d")
    got = [(p, s, e) for p, s, e, _ in notes_of(read_back(tab, tmp_path))]
    assert got == [(38, 0.0, 1.2), (40, 1.2, 2.4), (50, 1.2, 2.4)]


def test_bass_tuning_and_program(tmp_path):
    tab = make_tab([[(0, [(4, 0)]), (4, [(3, 3)]), (8, [(2, 2)])]], tuning="bass-4")
    midi = read_back(tab, tmp_path)
    assert [p for p, *_ in notes_of(midi)] == [28, 36, 40]
    assert {i.program for i in midi.instruments} == {33}


def test_seven_string_low_b(tmp_path):
    tab = make_tab([[(0, [(7, 0)]), (4, [(7, 5)])]], tuning="seven")
    midi = read_back(tab, tmp_path)
    assert [(p, s, e) for p, s, e, _ in notes_of(midi)] == [(35, 0.0, 0.6), (40, 0.6, 2.4)]
    assert {i.program for i in midi.instruments} == {25}


def test_nylon_program_from_metadata():
    tab = make_tab([[(0, [(1, 0)])]], meta=(("instrument", "Classical guitar"),))
    assert tab_to_midi(tab).instruments[0].program == 24


def test_chord_notes_start_together(tmp_path):
    # an open G major chord: 3 2 0 0 0 3 (low to high)
    chord = [(6, 3), (5, 2), (4, 0), (3, 0), (2, 0), (1, 3)]
    got = notes_of(read_back(make_tab([[(0, chord)]]), tmp_path))
    assert [(p, s, e) for p, s, e, _ in got] == [(p, 0.0, 2.4) for p in (43, 47, 50, 55, 59, 67)]


def test_three_four_meter_and_tempo(tmp_path):
    tab = make_tab([[(0, [(1, 0)]), (6, [(1, 2)])], [(0, [(1, 3)])]], meter=(3, 4), width=12)
    midi = read_back(tab, tmp_path, tempo=120.0)  # quarter 0.5 s, 3/4 bar 1.5 s
    assert [(p, s, e) for p, s, e, _ in notes_of(midi)] == [(64, 0.0, 0.75), (66, 0.75, 1.5), (67, 1.5, 3.0)]
    ts = midi.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert midi.get_tempo_changes()[1].tolist() == [120.0]


def test_ascii_tab_onsets_come_from_the_grid(tmp_path):
    text = """\
e|0-------3-------|
B|----1-----------|
G|----------------|
D|----------------|
A|----------------|
E|----------------|
"""
    (tab,) = parse_text(text).tabs  # width 16 characters: one slot per character
    got = [(p, s, e) for p, s, e, _ in notes_of(read_back(tab, tmp_path))]
    assert got == [(64, 0.0, 1.2), (60, 0.6, 2.4), (67, 1.2, 2.4)]


def test_hammer_on_and_pull_off_are_legato_and_softer(tmp_path):
    tab = make_tab([[(0, [(3, 5)]), (2, [(3, 7, "h")]), (4, [(3, 5, "p")])]])
    got = notes_of(read_back(tab, tmp_path))
    assert got == [(60, 0.0, 0.3, 90), (62, 0.3, 0.6, 70), (60, 0.6, 2.4, 70)]


def test_bend_and_release_are_pitch_bends_on_the_bent_note(tmp_path):
    # 7b9r7 on the G string, with the high e ringing meanwhile: only the G string bends
    tab = make_tab([[(0, [(3, 7), (1, 0)]), (4, [(3, 9, "b")]), (8, [(3, 7, "r")]), (12, [(3, 5)])]])
    midi = read_back(tab, tmp_path)
    # one sounding note for 7b9r7 (no new attack), then a fresh 5
    assert [(p, s, e) for p, s, e, _ in notes_of(midi)] == [(62, 0.0, 1.8), (64, 0.0, 2.4), (60, 1.8, 2.4)]
    bends = bends_of(midi)
    assert list(bends) == ["string 3"]
    values = bends["string 3"]
    up = [v for t, v in values if 0.6 <= t <= 0.6 + 0.121]
    down = [v for t, v in values if 1.2 <= t <= 1.2 + 0.121]
    assert up[-1] == 8191 and up == sorted(up)  # a whole step up, reached within the bend time
    assert down[-1] == 0 and down == sorted(down, reverse=True)
    assert all(t < 1.8 or v == 0 for t, v in values)  # the next note is not bent


def test_wide_bend_sets_the_bend_range(tmp_path):
    tab = make_tab([[(0, [(2, 5)]), (4, [(2, 8, "b")])]])  # a bend of 3 semitones
    midi = read_back(tab, tmp_path)
    (inst,) = midi.instruments
    rpn = [(c.number, c.value) for c in inst.control_changes]
    assert sorted(rpn[:2]) == [(100, 0), (101, 0)]  # select RPN 0 (bend range) first,
    assert rpn[2:4] == [(6, 3), (38, 0)]  # then set it to 3 semitones
    assert inst.pitch_bends[-1].pitch == 8191


def test_bend_is_reset_before_the_next_note_on_that_string(tmp_path):
    tab = make_tab([[(0, [(3, 7)]), (4, [(3, 9, "b")]), (8, [(3, 2)])]])
    midi = read_back(tab, tmp_path)
    (inst,) = midi.instruments
    last = inst.pitch_bends[-1]
    assert (round(last.time, 3), last.pitch) == (1.2, 0)
    assert [(n.pitch, round(n.start, 3)) for n in inst.notes] == [(62, 0.0), (57, 1.2)]


def test_slide_glides_into_the_target_note(tmp_path):
    tab = make_tab([[(0, [(5, 3)]), (8, [(5, 5, "/")])]])
    midi = read_back(tab, tmp_path)
    assert [(p, s, e, v) for p, s, e, v in notes_of(midi)] == [(48, 0.0, 1.2, 90), (50, 1.2, 2.4, 70)]
    bends = bends_of(midi)["string 5"]
    glide = [(t, v) for t, v in bends if t < 1.2]
    assert glide and all(1.2 - 0.08 <= t for t, _ in glide)
    assert glide[-1][1] == 8191  # reaches the target (two frets up) as the new note starts
    assert bends[-1] == (1.2, 0)


def test_dead_and_palm_muted_notes_are_short(tmp_path):
    tab = make_tab([[(0, [(6, 0, "x")]), (4, [(6, 0, "pm")]), (8, [(6, 3)])]])
    got = notes_of(read_back(tab, tmp_path))
    assert got == [(40, 0.0, 0.05, 40), (40, 0.6, 0.9, 80), (43, 1.2, 2.4, 90)]


@pytest.mark.parametrize(
    ("fret", "technique", "pitch"),
    [(12, "<>", 57), (7, "<>", 64), (5, "<>", 69), (19, "<>", 64), (2, "<>", 59), (5, "[]", 62)],
)
def test_harmonics_sound_at_the_harmonic_pitch(tmp_path, fret, technique, pitch):
    tab = make_tab([[(0, [(5, fret, technique)])]])  # A string, open A2 = 45
    assert [p for p, *_ in notes_of(read_back(tab, tmp_path))] == [pitch]


def test_grace_note_sounds_just_before_its_main_note(tmp_path):
    # 2g0 on the high e at slots 3 and 4: the grace ends where the main note starts
    tab = make_tab([[(0, [(1, 5)]), (3, [(1, 2, "g")]), (4, [(1, 0)])]])
    got = [(p, s, e) for p, s, e, _ in notes_of(read_back(tab, tmp_path))]
    assert got == [(69, 0.0, 0.54), (66, 0.54, 0.6), (64, 0.6, 2.4)]


def test_vibrato_wiggles_and_returns_to_centre(tmp_path):
    tab = make_tab([[(0, [(2, 5, "~")]), (8, [(1, 0)])]])
    midi = read_back(tab, tmp_path)
    values = bends_of(midi)["string 2"]
    assert min(v for _, v in values) < 0 < max(v for _, v in values)
    assert values[-1][1] == 0 and values[-1][0] <= 2.4
    assert "string 1" not in bends_of(midi)


def test_empty_bars_keep_their_time(tmp_path):
    tab = make_tab([[], [(0, [(1, 0)])]])
    assert [(s, e) for _, s, e, _ in notes_of(read_back(tab, tmp_path))] == [(BAR, 2 * BAR)]


def test_bad_tempo_is_a_render_error_and_writes_nothing(tmp_path):
    path = tmp_path / "x.mid"
    with pytest.raises(RenderError, match="tempo"):
        write_midi(make_tab([[(0, [(1, 0)])]]), path, tempo=0)
    assert os.listdir(tmp_path) == []


def test_write_is_atomic_over_an_existing_file(tmp_path):
    path = tmp_path / "x.mid"
    path.write_bytes(b"old")
    with pytest.raises(RenderError):
        write_midi(make_tab([[(0, [(1, 0)])]]), path, tempo=1000)
    assert path.read_bytes() == b"old"
    write_midi(make_tab([[(0, [(1, 0)])]]), path)
    assert path.read_bytes().startswith(b"MThd")
    assert sorted(os.listdir(tmp_path)) == ["x.mid"]


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(TabgenError, match="cannot write"):
        write_midi(make_tab([[(0, [(1, 0)])]]), tmp_path / "no" / "x.mid")


# --- properties over random tabs -----------------------------------------------------------------

_note = st.tuples(
    st.integers(1, 6), st.integers(0, 15), st.sampled_from(["", "h", "p", "b", "r", "~", "x", "pm"])
)
_bar = st.dictionaries(st.integers(0, 15), st.lists(_note, min_size=1, max_size=3), max_size=6)


def _random_tab(bars):
    out = []
    for cols in bars:
        columns = []
        for pos in sorted(cols):
            by_string = {s: Note(s, f, t) for s, f, t in cols[pos]}  # one note per string per column
            columns.append(Column(pos, tuple(by_string.values())))
        out.append(Bar(16, tuple(columns)))
    return Tab(Tuning.named("standard"), tuple(out))


@settings(max_examples=40, deadline=None)
@given(st.lists(_bar, min_size=1, max_size=3))
def test_no_bend_leaks_onto_a_new_attack(bars):
    tab = _random_tab(bars)
    midi = tab_to_midi(tab)
    for inst in midi.instruments:
        for n in inst.notes:
            before = [b for b in inst.pitch_bends if b.time <= n.start + 1e-9]
            if before:
                assert before[-1].pitch == 0, f"{inst.name} note at {n.start} starts bent"


@settings(max_examples=40, deadline=None)
@given(st.lists(_bar, min_size=1, max_size=3))
def test_plain_notes_start_on_their_grid_slot(bars):
    tab = _random_tab(bars)
    expected = sorted(
        (round(b * BAR + c.position * 0.15, 6), tab.pitch(n))
        for b, bar in enumerate(tab.bars)
        for c in bar.columns
        for n in c.notes
        if n.technique in ("", "~", "x", "pm")
    )
    got = sorted((round(n.start, 6), n.pitch) for i in tab_to_midi(tab).instruments for n in i.notes)
    assert set(expected) <= set(got)
    # each string is monophonic: its notes never overlap
    for inst in tab_to_midi(tab).instruments:
        spans = sorted((n.start, n.end) for n in inst.notes)
        assert all(
            a_end <= b_start + 1e-9 for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)
        )


def test_ascii_drop_d_tab_with_techniques(tmp_path):
    text = """\
e|--------------------|
B|--------------------|
G|5h7p5---7b9r7-------|
D|--------------------|
A|--------------------|
D|0-------------<12>--|
"""
    # 20 characters onto 16 slots (tabgen.tab.rhythm): offsets 0 2 4 8 10 12 15 -> 0 2 3 6 8 10 12
    (tab,) = parse_text(text).tabs
    midi = read_back(tab, tmp_path)
    assert notes_of(midi) == [
        (38, 0.0, 1.8, 90),  # low D rings until the harmonic on its string
        (60, 0.0, 0.3, 90),
        (62, 0.3, 0.45, 70),  # hammer-on
        (60, 0.45, 0.9, 70),  # pull-off
        (62, 0.9, 2.4, 90),  # 7, bent to 9 and released to 7: one attack
        (50, 1.8, 2.4, 90),  # natural harmonic at the 12th fret of the low D: D3
    ]
    bends = bends_of(midi)["string 3"]
    assert [v for t, v in bends if t <= 1.2 + 0.12 + 1e-3][-1] == 8191
    assert bends[-1] == (round(1.5 + 0.12, 3), 0)


def test_slide_in_from_nowhere_starts_below_and_glides_up(tmp_path):
    tab = make_tab([[(4, [(4, 7, "/")])], [(4, [(4, 7, "\\")])]])
    midi = read_back(tab, tmp_path)
    assert [(p, s) for p, s, _, _ in notes_of(midi)] == [(57, 0.6), (57, 3.0)]
    bends = bends_of(midi)["string 4"]
    up = [v for t, v in bends if 0.6 <= t <= 0.6 + 0.081]
    down = [v for t, v in bends if 3.0 <= t <= 3.0 + 0.081]
    assert up[0] == -8192 and up[-1] == 0 and up == sorted(up)
    assert down[0] == 8191 and down[-1] == 0 and down == sorted(down, reverse=True)


def test_ghost_notes_are_much_softer_than_plain_notes(tmp_path):
    text = "\n".join(["e|-(5)---5---(12)-12--|", *(f"{s}|--------------------|" for s in "BGDAE")])
    (tab,) = parse_text(text).tabs
    assert [n.technique for n in tab.notes] == ["()", "", "()", ""]
    got = notes_of(read_back(tab, tmp_path))
    assert [(p, v) for p, _, _, v in got] == [(69, 45), (69, 90), (76, 45), (76, 90)]
