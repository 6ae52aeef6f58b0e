"""Atomic file writes: write to a temporary file in the target's folder, then `os.replace` it.

An interrupted run never leaves a half-written output: the target either keeps its old content or
gets the whole new one. The temporary file sits in the same folder so the rename stays on one file
system (and so is atomic).

What is at the path is never replaced by something else:

- a regular file (or nothing): the temporary file is renamed over it;
- a symlink: its target is written (atomically, in the target's folder) and the link stays a link;
  a dangling link creates its target; a symlink loop is refused;
- a character device (/dev/null, a terminal) or a FIFO: the finished output is copied into it
  directly, once it is complete (a FIFO with no reader is refused rather than waited on);
- a folder, a block device or a socket: refused with one line.

Temporary files are named `.NAME.XXXXXXXX.tmp`; one that a killed process left behind (older than
STALE_SECONDS) is removed the next time NAME is written.

`atomic_paths` stages several outputs and renames them only when all of them were made, so a
command that writes several files writes all of them or none.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from tabgen.errors import TabgenError

STALE_SECONDS = 600  # a temporary file this old is no write in progress: a killed one


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _why(e: OSError) -> str:
    return e.strerror or str(e)


def resolve_output(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Where an output for `path` really goes, and how: ("file", the path to rename over) or
    ("stream", a character device or FIFO to copy into). TabgenError for what cannot be written."""
    given = Path(path)
    try:
        mode = os.stat(given).st_mode  # follows links, /proc's magic ones too (/dev/stdout)
    except FileNotFoundError:
        if given.is_symlink():  # a dangling link: write the file it names
            return Path(os.path.realpath(given)), "file"
        return given, "file"
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise TabgenError(f"cannot write {given}: a symlink loop") from None
        raise TabgenError(f"cannot write {given}: {_why(e)}") from None
    if stat.S_ISREG(mode):  # renamed over: through a symlink, the file it points at
        return (Path(os.path.realpath(given)) if given.is_symlink() else given), "file"
    if stat.S_ISDIR(mode):
        raise TabgenError(f"cannot write {given}: it is a folder")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return given, "stream"
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
    raise TabgenError(f"cannot write {given}: it is {kind}, not a file")


def sweep_stale(folder: Path, name: str, older_than: float = STALE_SECONDS) -> None:
    """Remove `.NAME.*.tmp` files in `folder` that a killed write left behind."""
    cutoff = time.time() - older_than
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(f".{name}.") and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)


class _Staged:
    """One output being made: a temporary file, and where it goes when committed."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.given = Path(path)
        self.target, self.how = resolve_output(path)
        folder = self.target.parent if self.how == "file" else Path(tempfile.gettempdir())
        if self.how == "file":
            sweep_stale(folder, self.target.name)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=folder)
        except OSError as e:
            raise TabgenError(f"cannot write {self.given}: {_why(e)}") from None
        os.close(fd)
        self.tmp = Path(name)
        os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions

    def commit(self) -> None:
        try:
            if self.how == "file":
                os.replace(self.tmp, self.target)
            else:
                _copy_into(self.tmp, self.target)
        except OSError as e:
            raise TabgenError(f"cannot write {self.given}: {_why(e)}") from None

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def _copy_into(src: Path, device: Path) -> None:
    """Copy a finished output into a character device or FIFO; a FIFO nobody reads is refused."""
    try:
        fd = os.open(device, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise TabgenError(f"cannot write {device}: a FIFO with no reader") from None
        raise
    try:
        os.set_blocking(fd, True)
        with open(src, "rb") as f, os.fdopen(fd, "wb", closefd=False) as out:
            while chunk := f.read(1 << 20):
                out.write(chunk)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield one temporary path per output; when the block succeeds all of them are put in place,
    on any error none is (and the temporary files are removed). An OSError in the block (a full
    disk) becomes a TabgenError naming the first output."""
    staged: list[_Staged] = []
    try:
        for p in paths:
            staged.append(_Staged(p))
        try:
            yield [s.tmp for s in staged]
        except OSError as e:
            where: Path | str | None = next(
                (s.given for s in staged if e.filename and str(s.tmp) == str(e.filename)), None
            )
            where = where or (staged[0].given if staged else "")
            raise TabgenError(f"cannot write {where}: {_why(e)}") from None
        for s in staged:
            s.commit()
    finally:
        for s in staged:
            s.discard()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    For writers that want a file name (pretty_midi, pyguitarpro, fluidsynth)::

        with atomic_path("out.mid") as tmp:
            midi.write(str(tmp))
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def _synced(tmp: Path) -> Iterator[BinaryIO]:
    """`tmp` opened for writing; flushed to disk before it is renamed into place."""
    with open(tmp, "wb") as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def write_payload(tmp: Path, data: bytes | str, encoding: str = "utf-8") -> None:
    """Write `data` to the temporary file `tmp` and flush it to disk."""
    with _synced(tmp) as f:
        f.write(data.encode(encoding) if isinstance(data, str) else data)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """An open binary file that replaces `path` when the block succeeds, for writers that take a file
    object (``torch.save``)::

        with atomic_file("last.pt") as f:
            torch.save(payload, f)
    """
    with atomic_path(path) as tmp, _synced(tmp) as f:
        yield f


def atomic_write(path: str | os.PathLike[str], data: bytes | str, encoding: str = "utf-8") -> None:
    """Write `data` (text is encoded with `encoding`) to `path` atomically."""
    with atomic_path(path) as tmp:
        write_payload(tmp, data, encoding)
