"""How good is a model's composing? Sample pieces and measure them (`tabgen eval`).

- raw validity: with the grammar mask off, the share of the bars the model writes that decode to
  well formed, playable bars (what the model learned on its own);
- masked validity: with the mask on, the share of bars that decode cleanly (by construction 100%);
- playability: the share of masked pieces the validator passes before any repair;
- novelty: the share of 4-bar windows not found in the training text; the exact-copy rate is the
  share found; also the share of pieces copied whole (every window found);
- the total variation distance between the pitch-class histograms of the samples and the corpus
  (0: the same distribution, 1: disjoint);
- notes per bar and the empty-bar rate.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from tabgen.errors import InputError

CORPUS_HISTOGRAM_CHARS = 4_000_000  # decode at most this much of train.bin for the corpus histogram


def pitch_class_histogram(tabs: list[Any]) -> np.ndarray:
    """Counts of the 12 pitch classes over every note of the tabs (dead notes left out)."""
    counts = np.zeros(12)
    for tab in tabs:
        for note in tab.notes:
            if note.technique != "x":
                counts[tab.pitch(note) % 12] += 1
    return counts


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float | None:
    """Total variation distance between two count histograms (None when one is empty)."""
    if a.sum() == 0 or b.sum() == 0:
        return None
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def corpus_tabs(training: Any, fmt: Any, limit_chars: int = CORPUS_HISTOGRAM_CHARS) -> list[Any]:
    """The pieces at the start of the training text, decoded (up to `limit_chars` characters)."""
    from tabgen.formats.base import END_MARK

    text = training.text(limit_chars)
    end = f"\n{END_MARK}\n"
    tabs = []
    for piece in text.split(end)[:-1]:  # the last part may be cut short
        decoded = fmt.decode(piece + end)
        if decoded.tab is not None:
            tabs.append(decoded.tab)
    return tabs


def find_training(ckpt: Any, corpus: str | os.PathLike[str] | None) -> Any:
    """The training text: `corpus` when given (a prepared folder, or tab files that are prepared
    here in the model's format, cached as `tabgen train` does), else the checkpoint's own."""
    from tabgen.novelty import TrainingText

    if corpus is None:
        return TrainingText.for_checkpoint(ckpt)
    folder = Path(corpus)
    if not (folder / "train.bin").is_file():
        from tabgen.corpus import prepare

        folder = prepare([folder], ckpt.format).dir
    training = TrainingText.from_prepared(folder, ckpt.vocab["alphabet"])
    if training is None:
        raise InputError(f"{folder}: its vocab.json is not the model's alphabet")
    return training


def evaluate(
    model: str | os.PathLike[str] | Any = None,
    *,
    samples: int = 32,
    bars: int = 16,
    temperature: float = 0.9,
    top_k: int | None = None,
    seed: int = 0,
    corpus: str | os.PathLike[str] | None = None,
    candidates: int = 1,
    max_span: int = 4,
    batch: int = 16,
) -> dict:
    """Sample `samples` pieces of `bars` bars with the mask and as many without; return the figures.

    With `candidates` > 1 each masked piece is the best of that many, chosen as compose chooses."""
    from tabgen.compose import best_candidate, load_model, score_candidates
    from tabgen.formats import get_format
    from tabgen.novelty import windows
    from tabgen.sample import sample

    start = time.monotonic()
    ckpt = load_model(model)
    fmt = get_format(ckpt.format)
    training = find_training(ckpt, corpus)  # before sampling: a bad --corpus fails fast
    opts = dict(bars=bars, temperature=temperature, top_k=top_k, max_span=max_span)

    def draw(masked: bool, per_piece: int = 1) -> list[list[str]]:
        """`samples` groups of `per_piece` texts, sampled `batch` rows at a time."""
        texts: list[str] = []
        total = samples * per_piece
        for first in range(0, total, batch):
            n = min(batch, total - first)
            texts += sample(ckpt, seed=seed + first, candidates=n, masked=masked, **opts)
        return [texts[i : i + per_piece] for i in range(0, total, per_piece)]

    raw = [fmt.decode(t, max_span=max_span) for [t] in draw(masked=False)]
    raw_total = sum(d.bars_total for d in raw)
    raw_valid = sum(d.bars_valid for d in raw)

    # what compose gives: the best of `candidates` (scored with the training text when there is one)
    if training is not None:
        training.index_windows()
    chosen = []
    for group in draw(masked=True, per_piece=candidates):
        scored = score_candidates(fmt, group, bars, max_span, training)
        chosen.append(scored[best_candidate(scored)])
    masked_texts = [c.text for c in chosen]
    masked = [fmt.decode(t, max_span=max_span) for t in masked_texts]
    masked_valid = sum(d.bars_valid for d in masked if d.tab is not None and d.bars_total == bars)
    tabs = [d.tab for d in masked if d.tab is not None]
    playable = sum(1 for c in chosen if c.playable)
    bar_notes = [len(b.notes) for t in tabs for b in t.bars]

    copy_rate = novelty = whole_copies = pc_distance = None
    if training is not None:
        per_piece = [[training.contains(w) for w in windows(t)] for t in masked_texts]
        found = [f for piece in per_piece for f in piece]
        if found:
            copy_rate = sum(found) / len(found)
            novelty = 1.0 - copy_rate
        whole_copies = sum(1 for p in per_piece if p and all(p)) / len(per_piece)
        pc_distance = histogram_distance(
            pitch_class_histogram(tabs), pitch_class_histogram(corpus_tabs(training, fmt))
        )

    return {
        "model": str(ckpt.path) if ckpt.path else None,
        "format": ckpt.format,
        "samples": samples,
        "bars": bars,
        "temperature": temperature,
        "top_k": top_k,
        "seed": seed,
        "candidates": candidates,
        "raw_validity": raw_valid / raw_total if raw_total else 0.0,
        "raw_bars": raw_total,
        "masked_validity": masked_valid / (samples * bars),
        "playability": playable / samples,
        "novelty": novelty,
        "copy_rate": copy_rate,
        "whole_piece_copies": whole_copies,
        "pitch_class_distance": pc_distance,
        "notes_per_bar": float(np.mean(bar_notes)) if bar_notes else 0.0,
        "empty_bar_rate": sum(1 for n in bar_notes if n == 0) / len(bar_notes) if bar_notes else 1.0,
        "training_text": str(training.path) if training is not None else None,
        "seconds": round(time.monotonic() - start, 2),
    }


def report_lines(report: dict) -> list[str]:
    """The report as aligned lines for a person."""

    def pct(x: float | None) -> str:
        return "n/a (no training text; pass --corpus)" if x is None else f"{100 * x:.1f}%"

    dist = report["pitch_class_distance"]
    return [
        f"model              {report['model']} (format {report['format']})",
        f"samples            {report['samples']} x {report['bars']} bars, temperature {report['temperature']}"
        + (f", top-k {report['top_k']}" if report["top_k"] else "")
        + (f", best of {report['candidates']}" if report["candidates"] > 1 else ""),
        f"raw validity       {pct(report['raw_validity'])} of {report['raw_bars']} bars (mask off)",
        f"masked validity    {pct(report['masked_validity'])}",
        f"playability        {pct(report['playability'])} of pieces before repair",
        f"novelty            {pct(report['novelty'])} of 4-bar windows not in the training text",
        f"exact-copy rate    {pct(report['copy_rate'])} of 4-bar windows; whole pieces copied "
        f"{pct(report['whole_piece_copies'])}",
        "pitch-class dist.  "
        + ("n/a" if dist is None else f"{dist:.3f} (total variation; 0 = same as corpus)"),
        f"notes per bar      {report['notes_per_bar']:.2f}",
        f"empty-bar rate     {pct(report['empty_bar_rate'])}",
        f"time               {report['seconds']} s",
    ]
