"""Outputs never replace what is at the path: symlinks, devices, FIFOs; stale temporary files; modes."""

import errno
import os
import stat
import threading
import time

import pytest

from tabgen.atomic import STALE_SECONDS, atomic_path, atomic_paths, atomic_write
from tabgen.errors import TabgenError


def test_a_symlinked_output_keeps_its_link_and_writes_the_target(tmp_path):
    real = tmp_path / "real" / "piece.mid"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.mid"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert sorted(os.listdir(real.parent)) == ["piece.mid"]  # the temporary file went beside the target


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.mid"
    link.symlink_to(tmp_path / "made.mid")
    atomic_write(link, b"x")
    assert link.is_symlink() and (tmp_path / "made.mid").read_bytes() == b"x"


def test_a_symlink_loop_is_refused_as_a_loop(tmp_path):
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(TabgenError, match="symlink loop"):
        atomic_write(a, b"x")
    assert a.is_symlink() and b.is_symlink()


def test_dev_null_stays_a_device():
    atomic_write("/dev/null", b"MThd" * 100)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_gets_the_whole_output_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []

    def reader():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(200):  # wait (a little) for the reader to open its end
        time.sleep(0.01)
        try:
            atomic_write(fifo, b"data" * 50_000)
            break
        except TabgenError as e:
            assert "no reader" in str(e)
    t.join(10)
    assert got == [b"data" * 50_000]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_magic_proc_link_to_a_pipe_is_written_through(tmp_path):
    r, w = os.pipe()
    try:
        atomic_write(f"/proc/self/fd/{w}", b"MThd")  # what /dev/stdout is when piped
        assert os.read(r, 100) == b"MThd"
    finally:
        os.close(r)
        os.close(w)


def test_a_fifo_with_no_reader_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TabgenError, match="no reader"):
        atomic_write(fifo, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(TabgenError, match="folder"):
        atomic_write(tmp_path, b"x")


def test_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "x.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "x.txt").st_mode) == 0o644


def test_a_killed_writes_temporary_file_is_swept_on_the_next_write(tmp_path):
    stale = tmp_path / ".x.mid.abc123.tmp"
    fresh = tmp_path / ".x.mid.def456.tmp"  # maybe another process writing right now: kept
    other = tmp_path / ".y.mid.abc123.tmp"  # another file's: not ours to judge
    for f in (stale, fresh, other):
        f.write_bytes(b"half")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write(tmp_path / "x.mid", b"x")
    assert sorted(os.listdir(tmp_path)) == sorted(["x.mid", fresh.name, other.name])


def test_several_outputs_are_written_all_or_none(tmp_path):
    a, b = tmp_path / "a.mid", tmp_path / "b.xml"
    with pytest.raises(RuntimeError):
        with atomic_paths([a, b]) as (ta, tb):
            ta.write_bytes(b"a")
            raise RuntimeError("the second renderer failed")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TabgenError, match="nodir"):
        with atomic_paths([a, tmp_path / "nodir" / "b.xml"]):
            pass
    assert os.listdir(tmp_path) == []


def test_a_full_disk_is_one_error_naming_the_output(tmp_path):
    with pytest.raises(TabgenError, match=r"cannot write .*x\.mid: No space left on device"):
        with atomic_path(tmp_path / "x.mid") as tmp:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    assert os.listdir(tmp_path) == []


def test_render_to_stdout_gives_a_clean_midi_file(tmp_path):
    import io
    import subprocess
    import sys

    import mido

    tab = tmp_path / "t.txt"
    tab.write_text("e|-0-3-|\nB|-1---|\nG|-0---|\nD|-2---|\nA|-3---|\nE|-----|\n")
    done = subprocess.run(
        [sys.executable, "-m", "tabgen", "render", str(tab), "--midi", "/dev/stdout"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    midi = mido.MidiFile(file=io.BytesIO(done.stdout))  # nothing but the file: "wrote" goes to stderr
    assert sum(1 for m in midi.play() if m.type == "note_on" and m.velocity) == 6  # the 6 notes
    assert b"wrote /dev/stdout" in done.stderr
