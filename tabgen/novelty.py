"""Is a composed piece new, or a copy of the training data? Exact 4-bar windows, found or not.

A window is the music of 4 consecutive bars of one piece: each bar's width and its notes (string,
fret, technique) at their positions, as normalize puts them on the grid. Windows are compared as
music, not as model text, so the same bars are the same window wherever they stand in a piece and
however the format spells them (bar repeats, the bars-to-come count of the time format).

The training side is the train split a checkpoint learned from: `tabgen.corpus.prepare` writes the
digests of its windows (`WINDOWS_FILE`, sorted uint64); for a prepared folder without that file
they are computed once by decoding ``train.bin``. A checkpoint may carry its own copy beside it
(``NAME.windows.bin`` next to ``NAME.pt``: the bundled model does), so the copy check works where
its training data is not on disk.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from tabgen.tab.types import Bar, Tab

WINDOW_BARS = 4
WINDOWS_FILE = "train_windows.bin"


def bar_key(bar: Bar) -> str:
    """A bar's music as a stable string: width, then each column's position and notes."""
    cols = ";".join(
        f"{c.position}:" + ",".join(f"{n.string}.{n.fret}{n.technique}" for n in c.notes) for c in bar.columns
    )
    return f"{bar.width}|{cols}"


def window_digests(tab: Tab, size: int = WINDOW_BARS) -> list[int]:
    """A 64-bit digest of each run of `size` consecutive bars of `tab` (none when it is shorter)."""
    keys = [bar_key(b) for b in tab.bars]
    out = []
    for i in range(len(keys) - size + 1):
        h = hashlib.blake2b("\n".join(keys[i : i + size]).encode(), digest_size=8).digest()
        out.append(int.from_bytes(h, "little"))
    return out


def digest_array(digests: Iterable[int]) -> np.ndarray:
    """Digests as a sorted array without repeats, as `WINDOWS_FILE` holds them."""
    return np.unique(np.fromiter(digests, dtype=np.uint64))


class WindowIndex:
    """The windows of a training split, as sorted digests: is a piece's music in there?"""

    def __init__(self, digests: np.ndarray) -> None:
        self.digests = digests

    @classmethod
    def read(cls, path: Path) -> WindowIndex:
        return cls(np.fromfile(path, dtype=np.uint64))

    def copied(self, tab: Tab, size: int = WINDOW_BARS) -> list[bool]:
        """For each window of `tab`, whether the training split holds the same music."""
        wins = np.array(window_digests(tab, size), dtype=np.uint64)
        if not wins.size or not self.digests.size:
            return [False] * len(wins)
        at = np.searchsorted(self.digests, wins).clip(0, len(self.digests) - 1)
        same: list[bool] = (self.digests[at] == wins).tolist()
        return same


def checkpoint_windows_path(ckpt_path: Path) -> Path:
    """Where a checkpoint's own copy of its training windows lies: NAME.windows.bin beside NAME.pt."""
    return ckpt_path.with_name(ckpt_path.stem + ".windows.bin")


def windows_for_checkpoint(ckpt: Any) -> WindowIndex | None:
    """The windows of what the checkpoint learned from: its prepared data when on disk, else the
    copy beside the checkpoint, else None."""
    training = TrainingText.for_checkpoint(ckpt)
    if training is not None:
        return training.index
    path = getattr(ckpt, "path", None)
    if path is not None and checkpoint_windows_path(Path(path)).is_file():
        return WindowIndex.read(checkpoint_windows_path(Path(path)))
    return None


class TrainingText:
    """The training split a checkpoint learned from: its text (token ids) and its windows."""

    def __init__(self, path: Path, alphabet: str, fmt: Any = None) -> None:
        self.path = path  # train.bin
        self.alphabet = alphabet
        self.fmt = fmt  # the text format of train.bin, to decode it when there is no windows file
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else b""
        self._index: WindowIndex | None = None

    @classmethod
    def for_checkpoint(cls, ckpt: Any) -> TrainingText | None:
        """The train split named in the checkpoint's training config, if it is still there and is
        the data the checkpoint was trained on (same manifest hash); else None."""
        data = _data_folder(ckpt)
        if not data:
            return None
        return cls.from_prepared(Path(data), ckpt.vocab["alphabet"], ckpt.manifest_hash or None)

    @classmethod
    def from_prepared(
        cls, folder: Path, alphabet: str, manifest_hash: str | None = None
    ) -> TrainingText | None:
        """train.bin of a prepared corpus folder in the same alphabet (and manifest hash, if given);
        None when the folder is not one (`prepared.load_prepared`) or holds other data."""
        from tabgen.errors import TabgenError
        from tabgen.formats import get_format
        from tabgen.prepared import load_prepared

        try:
            prepared = load_prepared(folder)
            if prepared.alphabet != alphabet:
                return None
            if manifest_hash and prepared.content_hash != manifest_hash:
                return None
            vocab = prepared.vocab
            fmt = get_format(vocab["format"], vocab["format_version"])
        except TabgenError:
            return None
        return cls(prepared.train_bin, alphabet, fmt)

    def text(self, limit: int | None = None) -> str:
        """The training text (its first `limit` characters) as characters."""
        raw = bytes(self._map[:limit] if limit is not None else self._map[:])
        table = bytes(ord(c) for c in self.alphabet).ljust(256, b"?")
        return raw.translate(table).decode("latin-1")

    def tabs(self, limit: int | None = None) -> list[Tab]:
        """The pieces of the training text (those that start within its first `limit` characters)."""
        from tabgen.formats.base import END_MARK

        if self.fmt is None:
            return []
        end = f"\n{END_MARK}\n"
        pieces = self.text(limit).split(end)
        if limit is not None and limit < len(self._map):
            pieces = pieces[:-1]  # the last one may be cut short
        out = []
        for piece in pieces:
            if piece.strip():
                decoded = self.fmt.decode(piece + end)
                if decoded.tab is not None:
                    out.append(decoded.tab)
        return out

    @property
    def index(self) -> WindowIndex:
        """Every window of the training split (read from `WINDOWS_FILE`, or computed once)."""
        if self._index is None:
            stored = self.path.parent / WINDOWS_FILE
            if stored.is_file():
                self._index = WindowIndex.read(stored)
            else:
                self._index = WindowIndex(digest_array(d for t in self.tabs() for d in window_digests(t)))
        return self._index

    def copied(self, tab: Tab, size: int = WINDOW_BARS) -> list[bool]:
        """For each window of `tab`, whether the training split holds the same music."""
        return self.index.copied(tab, size)


def _data_folder(ckpt: Any) -> str | None:
    """The prepared data folder in the checkpoint's training config; best.pt does not carry the
    config, so look in last.pt beside it."""
    data = ((getattr(ckpt, "train_state", None) or {}).get("config") or {}).get("data")
    path = getattr(ckpt, "path", None)
    if (
        not data
        and path is not None
        and Path(path).name != "last.pt"
        and (Path(path).parent / "last.pt").is_file()
    ):
        from tabgen.checkpoint import load_checkpoint
        from tabgen.errors import TabgenError

        try:
            last = load_checkpoint(Path(path).parent / "last.pt")
        except TabgenError:
            return None
        if last.manifest_hash == ckpt.manifest_hash:
            data = (last.train_state.get("config") or {}).get("data")
    return data
