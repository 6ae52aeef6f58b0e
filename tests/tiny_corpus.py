"""A tiny prepared corpus folder, laid out as tabgen.corpus.prepare writes it (train.bin, val.bin, vocab.json,
manifest.json with the keys training reads), so the training tests need neither tab files nor the parser."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

ALPHABET = "\n-0123457|eBGDAE"


def tab_text(bars: int, seed: int) -> str:
    """Stave-like text: six string lines per bar, eight slots, a few frets, so there is structure to learn."""
    rng = random.Random(seed)
    lines = []
    for _ in range(bars):
        frets = [rng.choice("0123457") if rng.random() < 0.3 else "-" for _ in range(8)]
        for k, name in enumerate("eBGDAE"):
            slots = "".join(f if (i + k) % 3 == 0 else "-" for i, f in enumerate(frets))
            lines.append(f"{name}|{slots}|")
    return "\n".join(lines) + "\n"


def make_prepared(folder: Path, train_bars: int = 400, val_bars: int = 40, fmt: str = "line-major") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    index = {c: i for i, c in enumerate(ALPHABET)}
    chars = {}
    for split, bars, seed in (("train", train_bars, 1), ("val", val_bars, 2)):
        ids = np.array([index[c] for c in tab_text(bars, seed)], dtype=np.uint8)
        ids.tofile(folder / f"{split}.bin")
        chars[split] = len(ids)
    (folder / "vocab.json").write_text(json.dumps({"format": fmt, "format_version": 1, "alphabet": ALPHABET}))
    manifest = {
        "hash": f"tiny-{train_bars}-{val_bars}",
        "bars": {"train": train_bars, "val": val_bars},
        "chars": chars,
        "files": {"read": [], "skipped": []},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
