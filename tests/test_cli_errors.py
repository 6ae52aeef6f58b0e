"""One line naming the path instead of a traceback; NaN refused at the door; all outputs or none."""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import guitarpro as gp
import pytest
import torch
from typer.testing import CliRunner

from tabgen.cli import app

runner = CliRunner()
SMALL = """\
e|0-------|--------|
B|----1---|--------|
G|--------|--------|
D|--------|--------|
A|--------|--------|
E|--------|3-------|
"""
EIGHT = "".join(f"{s}|-0-|\n" for s in "eBGDAEBF")


def one_error_line(result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture()
def small(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text(SMALL)
    return path


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_in_render_is_one_line_naming_the_output(small, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _disk_full)
    out = tmp_path / "out.mid"
    result = runner.invoke(app, ["render", str(small), "--midi", str(out)])
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: cannot write {out}: No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.txt"]


def test_disk_full_in_compose_is_one_line_naming_the_output(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _disk_full)
    out = tmp_path / "out.mid"
    result = runner.invoke(app, ["compose", "--bars", "1", "--candidates", "1", "--midi", str(out)])
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: cannot write {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_render_writes_all_outputs_or_none(small, tmp_path):
    mid = tmp_path / "a.mid"
    result = runner.invoke(
        app, ["render", str(small), "--midi", str(mid), "--musicxml", str(tmp_path / "nodir" / "a.musicxml")]
    )
    assert result.exit_code == 1
    assert "nodir" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.txt"]  # no a.mid


def test_a_failed_wav_leaves_no_midi_behind(small, tmp_path, monkeypatch):
    from tabgen.errors import RenderError

    def broken(*args, **kwargs):
        raise RenderError("fluidsynth failed: no audio")

    monkeypatch.setattr("tabgen.render.audio._render_with_program", broken)
    monkeypatch.setattr("tabgen.render.audio._render_with_library", broken)
    monkeypatch.setattr("tabgen.render.audio.check_synth", lambda: (Path("/x.sf2"), "fluidsynth"))
    result = runner.invoke(
        app, ["render", str(small), "--midi", str(tmp_path / "a.mid"), "--wav", str(tmp_path / "a.wav")]
    )
    assert result.exit_code == 1 and "fluidsynth failed" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.txt"]


def test_corpus_build_into_a_file_is_one_line(tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    result = runner.invoke(app, ["corpus", "build", str(target), "--source", "miscFolk", "--limit", "1"])
    assert result.exit_code == 1
    assert str(target) in one_error_line(result)
    assert target.read_text() == "x"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0"])
def test_temperature_that_is_not_a_positive_number_is_refused(value):
    for command in (["compose", "--bars", "1"], ["eval", "--samples", "1", "--bars", "4"]):
        result = runner.invoke(app, [*command, "--temperature", value])
        assert result.exit_code == 2, result.output
        assert "temperature" in result.output


def test_compose_library_refuses_nan_and_bad_top_k():
    from tabgen.compose import compose
    from tabgen.errors import InputError

    with pytest.raises(InputError, match="temperature"):
        compose(bars=1, temperature=math.nan)
    with pytest.raises(InputError, match="top-k"):
        compose(bars=1, top_k=-3)
    result = runner.invoke(app, ["compose", "--bars", "1", "--top-k", "-1"])
    assert result.exit_code == 2


def test_a_checkpoint_with_nan_weights_is_refused_by_compose_and_eval(tmp_path):
    from tabgen.checkpoint import bundled_model_path

    payload = torch.load(bundled_model_path(), weights_only=True)
    first = next(k for k, v in payload["model_state"].items() if v.is_floating_point())
    payload["model_state"][first] = torch.full_like(payload["model_state"][first], math.nan)
    bad = tmp_path / "nan.pt"
    torch.save(payload, bad)
    for command in (["compose", "--bars", "1"], ["eval", "--samples", "1", "--bars", "4"]):
        result = runner.invoke(app, [*command, "--model", str(bad)])
        assert result.exit_code == 1
        assert one_error_line(result).startswith(f"error: {bad}: damaged tabgen checkpoint (weight")


def test_guitar_pro_string_limit_names_the_output(tmp_path):
    src = tmp_path / "eight.txt"
    src.write_text(EIGHT)
    out = tmp_path / "x.gp5"
    result = runner.invoke(app, ["render", str(src), "--gp5", str(out)])
    assert result.exit_code == 1
    line = one_error_line(result)
    assert str(out) in line and "at most 7 strings" in line


def test_a_prime_that_does_not_fit_is_named(tmp_path):
    prime = tmp_path / "eight.txt"
    prime.write_text(EIGHT)
    result = runner.invoke(app, ["compose", "--bars", "3", "--prime", str(prime), "--tuning", "standard"])
    assert result.exit_code == 1
    assert str(prime) in one_error_line(result)


def test_an_unknown_tuning_names_the_option():
    result = runner.invoke(app, ["compose", "--bars", "1", "--tuning", "nonsense"])
    assert result.exit_code == 1
    assert one_error_line(result).startswith("error: --tuning: unknown tuning 'nonsense'")


def test_the_prime_hint_never_suggests_more_bars_than_allowed(tmp_path):
    from tabgen.sample import MAX_BARS

    prime = tmp_path / "long.txt"
    bar = "|".join(["-0-"] * 1)
    prime.write_text("".join(f"{s}|" + "|".join([bar] * (MAX_BARS - 2)) + "|\n" for s in "eBGDAE"))
    result = runner.invoke(app, ["compose", "--bars", str(MAX_BARS - 2), "--prime", str(prime)])
    assert result.exit_code == 1
    line = one_error_line(result)
    suggested = [int(w) for w in line.replace("(", " ").replace(")", " ").split() if w.isdigit()]
    assert suggested and max(suggested) <= MAX_BARS, line
    result = runner.invoke(app, ["compose", "--bars", str(MAX_BARS + 1)])
    assert result.exit_code == 2  # the option's own bound is the same maximum


def test_a_fret_past_the_limit_in_a_gp5_is_reported_not_dropped_silently(tmp_path):
    from tabgen.sources import read_file

    song = gp.Song()
    voice = song.tracks[0].measures[0].voices[0]
    beat = gp.Beat(voice, duration=gp.Duration(value=4), status=gp.BeatStatus.normal)
    beat.notes.append(gp.Note(beat, value=3, string=2, type=gp.NoteType.normal))
    beat.notes.append(gp.Note(beat, value=99, string=1, type=gp.NoteType.normal))
    voice.beats.append(beat)
    path = tmp_path / "high.gp5"
    gp.write(song, str(path))
    result = read_file(path)
    assert [(n.string, n.fret) for n in result.tabs[0].notes] == [(2, 3)]
    messages = [str(d) for d in result.diagnostics]
    assert any("fret 99" in m and "string 1" in m and "bar 1" in m for m in messages), messages
    done = runner.invoke(app, ["check", str(path)])
    assert "fret 99" in done.output
    done = runner.invoke(app, ["render", str(path), "--midi", str(tmp_path / "h.mid")])
    assert done.exit_code == 0 and "fret 99" in done.output
