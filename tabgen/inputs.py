"""Reading an input file with bounds: regular files only, a size cap and a decompression cap.

A FIFO or a device (`/dev/zero`) is refused rather than read forever, a symlink loop or a dangling
symlink is named as such, and a file (or the text a gzip file unpacks to) over the cap is refused
before it is held in memory. The cap is TABGEN_MAX_INPUT_MB megabytes (default 64), for the bytes
read and, separately, for the bytes a `.gz` file decompresses to: raise it to read bigger files.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zlib
from pathlib import Path

from tabgen.errors import InputError

LIMIT_ENV = "TABGEN_MAX_INPUT_MB"
DEFAULT_LIMIT_MB = 64


def input_limit() -> int:
    """The cap in bytes, from TABGEN_MAX_INPUT_MB (a positive number of megabytes)."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LIMIT_MB * 1024 * 1024
    try:
        mb = float(raw)
    except ValueError:
        mb = float("nan")
    if not mb > 0 or mb == float("inf"):
        raise InputError(f"{LIMIT_ENV}={raw!r}: expected a positive number of megabytes")
    return max(1, round(mb * 1024 * 1024))


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a tab file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a regular file: tabgen reads only regular files"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file: tabgen reads only regular files"
    return "not a regular file: tabgen reads only regular files"


def check_regular(path: str | os.PathLike[str]) -> None:
    """InputError unless `path` is (or links to) a regular file, with the reason in words."""
    name = str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if Path(path).is_symlink():
            raise InputError(f"{name}: a dangling symlink (to {os.readlink(path)})") from None
        raise InputError(f"{name}: no such file") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(f"{name}: a symlink loop") from None
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{name}: {_kind(mode)}")


def read_input(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a regular file, at most `limit` (default `input_limit()`); InputError otherwise."""
    name = str(path)
    limit = input_limit() if limit is None else limit
    check_regular(path)
    try:
        # O_NONBLOCK: should the file have been swapped for a FIFO since the check, open does not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{name}: {_kind(mode)}")
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise InputError(f"{name}: cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise InputError(f"{name}: larger than {_mb(limit)}; set {LIMIT_ENV} higher to read it")
    return data


def gunzip(data: bytes, name: str, limit: int | None = None) -> bytes:
    """Decompress gzip `data` (several members too), refusing to unpack more than `limit` bytes."""
    limit = input_limit() if limit is None else limit
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(f"{name}: not a readable gzip file ({e})") from None
    if len(out) > limit:
        raise InputError(
            f"{name}: unpacks to more than {_mb(limit)} (a gzip bomb?); set {LIMIT_ENV} higher to read it"
        )
    return out


def is_gzip_name(path: str | os.PathLike[str]) -> bool:
    """`.gz` in any case (`.TAB.GZ` too)."""
    return Path(path).suffix.lower() == ".gz"
