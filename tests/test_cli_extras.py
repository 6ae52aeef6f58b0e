"""What users of tab programs expect from the command line: --version, shell completion, a fresh
seed that is printed so the piece can be made again, a title, tunings written as notes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabgen import __version__
from tabgen.cli import app
from tabgen.sources import read_file
from tests.tiny_model import tiny_run

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout == f"tabgen {__version__}\n"


SCRIPT = Path(sys.executable).with_name("tabgen")


@pytest.mark.skipif(not SCRIPT.is_file(), reason="the tabgen script is not installed beside this Python")
def test_shell_completion_completes_commands_and_options():
    def complete(words: str, cword: int) -> list[str]:
        env = {
            **os.environ,
            "_TABGEN_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        }
        done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, cwd=REPO)
        return done.stdout.split()

    assert complete("tabgen ren", 1) == ["render"]
    assert complete("tabgen render x --mu", 3) == ["--musicxml"]
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


def test_a_fresh_seed_is_printed_and_makes_the_piece_again(tmp_path):
    run = str(tiny_run())
    args = ["compose", "--model", run, "--bars", "3", "--candidates", "1"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    seeds = [
        int(re.search(r"seed (\d+) \(--seed \1 makes this piece again\)", r.stderr).group(1))
        for r in (first, second)
    ]
    assert seeds[0] != seeds[1]  # (two draws of 2**31 seeds)
    again = runner.invoke(app, [*args, "--seed", str(seeds[0])])
    assert again.exit_code == 0 and again.stdout == first.stdout
    assert "seed" not in again.stderr  # a given seed is not printed again
    assert f"Title: Composed by tabgen ({Path(run).name}, seed {seeds[0]})" in first.stdout


def test_title(tmp_path):
    out = tmp_path / "p.txt"
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--bars", "2", "--seed", "1",
                              "--title", "Night study", "--tab", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert read_file(out).tabs[0].title == "Night study"


@pytest.mark.parametrize("tuning", ["D A D G B E", "DADGBE", "D2 A2 D3 G3 B3 E4", "drop-d"])
def test_tunings_written_as_notes(tmp_path, tuning):
    out = tmp_path / "p.txt"
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--bars", "2", "--seed", "1",
                              "--tuning", tuning, "--tab", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert read_file(out).tabs[0].tuning.pitches == (64, 59, 55, 50, 45, 38)


def test_a_tuning_no_name_spells(tmp_path):
    out = tmp_path / "p.txt"
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--bars", "2", "--seed", "1",
                              "--tuning", "C G D G B D", "--tab", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert read_file(out).tabs[0].tuning.pitches == (62, 59, 55, 50, 43, 36)
