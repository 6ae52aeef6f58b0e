"""Guitar Pro out and in: tab -> .gp5 -> Tab keeps every note; native GP files go onto the grid."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import guitarpro as gp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.errors import InputError, RenderError
from tabgen.render.gp import write_gp5
from tabgen.sources.guitarpro import read_gp, read_gp_result
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, slots_per_bar
from tests.tab_fixtures import TECHNIQUE_BARS, make_tab

MSCORE = shutil.which("mscore3") or shutil.which("mscore")


FIXTURES = {
    "standard": make_tab([[(0, [(3, 0)]), (4, [(2, 1)]), (8, [(3, 2)]), (12, [(1, 0)])], [(2, [(6, 3)])]]),
    "drop-d": make_tab([[(0, [(6, 0), (4, 0)]), (8, [(6, 2)])]], tuning="drop-d"),
    "bass": make_tab([[(0, [(4, 0)]), (4, [(3, 3)]), (8, [(2, 2)])]], tuning="bass-4"),
    "seven": make_tab([[(0, [(7, 0)]), (4, [(7, 5), (1, 12)])]], tuning="seven"),
    "chord": make_tab([[(0, [(6, 3), (5, 2), (4, 0), (3, 0), (2, 0), (1, 3)])], []]),
    "waltz with repeats": make_tab(
        [[(0, [(6, 3)]), (4, [(3, 0)]), (8, [(2, 0)])], [(0, [(5, 2)]), (6, [(1, 0)])]],
        meter=(3, 4),
        width=12,
        title="Waltz",
        repeats=((True, 0), (False, 2)),
    ),
    # every technique, and the plain slide "s" too
    "techniques": make_tab([TECHNIQUE_BARS[0], [*TECHNIQUE_BARS[1], (14, [(4, 5, "s")])]]),
}


@pytest.mark.parametrize("name", list(FIXTURES))
def test_gp5_round_trip_keeps_every_note(tmp_path, name):
    tab = FIXTURES[name]
    path = tmp_path / "out.gp5"
    write_gp5(tab, path)
    assert all(filled == holds for filled, holds in _measure_ticks(gp.parse(str(path))))
    (back,) = read_gp(path)
    want = normalize(tab)
    assert back.tuning.pitches == tab.tuning.pitches
    assert back.meter == (tab.meter or (4, 4))
    assert back.bars == want.bars
    assert back.title == tab.title
    assert [back.pitch(n) for n in back.notes] == [tab.pitch(n) for n in want.notes]


def test_ghost_notes_carry_the_ghost_note_flag(tmp_path):
    tab = make_tab(
        [[(0, [(1, 5, "()")]), (4, [(1, 5)]), (8, [(3, 2, "()"), (1, 0, "()")]), (12, [(2, 3, "h")])]]
    )
    path = tmp_path / "ghost.gp5"
    write_gp5(tab, path)
    song = gp.parse(str(path))
    notes = [n for m in song.tracks[0].measures for v in m.voices for b in v.beats for n in b.notes]
    assert [(n.string, n.value, n.effect.ghostNote) for n in notes] == [
        (1, 5, True),
        (1, 5, False),
        (1, 0, True),
        (3, 2, True),
        (2, 3, False),
    ]
    (back,) = read_gp(path)  # and read back as ghost notes, each at its place
    want = [(n.string, n.fret, n.technique == "()") for n in normalize(tab).notes]
    assert [(n.string, n.fret, n.technique == "()") for n in back.notes] == want


def test_more_strings_than_guitar_pro_holds(tmp_path):
    tab = make_tab([[(0, [(8, 0)])]], tuning="eight")
    with pytest.raises(RenderError, match="at most 7 strings"):
        write_gp5(tab, tmp_path / "x.gp5")
    assert os.listdir(tmp_path) == []


def _native_song(version_tracks=1):
    """A song as Guitar Pro itself would write it: beats of mixed durations, a bend inside one beat."""
    song = gp.Song()
    song.title = "Native"
    track = song.tracks[0]
    voice = track.measures[0].voices[0]
    for value, notes in [(4, [(6, 0)]), (8, [(3, 2)]), (8, [(3, 4)]), (2, [(2, 5)])]:
        beat = gp.Beat(voice, duration=gp.Duration(value=value), status=gp.BeatStatus.normal)
        for string, fret in notes:
            beat.notes.append(gp.Note(beat, value=fret, string=string, type=gp.NoteType.normal))
        voice.beats.append(beat)
    bent = voice.beats[3].notes[0]
    points = [gp.BendPoint(0, 0), gp.BendPoint(6, 2), gp.BendPoint(12, 2)]
    bent.effect.bend = gp.BendEffect(type=gp.BendType.bend, value=100, points=points)
    return song


@pytest.mark.parametrize("version", [(3, 0, 0), (4, 0, 0), (5, 1, 0)])
def test_native_durations_go_onto_the_grid(tmp_path, version):
    path = tmp_path / f"native.gp{version[0]}"
    gp.write(_native_song(), str(path), version=version)
    (tab,) = read_gp(path)
    (bar,) = tab.bars
    got = [(c.position, [(n.string, n.fret, n.technique) for n in c.notes]) for c in bar.columns]
    # quarter, eighth, eighth, half: slots 0, 4, 6, 8; the bend inside the last beat is a tied b note
    assert got == [
        (0, [(6, 0, "")]),
        (4, [(3, 2, "")]),
        (6, [(3, 4, "")]),
        (8, [(2, 5, "")]),
        (12, [(2, 7, "b")]),
    ]


def test_drum_tracks_are_skipped_with_a_reason(tmp_path):
    song = _native_song()
    drums = gp.Track(song, number=2, name="Drums", isPercussionTrack=True)
    drums.channel.channel = 9
    drums.strings = [gp.GuitarString(i + 1, 0) for i in range(6)]
    song.tracks.append(drums)
    for header in song.measureHeaders:
        drums.measures.append(gp.Measure(drums, header))
    path = tmp_path / "band.gp5"
    gp.write(song, str(path))
    result = read_gp_result(path)
    assert len(result.tabs) == 1
    assert [d.message for d in result.diagnostics] == ["track 2 'Drums' skipped: a drum track"]


def test_not_a_guitar_pro_file(tmp_path):
    path = tmp_path / "fake.gp5"
    path.write_bytes(b"this is not a guitar pro file at all" * 10)
    with pytest.raises(InputError, match="not a readable Guitar Pro"):
        read_gp(path)
    with pytest.raises(InputError, match="no such file"):
        read_gp(tmp_path / "missing.gp5")


def test_cli_writes_gp5_and_reads_it_back(tmp_path):
    src = tmp_path / "t.txt"
    src.write_text("e|0---3---|\nB|--1-----|\nG|--------|\nD|--------|\nA|--------|\nE|--------|\n")
    gp5, mid = tmp_path / "t.gp5", tmp_path / "t.mid"
    result = CliRunner().invoke(app, ["render", str(src), "--gp5", str(gp5)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["render", str(gp5), "--midi", str(mid)])
    assert result.exit_code == 0, result.output
    import pretty_midi

    notes = sorted(
        (round(n.start, 3), n.pitch) for i in pretty_midi.PrettyMIDI(str(mid)).instruments for n in i.notes
    )
    assert notes == [(0.0, 64), (0.6, 60), (1.2, 67)]


@pytest.mark.skipif(MSCORE is None, reason="MuseScore (mscore3) not installed")
def test_musescore_opens_our_gp5_with_the_right_pitches(tmp_path):
    tab = make_tab([[(0, [(6, 3), (1, 3)]), (8, [(5, 2)])], [(4, [(7, 0)])]], tuning="seven")
    ours, back = tmp_path / "ours.gp5", tmp_path / "back.musicxml"
    write_gp5(tab, ours)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([MSCORE, "-o", str(back), str(ours)], env=env, capture_output=True, timeout=120)
    steps = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
    per_measure = []
    for m in ET.parse(back).getroot().iter("measure"):
        pitches = []
        for n in m.iter("note"):
            p = n.find("pitch")
            if p is None or any(t.get("type") == "stop" for t in n.findall("tie")):
                continue
            alter = int(p.findtext("alter", "0"))
            pitches.append((int(p.findtext("octave")) + 1) * 12 + steps[p.findtext("step")] + alter)
        per_measure.append(sorted(pitches))
    assert per_measure == [[43, 47, 67], [35]]


@pytest.mark.skipif(MSCORE is None, reason="MuseScore (mscore3) not installed")
@pytest.mark.parametrize(
    "tab",
    [
        # D4 on the G string, 7th fret, and a chord: MuseScore's own choice differs for both
        make_tab([[(0, [(3, 7)]), (4, [(4, 7), (2, 8)]), (8, [(3, 5), (2, 5), (1, 5)])]]),
        make_tab([[(0, [(6, 0), (4, 0)]), (8, [(6, 2), (5, 5)])]], tuning="drop-d"),
        make_tab([[(0, [(7, 0), (6, 5)]), (8, [(3, 9), (2, 10)])]], tuning="seven"),
    ],
    ids=["standard", "drop-d", "seven"],
)
def test_musescore_keeps_the_string_and_fret_of_our_gp5(tmp_path, tab):
    """MuseScore 3.2's Guitar Pro import keeps every note's string and fret (its MusicXML import
    does not: docs/render.md). Its own .mscx file says what it holds: per note a 0-based string
    counted from the highest, and the fret."""
    ours, native = tmp_path / "ours.gp5", tmp_path / "native.mscx"
    write_gp5(tab, ours)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([MSCORE, "-o", str(native), str(ours)], env=env, capture_output=True, timeout=120)
    (staff,) = ET.parse(native).getroot().find("Score").findall("Staff")  # the score, not its parts
    chords = [
        sorted((int(n.findtext("string")) + 1, int(n.findtext("fret"))) for n in chord.iter("Note"))
        for chord in staff.iter("Chord")
    ]
    assert chords == [sorted((n.string, n.fret) for n in c.notes) for bar in tab.bars for c in bar.columns]


def test_grace_note_without_a_main_note_on_its_string_is_kept_as_a_note(tmp_path):
    tab = make_tab([[(0, [(2, 1)]), (3, [(1, 2, "g")]), (4, [(2, 0)])]])
    write_gp5(tab, tmp_path / "g.gp5")
    (back,) = read_gp(tmp_path / "g.gp5")
    got = [(c.position, [(n.string, n.fret) for n in c.notes]) for c in back.bars[0].columns]
    assert got == [(0, [(2, 1)]), (3, [(1, 2)]), (4, [(2, 0)])]


def _measure_ticks(song):
    """Per measure: (ticks its beats fill, ticks its time signature holds)."""
    out = []
    for m in song.tracks[0].measures:
        ts = m.header.timeSignature
        filled = sum(b.duration.time for b in m.voices[0].beats)
        out.append((filled, ts.numerator * gp.Duration.quarterTime * 4 // ts.denominator.value))
    return out


@st.composite
def plain_tabs(draw):
    meter = draw(st.sampled_from([(4, 4), (3, 4), (6, 8), (7, 8)]))
    width = slots_per_bar(meter)
    bars = []
    for _ in range(draw(st.integers(1, 3))):
        positions = sorted(draw(st.lists(st.integers(0, width - 1), unique=True, max_size=6)))
        columns = [
            Column(
                p,
                tuple(
                    Note(s, draw(st.integers(0, 20))) for s in draw(st.sets(st.integers(1, 6), min_size=1))
                ),
            )
            for p in positions
        ]
        bars.append(Bar(width, tuple(columns)))
    return Tab(Tuning.named("drop-d"), tuple(bars), meter=meter)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tab=plain_tabs())
def test_any_plain_tab_round_trips_with_full_measures(tmp_path, tab):
    path = tmp_path / "any.gp5"
    write_gp5(tab, path)
    assert all(filled == holds for filled, holds in _measure_ticks(gp.parse(str(path))))
    (back,) = read_gp(path)
    assert back.bars == tab.bars and back.meter == tab.meter


def test_a_run_faster_than_the_grid_is_kept_on_a_finer_grid(tmp_path):
    song = gp.Song()
    voice = song.tracks[0].measures[0].voices[0]
    for k in range(32):  # 32 thirty-second notes on the high e: more than the 16 slots of a 4/4 bar
        beat = gp.Beat(voice, duration=gp.Duration(value=32), status=gp.BeatStatus.normal)
        beat.notes.append(gp.Note(beat, value=k % 5, string=1, type=gp.NoteType.normal))
        voice.beats.append(beat)
    gp.write(song, str(tmp_path / "run.gp5"))
    (tab,) = read_gp(tmp_path / "run.gp5")
    (bar,) = tab.bars
    assert bar.width == 32 and [c.position for c in bar.columns] == list(range(32))
    assert [n.fret for n in bar.notes] == [k % 5 for k in range(32)]
