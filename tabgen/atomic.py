"""Atomic file writes: write to a temporary file in the target's folder, then `os.replace` it.

An interrupted run never leaves a half-written output: the target either keeps its old content or
gets the whole new one. The temporary file sits in the same folder so the rename stays on one file
system (and so is atomic).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tabgen.errors import TabgenError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    For writers that want a file name (pretty_midi, pyguitarpro, fluidsynth)::

        with atomic_path("out.mid") as tmp:
            midi.write(str(tmp))
    """
    target = Path(path)
    if target.is_dir():
        raise TabgenError(f"cannot write {target}: it is a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise TabgenError(f"cannot write {target}: {e.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(path: str | os.PathLike[str], data: bytes | str, encoding: str = "utf-8") -> None:
    """Write `data` (text is encoded with `encoding`) to `path` atomically."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
