"""A tiny model trained once per test session on a small synthetic corpus in the time format.

The corpus is arpeggiated chords in standard tuning (a pattern a tiny LSTM learns in seconds), laid
out as a prepared corpus folder (train.bin, val.bin, vocab.json, manifest.json). The model is what
`tabgen train` writes: a run folder with best.pt and last.pt, and its config names the data folder,
so compose and eval find the training text.
"""

from __future__ import annotations

import atexit
import functools
import json
import random
import shutil
import tempfile
from pathlib import Path
from unittest.mock import patch

import numpy as np

from tabgen.formats import get_format
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

STANDARD = Tuning.named("standard")
# string -> fret, string 1 the high e
CHORDS = {
    "C": {5: 3, 4: 2, 3: 0, 2: 1, 1: 0},
    "G": {6: 3, 5: 2, 4: 0, 3: 0, 2: 0, 1: 3},
    "Am": {5: 0, 4: 2, 3: 2, 2: 1, 1: 0},
    "F": {4: 3, 3: 2, 2: 1, 1: 1},
    "Em": {6: 0, 5: 2, 4: 2, 3: 0, 2: 0, 1: 0},
    "D": {4: 0, 3: 2, 2: 3, 1: 2},
}
PATTERNS = [(3, 2, 1, 2, 3, 2, 1, 2), (1, 2, 3, 2, 1, 2, 3, 2), (2, 3, 1, 3, 2, 3, 1, 3)]


def chord_bar(name: str, pattern: tuple[int, ...]) -> Bar:
    shape = CHORDS[name]
    bass = max(shape)
    cols = [Column(0, (Note(bass, shape[bass]),))]
    for i, s in enumerate(pattern[1:], start=1):
        cols.append(Column(2 * i, (Note(s, shape[s]),)))
    return Bar(16, tuple(cols))


def synthetic_tabs(pieces: int, seed: int) -> list[Tab]:
    rng = random.Random(seed)
    names = list(CHORDS)
    out = []
    for _ in range(pieces):
        pattern = rng.choice(PATTERNS)
        bars = tuple(chord_bar(rng.choice(names), pattern) for _ in range(rng.randint(4, 8)))
        out.append(Tab(STANDARD, bars, (4, 4)))
    return out


def make_prepared(folder: Path, train_pieces: int = 120, val_pieces: int = 12) -> Path:
    fmt = get_format("time")
    folder.mkdir(parents=True, exist_ok=True)
    bars, chars = {}, {}
    for split, n, seed in (("train", train_pieces, 1), ("val", val_pieces, 2)):
        tabs = synthetic_tabs(n, seed)
        ids = fmt.to_ids("".join(fmt.encode(t) for t in tabs))
        np.asarray(ids, dtype=np.uint8).tofile(folder / f"{split}.bin")
        bars[split], chars[split] = sum(len(t.bars) for t in tabs), len(ids)
    vocab = {"format": fmt.name, "format_version": fmt.version, "alphabet": fmt.alphabet}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    manifest = {"hash": f"synthetic-{train_pieces}-{val_pieces}", "bars": bars, "chars": chars}
    manifest["tuning"] = list(STANDARD.pitches)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@functools.cache
def tiny_run() -> Path:
    """A run folder trained once per process (80 steps: a few seconds on one core)."""
    from tabgen.model import ModelConfig
    from tabgen.train import TrainConfig, train

    root = Path(tempfile.mkdtemp(prefix="tabgen-tiny-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    data = make_prepared(root / "data")
    model = ModelConfig(vocab_size=2, embed=16, hidden=48, layers=2, dropout=0.0)
    cfg = TrainConfig(
        data=data,
        out_dir=root / "run",
        steps=80,
        model=model,
        batch=16,
        seq_len=64,
        lr=1e-2,
        warmup=10,
        eval_interval=40,
        eval_chars=4000,
        threads=1,
        handle_signals=False,
    )
    with patch("tabgen.train.plot_curves", lambda *a, **k: None):  # matplotlib costs seconds here
        train(cfg)
    return root / "run"
