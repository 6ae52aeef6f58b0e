"""A prepared corpus folder, as `tabgen.corpus.prepare` writes it, and its one reader.

train, eval and the copy check all read the folder through `load_prepared`; corpus.py writes it. Its
own module so that the copy check (tabgen.novelty), which corpus.py uses when it writes, can read one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tabgen.errors import InputError
from tabgen.formats import TextFormat, get_format

PREPARED_FILES = ("train.bin", "val.bin", "vocab.json", "manifest.json")


@dataclass
class Prepared:
    """A prepared corpus on disk. `cached`: it was there already and nothing was read."""

    path: Path  # the folder
    manifest: dict
    cached: bool = False
    _vocab: dict | None = field(default=None, repr=False, compare=False)  # vocab.json, read once
    # from the manifest (what training reads of it):
    content_hash: str = field(init=False, compare=False)  # identifies the data: a checkpoint's manifest_hash
    val_bars: int = field(init=False, compare=False)  # bars in val.bin, for bits per bar (0: unknown)
    tuning: list[int] | None = field(init=False, compare=False)  # the usual one, highest string first

    def __post_init__(self) -> None:
        m = self.manifest
        self.content_hash = str(m.get("hash") or m.get("content_hash") or "")
        if m.get("splits"):  # the first layout: {"content_hash", "splits": {"val": {"bars": n}}}
            bars = (m["splits"].get("val") or {}).get("bars")
        else:
            bars = (m.get("bars") or {}).get("val")
        self.val_bars = int(bars or 0)
        self.tuning = [int(p) for p in m["tuning"]] if m.get("tuning") else None

    @property
    def vocab(self) -> dict:
        """vocab.json as checkpoints store it: {"format", "format_version", "alphabet"}, with "styles"
        (pieces per style name) and "style_letters" (a user's style: name -> header letter) where the
        format carries styles. A fresh copy: callers may add to it."""
        if self._vocab is None:
            self._vocab = _read_vocab(self.path)
        return dict(self._vocab)

    @property
    def alphabet(self) -> str:
        return str(self.vocab["alphabet"])

    @property
    def dir(self) -> Path:
        return self.path

    @property
    def train_bin(self) -> Path:
        return self.path / "train.bin"

    @property
    def val_bin(self) -> Path:
        return self.path / "val.bin"

    @property
    def vocab_path(self) -> Path:
        return self.path / "vocab.json"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    @property
    def format(self) -> TextFormat:
        f = self.manifest["format"]
        return get_format(f["name"], f.get("version"))

    def ids(self, split: str) -> np.memmap:
        """The token ids of 'train' or 'val', memory-mapped read-only."""
        return np.memmap(self.path / f"{split}.bin", dtype=np.uint8, mode="r")

    def summary(self) -> dict:
        """What the CLI prints: files read and skipped (with reasons), staves, pieces, bars, chars."""
        m = self.manifest
        replay = m.get("replay")
        own = {k: _without_replay(m[k], (replay or {}).get(k, 0)) for k in ("pieces", "bars", "chars")}
        return {
            "files_read": len(m["files"]["read"]),
            "files_skipped": [(s["path"], s["reason"]) for s in m["files"]["skipped"]],
            "files_ignored": len(m["files"]["ignored"]),
            "staves": m["staves"],
            **own,  # the user's files' own pieces, bars and chars (the replayed ones: "replay")
            "format": m["format"]["name"],
            "cached": self.cached,
            "path": str(self.path),
            "replay": replay,  # the replayed pieces added to the training ones, or None
        }


def _without_replay(counts: dict, replayed: int) -> dict:
    """A manifest's {"train", "val", "total"} counts less the replayed pieces' (training only)."""
    out = dict(counts)
    out["train"] -= replayed
    out["total"] -= replayed
    return out


def is_prepared(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is meant as a prepared corpus folder (it holds a train.bin; load_prepared says
    what else it lacks) rather than tab files to prepare. corpora/, the .tab.gz files with their own
    manifest.json, is not one."""
    return (Path(path) / "train.bin").is_file()


def load_prepared(directory: str | os.PathLike[str]) -> Prepared:
    """A prepared corpus folder (as `prepare` writes it: PREPARED_FILES), its manifest and vocab read;
    InputError naming the folder when a file is missing or unreadable.

    The first layout of these files (vocab "version", manifest "content_hash" and "splits") is read too."""
    directory = Path(directory)
    for name in PREPARED_FILES:
        if not (directory / name).is_file():
            raise InputError(f"{directory}: not a prepared corpus folder (no {name})")
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest.json is not an object")
        prepared = Prepared(directory, manifest, cached=True, _vocab=_read_vocab(directory))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(f"{directory}: unreadable vocab.json or manifest.json ({e})") from None
    return prepared


def _read_vocab(directory: Path) -> dict:
    raw = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
    version = raw["format_version"] if "format_version" in raw else raw["version"]
    vocab = {"format": str(raw["format"]), "format_version": int(version), "alphabet": str(raw["alphabet"])}
    if "styles" in raw:
        vocab["styles"] = {str(k): int(v) for k, v in dict(raw["styles"]).items()}
    if "style_letters" in raw:
        vocab["style_letters"] = {str(k): str(v) for k, v in dict(raw["style_letters"]).items()}
    return vocab
