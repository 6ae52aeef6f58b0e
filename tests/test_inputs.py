"""Inputs are read only from regular files, with a size cap and a decompression cap a user can raise."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.errors import InputError
from tabgen.sources import read_file

REPO = Path(__file__).resolve().parents[1]
STAVE = "e|-0-3-|\nB|-1---|\nG|-0---|\nD|-2---|\nA|-3---|\nE|-----|\n"
runner = CliRunner()


def test_a_device_is_refused_not_read_forever():
    with pytest.raises(InputError, match="/dev/zero: a device, not a regular file"):
        read_file("/dev/zero")


@pytest.mark.parametrize("command", [["check"], ["render"], ["compose", "--bars", "1", "--prime"]])
def test_a_fifo_is_refused_not_waited_on(tmp_path, command):
    fifo = tmp_path / "tab.txt"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "tabgen", *command, str(fifo)], capture_output=True, text=True, timeout=60,
        cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: {fifo}: a FIFO (named pipe), not a regular file: "
                                                "tabgen reads only regular files"]  # fmt: skip


def test_a_file_over_the_size_cap_is_refused_and_the_cap_can_be_raised(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text(STAVE * 400)  # about 19 KB
    monkeypatch.setenv("TABGEN_MAX_INPUT_MB", "0.01")
    with pytest.raises(InputError, match=r"larger than 0\.01 MB; set TABGEN_MAX_INPUT_MB higher"):
        read_file(big)
    monkeypatch.setenv("TABGEN_MAX_INPUT_MB", "1")
    assert read_file(big).tabs


def test_a_gzip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"-" * (8 << 20)))  # 8 MB of text in 8 KB
    monkeypatch.setenv("TABGEN_MAX_INPUT_MB", "1")
    with pytest.raises(InputError, match=r"unpacks to more than 1 MB \(a gzip bomb\?\)"):
        read_file(bomb)


def test_a_bad_cap_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text(STAVE)
    monkeypatch.setenv("TABGEN_MAX_INPUT_MB", "nan")
    with pytest.raises(InputError, match="positive number of megabytes"):
        read_file(tmp_path / "a.txt")


def test_gzip_suffix_in_any_case(tmp_path):
    path = tmp_path / "SONG.TAB.GZ"
    path.write_bytes(gzip.compress(STAVE.encode()))
    assert len(read_file(path).tabs) == 1


def test_symlink_loops_and_dangling_links_are_named(tmp_path):
    a, b, dangling = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "gone.txt"
    a.symlink_to(b)
    b.symlink_to(a)
    dangling.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(InputError, match="a.txt: a symlink loop"):
        read_file(a)
    with pytest.raises(InputError, match="gone.txt: a dangling symlink"):
        read_file(dangling)
    done = runner.invoke(app, ["check", str(a)])
    assert done.exit_code == 1 and "symlink loop" in done.output and "no such file" not in done.output


def test_a_training_folder_with_broken_links_skips_them_with_the_reason(tmp_path, monkeypatch):
    from tabgen.corpus import prepare

    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i in range(4):
        (tabs / f"p{i}.txt").write_text(STAVE.replace("-3-", f"-{i}-") * 3)
    (tabs / "loop1.txt").symlink_to(tabs / "loop2.txt")
    (tabs / "loop2.txt").symlink_to(tabs / "loop1.txt")
    (tabs / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(tabs / "pipe.txt")
    skipped = dict(prepare([tabs], "time", workers=1).summary()["files_skipped"])
    assert skipped[str(tabs / "loop1.txt")] == "a symlink loop"
    assert skipped[str(tabs / "dangling.txt")].startswith("a dangling symlink")
    assert skipped[str(tabs / "pipe.txt")].startswith("a FIFO")


def test_a_guitar_pro_file_that_is_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "song.gp5"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        read_file(fifo)
