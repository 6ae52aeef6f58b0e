"""`tabgen render` end to end: a real-world tab to MIDI and MusicXML; bad input writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pretty_midi
import pytest
from typer.testing import CliRunner

from tabgen.cli import app

REPO = Path(__file__).resolve().parents[1]
REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld-tabs"
MINUET = REALWORLD / "classtab-bach-minuet-anh116-nolabels.txt"
runner = CliRunner()

SMALL = """\
Title: Two bars
e|0-------|--------|
B|----1---|--------|
G|--------|--------|
D|--------|--------|
A|--------|--------|
E|--------|3-------|
"""


@pytest.mark.skipif(not MINUET.exists(), reason="../shared/realworld-tabs not present")
def test_render_real_world_tab(tmp_path):
    mid, xml = tmp_path / "m.mid", tmp_path / "m.musicxml"
    result = runner.invoke(
        app, ["render", str(MINUET), "--midi", str(mid), "--musicxml", str(xml), "--tempo", "120"]
    )
    assert result.exit_code == 0, result.output
    midi = pretty_midi.PrettyMIDI(str(mid))
    notes = sorted((n.start, n.pitch) for i in midi.instruments for n in i.notes)
    # the Minuet in G opens with low G (6th string, 3rd fret) under D on the G string, in 3/4 at 120 BPM
    assert notes[:2] == [(0.0, 43), (0.0, 55)]
    assert midi.time_signature_changes[0].numerator == 3
    # 40 bars of 3/4 at 0.5 s a beat, both halves repeated (bars 1-16 and 17-40)
    assert round(midi.get_end_time(), 3) == 80 * 1.5
    assert xml.read_text(encoding="utf-8").count("<measure ") == 40


def test_render_writes_each_format_and_prints_tab_without_outputs(tmp_path):
    src = tmp_path / "small.txt"
    src.write_text(SMALL)
    result = runner.invoke(app, ["render", str(src)])
    assert result.exit_code == 0
    assert "Title: Two bars" in result.output and "E|" in result.output
    mid = tmp_path / "s.mid"
    result = runner.invoke(app, ["render", str(src), "--midi", str(mid), "--tab", str(tmp_path / "s.txt")])
    assert result.exit_code == 0
    assert f"wrote {mid}" in result.output
    assert (tmp_path / "s.txt").read_text().startswith("Title: Two bars")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("just some words\nno staves here\n", "no tab staves found")],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, content, message):
    src = tmp_path / "in.txt"
    if content is not None:
        src.write_text(content)
    out = tmp_path / "out.mid"
    result = runner.invoke(
        app, ["render", str(src), "--midi", str(out), "--musicxml", str(tmp_path / "o.xml")]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (["in.txt"] if content is not None else [])


def test_bad_tempo_is_reported(tmp_path):
    src = tmp_path / "small.txt"
    src.write_text(SMALL)
    result = runner.invoke(app, ["render", str(src), "--midi", str(tmp_path / "x.mid"), "--tempo", "0"])
    assert result.exit_code == 1 and "tempo" in result.output
    assert not (tmp_path / "x.mid").exists()


def test_a_format_that_cannot_take_the_tab_stops_before_any_file_is_written(tmp_path):
    src = tmp_path / "eight.txt"
    src.write_text("".join(f"{label}|0---|\n" for label in "EBGDAEBF"))  # an 8-string stave
    mid, gp5 = tmp_path / "e.mid", tmp_path / "e.gp5"
    result = runner.invoke(app, ["render", str(src), "--midi", str(mid), "--gp5", str(gp5)])
    assert result.exit_code == 1 and "at most 7 strings" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eight.txt"]
    result = runner.invoke(
        app, ["render", str(src), "--musicxml", str(tmp_path / "e.xml"), "--tempo", "1000"]
    )
    assert result.exit_code == 1 and "tempo must be in range" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eight.txt"]


def test_a_bar_too_dense_for_the_grid_goes_onto_a_finer_grid(tmp_path):
    src = tmp_path / "tremolo.txt"
    src.write_text("e|" + "2-" * 20 + "|\n" + "".join(f"{s}|" + "-" * 40 + "|\n" for s in "BGDAE"))
    mid = tmp_path / "t.mid"
    result = runner.invoke(app, ["render", str(src), "--midi", str(mid)])
    assert result.exit_code == 0, result.output
    # 20 notes in a 4/4 bar of 16 slots: a grid of 32 (32nd notes, 0.075 s at 100 BPM)
    starts = [round(n.start, 4) for i in pretty_midi.PrettyMIDI(str(mid)).instruments for n in i.notes]
    # offset 2k of 40 -> the nearest of 32 slots (tabgen.tab.rhythm: no even grid fills the bar)
    assert starts == [round(round(2 * k * 32 / 40) * 0.075, 4) for k in range(20)]


def test_render_midi_loads_no_numpy_pretty_midi_music21_rich_or_pydantic(tmp_path):
    # `python -m tabgen render --midi` in a fresh interpreter: mido writes the file, the lines
    # printed are plain and typer is below 0.29 (pyproject.toml), so these libraries stay unloaded
    # (each costs more start-up time than rendering a long piece)
    src, mid = tmp_path / "small.txt", tmp_path / "s.mid"
    src.write_text(SMALL)
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['tabgen', 'render', {str(src)!r}, '--midi', {str(mid)!r}]\n"
        "try: runpy.run_module('tabgen', run_name='__main__')\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "heavy = ('numpy', 'pretty_midi', 'music21', 'torch', 'rich', 'pydantic')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
    midi = pretty_midi.PrettyMIDI(str(mid))
    notes = sorted((round(n.start, 3), n.pitch) for i in midi.instruments for n in i.notes)
    assert notes == [(0.0, 64), (1.2, 60), (2.4, 43)]  # slot 4 of 8 is half a 2.4 s bar
