"""Is a composed piece new, or a copy of the training data? Exact 4-bar windows, found or not.

A window is the model-format text of 4 consecutive bars of one piece (the formats are canonical, so
the same music is the same text). The training text is the prepared ``train.bin`` (uint8 ids) the
checkpoint was trained on: compose looks a few windows up with ``mmap.find``; eval, which looks up
hundreds, hashes every window of the corpus once.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Any

import numpy as np

from tabgen.formats.base import BAR_MARK, END_MARK, HEADER_MARK

WINDOW_BARS = 4


def bar_spans(text: str) -> list[list[tuple[int, int]]]:
    """(start, end) of each bar's text (its slot lines and its ``|`` line), grouped by piece."""
    pieces: list[list[tuple[int, int]]] = []
    start = None
    at = 0
    for line in text.splitlines(keepends=True):
        end = at + len(line)
        body = line.rstrip("\n")
        if body.startswith(HEADER_MARK):
            pieces.append([])
            start = end
        elif body == END_MARK:
            start = None
        elif body == BAR_MARK and start is not None and pieces:
            pieces[-1].append((start, end))
            start = end
        at = end
    return pieces


def windows(text: str, size: int = WINDOW_BARS) -> list[str]:
    """The texts of every run of `size` consecutive bars within one piece."""
    out = []
    for spans in bar_spans(text):
        for i in range(len(spans) - size + 1):
            out.append(text[spans[i][0] : spans[i + size - 1][1]])
    return out


class TrainingText:
    """The training split a checkpoint learned from, as bytes of token ids."""

    def __init__(self, path: Path, alphabet: str) -> None:
        self.path = path
        self.alphabet = alphabet
        self._ids = {c: i for i, c in enumerate(alphabet)}
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else b""
        self._hashes: set[int] | None = None

    @classmethod
    def for_checkpoint(cls, ckpt: Any) -> TrainingText | None:
        """The train.bin named in the checkpoint's training config, if it is still there and is the
        data the checkpoint was trained on (same manifest hash); else None."""
        data = _data_folder(ckpt)
        if not data:
            return None
        return cls.from_prepared(Path(data), ckpt.vocab["alphabet"], ckpt.manifest_hash or None)

    @classmethod
    def from_prepared(
        cls, folder: Path, alphabet: str, manifest_hash: str | None = None
    ) -> TrainingText | None:
        """train.bin of a prepared corpus folder in the same alphabet (and manifest hash, if given)."""
        folder = Path(folder)
        try:
            vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            if vocab.get("alphabet") != alphabet or not (folder / "train.bin").is_file():
                return None
            if manifest_hash:
                manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
                if str(manifest.get("content_hash") or manifest.get("hash") or "") != manifest_hash:
                    return None
        except (OSError, ValueError, AttributeError):
            return None
        return cls(folder / "train.bin", alphabet)

    def text(self, limit: int | None = None) -> str:
        """The training text (its first `limit` characters) as characters."""
        raw = bytes(self._map[:limit] if limit is not None else self._map[:])
        table = bytes(ord(c) for c in self.alphabet).ljust(256, b"?")
        return raw.translate(table).decode("latin-1")

    def encode(self, text: str) -> bytes:
        return bytes(self._ids[c] for c in text)

    def contains(self, window: str) -> bool:
        """True when the window's text occurs in the training text (a linear search)."""
        if self._hashes is not None:
            return hash(self.encode(window)) in self._hashes
        return self._map.find(self.encode(window)) >= 0

    def index_windows(self, size: int = WINDOW_BARS) -> None:
        """Hash every window of the training text once, so that `contains` is a set lookup.

        The same walk as `bar_spans`, but over the header, bar and end lines only, found with NumPy.
        """
        a = np.frombuffer(self._map, dtype=np.uint8) if len(self._map) else np.zeros(0, np.uint8)
        nl, bar, head, end = (self._ids[c] for c in ("\n", BAR_MARK, HEADER_MARK, END_MARK))
        newlines = np.flatnonzero(a == nl)
        starts = np.r_[0, newlines + 1][: len(newlines)]  # complete lines only
        lengths = newlines - starts
        first = a[starts]
        marks = np.flatnonzero((first == head) | (((first == bar) | (first == end)) & (lengths == 1)))
        hashes: set[int] = set()
        spans: list[tuple[int, int]] = []
        start = -1
        for kind, line_end in zip(first[marks].tolist(), (newlines[marks] + 1).tolist(), strict=True):
            if kind == bar:
                if start >= 0:
                    spans.append((start, line_end))
                    start = line_end
                continue
            for i in range(len(spans) - size + 1):
                hashes.add(hash(self._map[spans[i][0] : spans[i + size - 1][1]]))
            spans = []
            start = line_end if kind == head else -1
        for i in range(len(spans) - size + 1):
            hashes.add(hash(self._map[spans[i][0] : spans[i + size - 1][1]]))
        self._hashes = hashes


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
