"""`tabgen render`: the tab's own tempo and title, `--piece N` and `--all-pieces`."""

from __future__ import annotations

import mido
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.render.piece import numbered
from tabgen.render.settings import tempo_of
from tabgen.sources import load_piece, load_pieces
from tabgen.tab.types import Tab, Tuning

runner = CliRunner()

STAVE = "e|--{}--1--3--|\n" + "".join(f"{s}|-----------|\n" for s in "BGDAE")
TWO_PIECES = (
    "Title: First\nTempo: 55 bpm (quarter notes)\nTime: 3/4\n\n" + STAVE.format(0) + "\n"
    "Title: Second\nTempo: Allegretto\nTime: 4/4\n\n" + STAVE.format(5) + "\n"
)


def bpm(path) -> float:
    tempos = [m.tempo for t in mido.MidiFile(str(path)).tracks for m in t if m.type == "set_tempo"]
    return round(mido.tempo2bpm(tempos[0]), 3)


def test_tempo_of_reads_the_tempo_line():
    def of(value: str) -> float | None:
        return tempo_of(Tab(Tuning.named("standard"), (), meta=(("tempo", value),)))

    assert of("55 bpm (quarter notes)") == 55
    assert of("Dolento = c.60 (Largo)") == 60
    assert of("Dolento (ca.60 / Largo)") == 60
    assert of("120") == 120
    assert of("Allegretto ma non troppo") is None
    assert of("9 bpm") is None  # out of range: the default is used


def test_pieces_and_numbered_paths(tmp_path):
    src = tmp_path / "two.txt"
    src.write_text(TWO_PIECES)
    assert [p.title for p in load_pieces(src)] == ["First", "Second"]
    assert load_piece(src, 2)[0].title == "Second"
    first, note = load_piece(src)
    assert first.title == "First" and "--piece N" in note
    assert numbered(tmp_path / "out.mid", 2) == tmp_path / "out-2.mid"


def test_render_uses_the_files_tempo_and_title_unless_given(tmp_path):
    src = tmp_path / "two.txt"
    src.write_text(TWO_PIECES)
    mid, xml = tmp_path / "a.mid", tmp_path / "a.musicxml"
    res = runner.invoke(app, ["render", str(src), "--midi", str(mid), "--musicxml", str(xml)])
    assert res.exit_code == 0, res.output
    assert bpm(mid) == 55
    assert "<work-title>First</work-title>" in xml.read_text()  # written once, as the work title
    res = runner.invoke(app, ["render", str(src), "--midi", str(mid), "--tempo", "90", "--title", "Mine"])
    assert res.exit_code == 0, res.output
    assert bpm(mid) == 90


def test_render_piece_n_and_all_pieces(tmp_path):
    src = tmp_path / "two.txt"
    src.write_text(TWO_PIECES)
    mid = tmp_path / "out.mid"
    res = runner.invoke(app, ["render", str(src), "--piece", "2", "--midi", str(mid)])
    assert res.exit_code == 0, res.output
    assert bpm(mid) == 100  # "Allegretto" gives no number: the default
    notes = [m.note for t in mido.MidiFile(str(mid)).tracks for m in t if m.type == "note_on" and m.velocity]
    assert notes[0] == 64 + 5
    res = runner.invoke(app, ["render", str(src), "--piece", "3", "--midi", str(mid)])
    assert res.exit_code == 1 and "no piece 3; the file has 2" in res.output
    mid.unlink()
    res = runner.invoke(
        app, ["render", str(src), "--all-pieces", "--midi", str(mid), "--tab", str(tmp_path / "t.txt")]
    )
    assert res.exit_code == 0, res.output
    assert [bpm(tmp_path / f"out-{k}.mid") for k in (1, 2)] == [55, 100]
    assert "Title: Second" in (tmp_path / "t-2.txt").read_text()
    assert not mid.exists()
    res = runner.invoke(app, ["render", str(src), "--all-pieces", "--piece", "1", "--midi", str(mid)])
    assert res.exit_code == 2
