"""MusicXML rendering: schema-valid files whose TAB staff carries every note's string, fret and tuning."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import musicxml
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabgen.render.musicxml import write_musicxml
from tabgen.render.timeline import split_duration
from tabgen.tab.parse import parse_text
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, slots_per_bar
from tests.tab_fixtures import TECHNIQUE_BARS, make_tab

REPO = Path(__file__).resolve().parents[1]
MSCORE = shutil.which("mscore3") or shutil.which("mscore")


@functools.lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    """The official MusicXML 4.0 schema, offline (slow to load: once per session)."""
    xsd = Path(musicxml.__file__).parent / "generate_classes"
    xlink = Path(xmlschema.__file__).parent / "schemas" / "XLINK" / "xlink.xsd"
    return xmlschema.XMLSchema(
        str(xsd / "musicxml_4_0.xsd"),
        locations=[
            ("http://www.w3.org/XML/1998/namespace", str(xsd / "xml.xsd")),
            ("http://www.w3.org/1999/xlink", str(xlink)),
        ],
    )


def write_valid(tab, path, tab_only=False):
    write_musicxml(tab, path, tab_only=tab_only)
    schema().validate(str(path))
    return ET.parse(path).getroot()


def tab_staff_notes(root, staff="2"):
    """(measure, string, fret) of each attacked note on the TAB staff, in document order."""
    found = []
    for m in root.iter("measure"):
        for n in m.iter("note"):
            if n.find("rest") is not None or n.findtext("staff", staff) != staff:
                continue
            if any(t.get("type") == "stop" for t in n.findall("tie")):
                continue  # the tied-on part of a longer note
            found.append((int(m.get("number")), int(n.findtext(".//string")), int(n.findtext(".//fret"))))
    return found


def expected_notes(tab):
    return [(b + 1, n.string, n.fret) for b, bar in enumerate(tab.bars) for c in bar.columns for n in c.notes]


def staff_tuning(root):
    details = root.find(".//staff-details")
    lines = [
        (
            int(t.get("line")),
            t.findtext("tuning-step"),
            int(t.findtext("tuning-alter", "0")),
            t.findtext("tuning-octave"),
        )
        for t in details.findall("staff-tuning")
    ]
    return int(details.findtext("staff-lines")), lines


def measure_lengths(root, staff):
    """Each measure's total duration on `staff`, in quarter notes."""
    divisions = int(root.findtext(".//divisions"))
    out = []
    for m in root.iter("measure"):
        total = 0
        for n in m.iter("note"):
            if (
                n.findtext("staff", staff) != staff
                or n.find("chord") is not None
                or n.find("grace") is not None
            ):
                continue
            total += int(n.findtext("duration"))
        out.append(total / divisions)
    return out


FIXTURES = {
    "standard": make_tab([[(0, [(3, 0)]), (4, [(2, 1)]), (8, [(3, 2)]), (12, [(1, 0)])], [(2, [(6, 3)])]]),
    "drop-d": make_tab([[(0, [(6, 0), (4, 0)]), (8, [(6, 2)])]], tuning="drop-d"),
    "bass": make_tab([[(0, [(4, 0)]), (4, [(3, 3)]), (8, [(2, 2)])]], tuning="bass-4"),
    "seven": make_tab([[(0, [(7, 0)]), (4, [(7, 5), (1, 12)])]], tuning="seven"),
    "chord": make_tab([[(0, [(6, 3), (5, 2), (4, 0), (3, 0), (2, 0), (1, 3)])]]),
    "open-d (sharps)": make_tab([[(0, [(3, 0), (6, 0)])]], tuning="open-d"),
    "techniques": make_tab(TECHNIQUE_BARS),
}


@pytest.mark.parametrize("name", list(FIXTURES))
@pytest.mark.parametrize("tab_only", [False, True])
def test_valid_and_every_note_keeps_string_and_fret(tmp_path, name, tab_only):
    tab = FIXTURES[name]
    root = write_valid(tab, tmp_path / "out.musicxml", tab_only=tab_only)
    staff = "1" if tab_only else "2"
    assert tab_staff_notes(root, staff) == expected_notes(tab)
    lines, tuning = staff_tuning(root)
    assert lines == tab.tuning.strings
    assert [line for line, *_ in tuning] == list(range(1, tab.tuning.strings + 1))
    assert root.findtext(".//clef/sign" if tab_only else ".//clef[@number='2']/sign") == "TAB"
    bar = 4.0 if tab.meter is None else tab.meter[0] * 4 / tab.meter[1]
    assert measure_lengths(root, staff) == [bar] * len(tab.bars)
    if not tab_only:
        assert measure_lengths(root, "1") == [bar] * len(tab.bars)


def test_staff_tuning_spells_each_string_lowest_first(tmp_path):
    root = write_valid(FIXTURES["open-d (sharps)"], tmp_path / "d.musicxml")
    assert staff_tuning(root)[1] == [
        (1, "D", 0, "2"),
        (2, "A", 0, "2"),
        (3, "D", 0, "3"),
        (4, "F", 1, "3"),
        (5, "A", 0, "3"),
        (6, "D", 0, "4"),
    ]
    # staff-details sits in schema order: after the clefs inside <attributes>
    tags = [c.tag for c in root.find(".//attributes")]
    assert tags.index("staff-details") == max(i for i, t in enumerate(tags) if t == "clef") + 1


def test_standard_staff_clef_is_octave_down_treble_or_bass(tmp_path):
    root = write_valid(FIXTURES["standard"], tmp_path / "g.musicxml")
    clef = root.find(".//clef[@number='1']")
    assert (clef.findtext("sign"), clef.findtext("line"), clef.findtext("clef-octave-change")) == (
        "G",
        "2",
        "-1",
    )
    root = write_valid(FIXTURES["bass"], tmp_path / "b.musicxml")
    assert root.find(".//clef[@number='1']").findtext("sign") == "F"


def test_title_and_rests(tmp_path):
    tab = make_tab([[(4, [(1, 0)])], []], title="Minuet in G")
    root = write_valid(tab, tmp_path / "t.musicxml")
    assert root.findtext("work/work-title") == "Minuet in G"
    m1, m2 = root.findall("part/measure")
    rests = [
        n.findtext("type")
        for n in m1.iter("note")
        if n.find("rest") is not None and n.findtext("staff") == "2"
    ]
    assert rests == ["quarter"]  # the column at slot 4 is preceded by a quarter rest
    assert all(n.find("rest") is not None for n in m2.iter("note"))


def test_written_for_literal_readers(tmp_path):
    """alphaTab's needs: the title once, the TAB staff as voice 1, no string/fret on the notation staff."""
    tab = make_tab([[(0, [(6, 3), (5, 2), (3, 0)]), (8, [(3, 2, "h")])]], title="Etude")
    root = write_valid(tab, tmp_path / "e.musicxml")
    assert root.findtext("work/work-title") == "Etude" and root.find("movement-title") is None
    notes = [n for n in root.iter("note") if n.find("rest") is None]
    by_staff = {s: [n for n in notes if n.findtext("staff") == s] for s in ("1", "2")}
    assert {n.findtext("voice") for n in by_staff["2"]} == {"1"}
    assert all(n.find(".//string") is None and n.find(".//fret") is None for n in by_staff["1"])
    assert len(by_staff["1"]) == len(by_staff["2"]) == 4
    for staff in by_staff.values():  # the hammer-on stays on both staves
        assert [h.get("type") for n in staff for h in n.iter("hammer-on")] == ["start", "stop"]


def test_durations_no_note_value_spells_become_ties(tmp_path):
    assert split_duration(Fraction(5, 4)) == [1, Fraction(1, 4)]
    tab = make_tab([[(0, [(1, 0)]), (5, [(1, 3)])]])  # 5 sixteenths, then 11
    root = write_valid(tab, tmp_path / "tie.musicxml", tab_only=True)
    notes = list(root.iter("note"))
    kinds = [
        (n.findtext("type"), n.find("dot") is not None, [t.get("type") for t in n.findall("tie")])
        for n in notes
    ]
    assert kinds == [
        ("quarter", False, ["start"]),
        ("16th", False, ["stop"]),
        ("half", False, ["start"]),  # 11 sixteenths: a half tied to a dotted eighth
        ("eighth", True, ["stop"]),
    ]


def test_technique_elements(tmp_path):
    root = write_valid(FIXTURES["techniques"], tmp_path / "tech.musicxml", tab_only=True)
    text = ET.tostring(root, encoding="unicode")
    assert '<hammer-on number="1" type="start">H</hammer-on>' in text
    assert '<pull-off number="1" type="start">P</pull-off>' in text
    slides = [s.get("type") for s in root.iter("slide")]
    assert slides == ["start", "stop"]
    assert [b.findtext("bend-alter") for b in root.iter("bend")] == ["2", "-2"]
    harmonics = [[c.tag for c in h] for h in root.iter("harmonic")]
    assert harmonics == [["natural"], ["artificial"]]
    assert [n.text for n in root.iter("notehead")] == ["x"]
    graces = [n for n in root.iter("note") if n.find("grace") is not None]
    assert [(g.findtext(".//string"), g.findtext(".//fret")) for g in graces] == [("1", "2")]
    assert len(list(root.iter("tap"))) == 1


def test_ghost_notes_get_a_parenthesised_notehead(tmp_path):
    text = "\n".join(
        [
            "e|-(5)---5---(0)-----|",
            "B|-------------------|",
            "G|-----------(2)-----|",
            "D|-------------------|",
            "A|-------------------|",
            "E|-------------------|",
        ]
    )
    (tab,) = parse_text(text).tabs
    for tab_only in (False, True):
        root = write_valid(tab, tmp_path / f"ghost{tab_only}.musicxml", tab_only=tab_only)
        heads = [n for n in root.iter("note") if n.find("notehead") is not None]
        assert [h.find("notehead").get("parentheses") for h in heads] == ["yes"] * (3 if tab_only else 6)
        staff = "1" if tab_only else "2"
        assert tab_staff_notes(root, staff) == expected_notes(tab)
        ghost_frets = [
            (h.findtext(".//string"), h.findtext(".//fret")) for h in heads if h.find(".//fret") is not None
        ]
        assert ghost_frets == [("1", "5"), ("1", "0"), ("3", "2")]


def test_ascii_tab_to_musicxml(tmp_path):
    text = """\
Title: Exercise
e|0---3---|-------|
B|--1-----|-------|
G|--------|2h4----|
D|--------|-------|
A|--------|-------|
E|--------|-------|
"""
    (tab,) = parse_text(text).tabs
    root = write_valid(tab, tmp_path / "a.musicxml")
    assert root.findtext("work/work-title") == "Exercise"
    assert tab_staff_notes(root) == [(1, 1, 0), (1, 2, 1), (1, 1, 3), (2, 3, 2), (2, 3, 4)]


def test_render_midi_does_not_import_music21(tmp_path):
    src = tmp_path / "t.txt"
    src.write_text("e|0---|\nB|----|\nG|----|\nD|----|\nA|----|\nE|----|\n")
    code = (
        "import sys; from tabgen.cli import app\n"
        f"try: app(['render', {str(src)!r}, '--midi', {str(tmp_path / 'o.mid')!r}])\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "assert 'music21' not in sys.modules and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    assert (tmp_path / "o.mid").stat().st_size > 0


# --- a real notation program ----------------------------------------------------------------------


def mscore(*args):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([MSCORE, *args], env=env, capture_output=True, text=True, timeout=120)


needs_mscore = pytest.mark.skipif(MSCORE is None, reason="MuseScore (mscore3) not installed")


@needs_mscore
def test_musescore_reads_our_tab_staff(tmp_path):
    tab = FIXTURES["drop-d"]
    ours, back = tmp_path / "ours.musicxml", tmp_path / "back.musicxml"
    write_valid(tab, ours, tab_only=True)
    mscore("-o", str(back), str(ours))
    root = ET.parse(back).getroot()
    assert root.findtext(".//clef/sign") == "TAB"
    assert staff_tuning(root) == staff_tuning(ET.parse(ours).getroot())
    pitches = [
        (n.findtext("pitch/step"), n.findtext("pitch/octave"))
        for n in root.iter("note")
        if n.find("pitch") is not None
    ]
    assert pitches == [("D", "2"), ("D", "3"), ("E", "2")]


@needs_mscore
def test_musescore_reads_both_staves(tmp_path):
    tab = FIXTURES["chord"]
    ours, back = tmp_path / "ours.musicxml", tmp_path / "back.musicxml"
    write_valid(tab, ours)
    mscore("-o", str(back), str(ours))
    root = ET.parse(back).getroot()
    assert [c.findtext("sign") for c in root.iter("clef")][:2] == ["G", "TAB"]
    for staff in ("1", "2"):
        pitches = {n.findtext("pitch/step") + n.findtext("pitch/octave") for n in root.iter("note")
                   if n.findtext("staff") == staff}  # fmt: skip
        assert pitches == {"G4", "B3", "G3", "D3", "B2", "G2"}


@needs_mscore
@pytest.mark.xfail(
    strict=True,
    reason="MuseScore 3.2.3's MusicXML import applies <fret> but never <string> when both are given, "
    "and its layout then re-frets every note without a string (docs/render.md)",
)
def test_musescore_keeps_string_and_fret(tmp_path):
    # D4 played on the G string at the 7th fret, where MuseScore's own choice is the B string, 3rd fret.
    # No valid form of MusicXML gets a note both a string and a fret in MuseScore 3.2.3; this strict
    # xfail flags a MuseScore that keeps them. Its Guitar Pro import does: tests/test_render_gp.py.
    tab = make_tab([[(0, [(3, 7)]), (4, [(4, 7), (2, 8)])]])
    ours, back = tmp_path / "ours.musicxml", tmp_path / "back.musicxml"
    write_valid(tab, ours, tab_only=True)
    mscore("-o", str(back), str(ours))
    assert tab_staff_notes(ET.parse(back).getroot(), "1") == expected_notes(tab)


@needs_mscore
def test_musescore_renders_a_png(tmp_path):
    ours = tmp_path / "ours.musicxml"
    write_valid(FIXTURES["techniques"], ours)
    mscore("-r", "60", "-o", str(tmp_path / "out.png"), str(ours))
    png = tmp_path / "out-1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- any tab gives a valid file ---------------------------------------------------------------------

_METERS = [(4, 4), (3, 4), (6, 8), (5, 8), (7, 8), (2, 2), (2, 4)]
_TECHNIQUES = ["", "", "", "h", "p", "b", "r", "/", "\\", "s", "~", "x", "t", "g", "<>", "[]", "pm"]


@st.composite
def random_tabs(draw):
    meter = draw(st.sampled_from(_METERS))
    width = slots_per_bar(meter)
    strings = draw(st.sampled_from([4, 6, 7]))
    tuning = Tuning.for_strings(strings)
    bars = []
    for _ in range(draw(st.integers(1, 3))):
        positions = draw(st.lists(st.integers(0, width - 1), unique=True, max_size=6))
        columns = []
        for pos in sorted(positions):
            chosen = draw(st.lists(st.integers(1, strings), unique=True, min_size=1, max_size=3))
            notes = tuple(
                Note(s, draw(st.integers(0, 15)), draw(st.sampled_from(_TECHNIQUES))) for s in chosen
            )
            columns.append(Column(pos, notes))
        bars.append(Bar(width, tuple(columns)))
    return Tab(tuning, tuple(bars), meter=meter)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tab=random_tabs(), tab_only=st.booleans())
def test_any_tab_gives_a_valid_file_with_every_note(tmp_path, tab, tab_only):
    root = write_valid(tab, tmp_path / "any.musicxml", tab_only=tab_only)
    staff = "1" if tab_only else "2"
    assert sorted(tab_staff_notes(root, staff)) == sorted(expected_notes(tab))
    bar = tab.meter[0] * 4 / tab.meter[1]
    assert measure_lengths(root, staff) == [bar] * len(tab.bars)


def test_same_tab_same_bytes(tmp_path):
    a, b = tmp_path / "a.musicxml", tmp_path / "b.musicxml"
    write_musicxml(FIXTURES["techniques"], a)
    write_musicxml(FIXTURES["techniques"], b)
    assert a.read_bytes() == b.read_bytes()
    root = ET.parse(a).getroot()
    assert [p.get("id") for p in root.iter("part")] == ["P1"]
    assert root.find(".//encoding-date") is None


def test_a_bar_denser_than_the_grid_is_written_in_32nd_notes(tmp_path):
    tab = make_tab([[(k, [(1, k % 3)]) for k in range(20)]], width=20)  # 20 notes on one string in 4/4
    root = write_valid(tab, tmp_path / "dense.musicxml", tab_only=True)
    assert tab_staff_notes(root, "1") == expected_notes(tab)
    assert measure_lengths(root, "1") == [4.0]
    assert "32nd" in {n.findtext("type") for n in root.iter("note")}


def test_hammer_on_starts_from_the_last_tied_part(tmp_path):
    tab = make_tab([[(0, [(3, 5)]), (5, [(3, 7, "h")])]])  # 5 sixteenths: a quarter tied to a 16th
    root = write_valid(tab, tmp_path / "h.musicxml", tab_only=True)
    starts = [n for n in root.iter("note") if n.find(".//hammer-on[@type='start']") is not None]
    assert len(starts) == 1 and [t.get("type") for t in starts[0].findall("tie")] == ["stop"]
