"""`tabgen check TAB... [--json]` through typer's CliRunner."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabgen.cli import app

REALWORLD = Path(__file__).parents[2] / "shared" / "realworld-tabs"
STAVE = """\
Title: Study
Meter: 3/4

e|-0---h3-|-----|
B|-1------|-----|
G|--------|-----|
D|--------|-----|
A|--------|-----|
E|--------|-0---|

e|-222-|
B|-----|
G|-----|
D|-----|
A|-----|
E|-----|
"""

runner = CliRunner()


@pytest.fixture
def tab(tmp_path: Path) -> Path:
    path = tmp_path / "study.txt"
    path.write_text(STAVE)
    return path


def test_json_lines_have_the_design_keys_and_notes_in_reading_order(tab: Path, tmp_path: Path) -> None:
    packed = tmp_path / "study.tab.gz"
    packed.write_bytes(gzip.compress(STAVE.encode()))
    result = runner.invoke(app, ["check", "--json", str(tab), str(packed)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["file"] == str(tab) and second["file"] == str(packed)
    standard = [64, 59, 55, 50, 45, 40]
    assert first["staves"] == [{"tuning": standard, "bars": 2}, {"tuning": standard, "bars": 1}]
    assert first["notes"] == [
        {"stave": 0, "bar": 0, "column": 1, "string": 1, "fret": 0, "pitch": 64, "technique": ""},
        {"stave": 0, "bar": 0, "column": 1, "string": 2, "fret": 1, "pitch": 60, "technique": ""},
        {"stave": 0, "bar": 0, "column": 6, "string": 1, "fret": 3, "pitch": 67, "technique": "h"},
        {"stave": 0, "bar": 1, "column": 1, "string": 6, "fret": 0, "pitch": 40, "technique": ""},
        {"stave": 1, "bar": 0, "column": 1, "string": 1, "fret": 2, "pitch": 66, "technique": ""},
        {"stave": 1, "bar": 0, "column": 2, "string": 1, "fret": 2, "pitch": 66, "technique": ""},
        {"stave": 1, "bar": 0, "column": 3, "string": 1, "fret": 2, "pitch": 66, "technique": ""},
    ]
    assert first["diagnostics"] == [
        {"line": 11, "column": 4, "message": "'222' read as fret 2 repeated 3 times"}
    ]
    assert second["notes"] == first["notes"]


def test_readable_report_names_staves_tuning_bars_notes_and_diagnostics(tab: Path) -> None:
    result = runner.invoke(app, ["check", str(tab)])
    assert result.exit_code == 0
    out = result.stdout
    assert f"{tab}: 2 staves, 3 bars, 7 notes, 1 diagnostics" in out
    assert "standard (E2 A2 D3 G3 B3 E4)" in out and "Study" in out and "3/4" in out
    assert "line 11:4: '222' read as fret 2 repeated 3 times" in out


def test_missing_file_folder_and_binary_give_one_line_and_exit_1(tmp_path: Path) -> None:
    binary = tmp_path / "song.txt"
    binary.write_bytes(b"FICHIER GUITAR PRO\x00\x00\x01")
    broken_gp5 = tmp_path / "song.gp5"
    broken_gp5.write_bytes(b"FICHIER GUITAR PRO\x00\x00\x01")
    for path, message in (
        (tmp_path / "nope.txt", "nope.txt: no such file"),
        (tmp_path, "is a folder"),
        (binary, "song.txt: binary data"),
        (broken_gp5, "song.gp5: not a readable Guitar Pro 3-5 file"),
    ):
        result = runner.invoke(app, ["check", str(path)])
        assert result.exit_code == 1
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_no_staves_exits_1_and_one_good_file_among_bad_still_reports(tab: Path, tmp_path: Path) -> None:
    prose = tmp_path / "notes.txt"
    prose.write_text("Am C D F\nThere is a house in New Orleans\n")
    result = runner.invoke(app, ["check", str(prose)])
    assert result.exit_code == 1
    assert "no tab staves found" in result.stderr
    both = runner.invoke(app, ["check", "--json", str(prose), str(tab)])
    assert both.exit_code == 0
    assert [json.loads(line)["file"] for line in both.stdout.splitlines()] == [str(prose), str(tab)]


def test_bad_usage_exits_2() -> None:
    assert runner.invoke(app, ["check"]).exit_code == 2
    assert runner.invoke(app, ["check", "--bogus", "x"]).exit_code == 2


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld-tabs is absent")
@pytest.mark.parametrize(
    "name, message",
    [
        ("nontab-drum-tab-push.txt", "no tab staves found"),
        ("nontab-notes-about-tab-formats.txt", "no tab staves found"),
        ("nontab-chordsheet-house-of-rising-sun.txt", "no tab staves found"),
        ("classtab-yradier-la-paloma-broken-utf16.txt", "broken encoding"),
    ],
)
def test_realworld_files_without_tabs_exit_1_with_a_clear_message(name: str, message: str) -> None:
    result = runner.invoke(app, ["check", str(REALWORLD / name)])
    assert result.exit_code == 1
    assert f"{name}: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_check_reads_guitar_pro_files_with_the_same_notes_as_their_text(tmp_path) -> None:
    from tabgen.render.gp import write_gp5
    from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

    bar = Bar(16, (Column(0, (Note(6, 0), Note(1, 3))), Column(8, (Note(3, 2),))))
    tab = Tab(Tuning.named("drop-d"), (bar, bar), meter=(4, 4))
    write_gp5(tab, tmp_path / "song.gp5", 100)
    res = CliRunner().invoke(app, ["check", "--json", str(tmp_path / "song.gp5")])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["staves"] == [{"tuning": [64, 59, 55, 50, 45, 38], "bars": 2}]
    assert [(n["bar"], n["string"], n["fret"], n["pitch"]) for n in report["notes"]] == [
        (0, 1, 3, 67), (0, 6, 0, 38), (0, 3, 2, 57), (1, 1, 3, 67), (1, 6, 0, 38), (1, 3, 2, 57)
    ]  # fmt: skip


def test_dead_notes_are_unpitched_in_the_json_report(tmp_path) -> None:
    src = tmp_path / "dead.txt"
    src.write_text("e|--x--3--X--|\n" + "".join(f"{s}|-----------|\n" for s in "BGDAE"))
    res = CliRunner().invoke(app, ["check", "--json", str(src)])
    assert res.exit_code == 0, res.output
    notes = json.loads(res.stdout)["notes"]
    assert [(n["column"], n["fret"], n["pitch"], n["technique"]) for n in notes] == [
        (2, None, None, "x"),
        (5, 3, 67, ""),
        (8, None, None, "x"),
    ]


def test_ghost_notes_are_shown_as_such_in_the_json_report(tmp_path) -> None:
    src = tmp_path / "ghost.txt"
    src.write_text("e|--(5)--5--(12)-|\n" + "".join(f"{s}|---------------|\n" for s in "BGDAE"))
    res = CliRunner().invoke(app, ["check", "--json", str(src)])
    assert res.exit_code == 0, res.output
    notes = json.loads(res.stdout)["notes"]
    assert [(n["column"], n["fret"], n["pitch"], n["technique"]) for n in notes] == [
        (3, 5, 69, "()"),
        (7, 5, 69, ""),
        (11, 12, 76, "()"),
    ]
    assert json.loads(res.stdout)["diagnostics"] == []
