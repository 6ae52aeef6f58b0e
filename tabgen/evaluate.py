"""How good is a model's composing? Sample pieces and measure them (`tabgen eval`).

- raw validity: with the grammar mask off, the share of the bars the model writes that decode to
  well formed, playable bars (what the model learned on its own);
- masked validity: with the mask on, the share of bars that decode cleanly (by construction 100%);
- playability: the share of masked pieces the validator passes before any repair;
- novelty: the share of 4-bar windows whose music is not in the training split; the exact-copy
  rate is the share that is; also the share of pieces copied whole (every window found);
- the total variation distance between the pitch-class histograms of the samples and the corpus
  (0: the same distribution, 1: disjoint);
- notes per bar and the empty-bar rate;
- form (`tabgen.form`), for the samples and for the corpus pieces in the same meter side by side,
  and the model's own P(end) at the cut and at the bar lines before it.

The masked pieces are chosen as compose chooses them (best of `candidates`, the form terms on), so
the figures describe what `tabgen compose` gives at the same options.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tabgen.compose import DEFAULT_CANDIDATES, DEFAULT_TEMPERATURE
from tabgen.errors import InputError

CORPUS_SAMPLE_CHARS = 4_000_000  # decode at most this much of train.bin for the corpus figures
END_WISH_THRESHOLD = 0.5  # P(end) above this before the cut: the model wanted to stop there


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


def shipped_corpus() -> Path | None:
    """The public-domain corpus beside the package in a checkout (`corpora/`), if it is there."""
    folder = Path(__file__).resolve().parent.parent / "corpora"
    return folder if any(folder.glob("*.tab.gz")) else None


def find_training(ckpt: Any, corpus: str | os.PathLike[str] | None) -> Any:
    """The training text: `corpus` when given (a prepared folder, or tab files that are prepared
    here in the model's format, cached as `tabgen train` does), else the checkpoint's own, else the
    shipped corpus (what the bundled model learned from)."""
    from tabgen.corpus import prepare
    from tabgen.novelty import TrainingText
    from tabgen.prepared import is_prepared, load_prepared

    if corpus is None:
        own = TrainingText.for_checkpoint(ckpt)
        if own is not None:
            return own
        corpus = shipped_corpus()
        if corpus is None:
            return None
    if is_prepared(corpus):
        prepared = load_prepared(corpus)  # says what a broken folder lacks
    else:
        prepared = prepare([Path(corpus)], ckpt.format, version=ckpt.format_version)
    if prepared.alphabet != ckpt.vocab["alphabet"]:
        raise InputError(f"{prepared.dir}: its vocab.json is not the model's alphabet")
    training = TrainingText.from_prepared(prepared.dir, ckpt.vocab["alphabet"])
    if training is None:
        raise InputError(f"{prepared.dir}: format {prepared.vocab['format']!r} is not one tabgen reads")
    return training


def end_wishes(texts: list[str], probs: list[list[float]]) -> dict:
    """The model's P(end) at the cut and at the bar lines before it, over the sampled texts."""
    from tabgen.compose import bar_end_probs

    at_cut, before, eager = [], [], 0
    for text, p in zip(texts, probs, strict=True):
        ends = bar_end_probs(text, p)
        if not ends:
            continue
        at_cut.append(ends[-1])
        before += ends[:-1]
        eager += any(x > END_WISH_THRESHOLD for x in ends[:-1])
    if not at_cut:
        return {"at_cut": None, "before": None, "pieces_wanting_to_end_early": None}
    return {
        "at_cut": float(np.mean(at_cut)),
        "before": float(np.mean(before)) if before else None,
        "pieces_wanting_to_end_early": eager / len(at_cut),
    }


def evaluate(
    model: str | os.PathLike[str] | Any = None,
    *,
    samples: int = 32,
    bars: int = 16,
    temperature: float = DEFAULT_TEMPERATURE,
    top_k: int | None = None,
    seed: int = 0,
    corpus: str | os.PathLike[str] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    max_span: int = 4,
    batch: int = 16,
    style: str | None = None,
    meter: tuple[int, int] | None = None,
    tuning: Any = None,
    form: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Sample `samples` pieces of `bars` bars with the mask and as many without; return the figures.

    Each masked piece is the best of `candidates`, chosen as compose chooses (`form`: with the form
    terms). `progress(done, total)` is called as pieces are sampled."""
    from tabgen.compose import load_model
    from tabgen.form import form_figures
    from tabgen.formats import get_format
    from tabgen.sample import default_style

    start = time.monotonic()
    ckpt = load_model(model)
    fmt = get_format(ckpt.format, ckpt.format_version)
    training = find_training(ckpt, corpus)  # before sampling: a bad --corpus fails fast
    style = style if style is not None else default_style(ckpt)
    meter = meter or (4, 4)
    opts = dict(bars=bars, temperature=temperature, top_k=top_k, max_span=max_span, style=style, meter=meter)
    draws = _Draws(
        ckpt, {**opts, "tuning": tuning}, samples, batch, seed, progress, samples * (1 + candidates)
    )

    raw = [fmt.decode(t, max_span=max_span) for [t] in draws.take(masked=False)[0]]
    raw_total, raw_valid = sum(d.bars_total for d in raw), sum(d.bars_valid for d in raw)

    groups = draws.take(masked=True, per_piece=candidates)
    chosen, chosen_probs = _choose(fmt, *groups, bars=bars, max_span=max_span, training=training, form=form)
    masked_texts = [c.text for c in chosen]
    masked = [fmt.decode(t, max_span=max_span) for t in masked_texts]
    masked_valid = sum(d.bars_valid for d in masked if d.tab is not None and d.bars_total == bars)
    tabs = [d.tab for d in masked if d.tab is not None]
    bar_notes = [len(b.notes) for t in tabs for b in t.bars]
    against = _against_training(training, tabs, ckpt, fmt, style, meter, bars)

    return {
        "model": str(ckpt.path) if ckpt.path else None,
        "format": f"{ckpt.format} v{ckpt.format_version}",
        "samples": samples,
        "bars": bars,
        "meter": f"{meter[0]}/{meter[1]}",
        "tuning": tuning.name or " ".join(map(str, tuning.pitches)) if tuning is not None else None,
        "style": style,
        "temperature": temperature,
        "top_k": top_k,
        "seed": seed,
        "candidates": candidates,
        "form_selection": form,
        "raw_validity": raw_valid / raw_total if raw_total else 0.0,
        "raw_bars": raw_total,
        "masked_validity": masked_valid / (samples * bars),
        "playability": sum(1 for c in chosen if c.playable) / samples,
        **{k: against[k] for k in ("novelty", "copy_rate", "whole_piece_copies", "pitch_class_distance")},
        "notes_per_bar": float(np.mean(bar_notes)) if bar_notes else 0.0,
        "empty_bar_rate": sum(1 for n in bar_notes if n == 0) / len(bar_notes) if bar_notes else 1.0,
        "form": form_figures(tabs).as_dict(),
        "corpus_form": against["corpus_form"],
        "end_probability": end_wishes(masked_texts, chosen_probs),
        "training_text": str(training.path) if training is not None else None,
        "seconds": round(time.monotonic() - start, 2),
    }


def _choose(
    fmt: Any, groups: list[list[str]], probs: list[list[list[float]]], **scoring: Any
) -> tuple[list[Any], list[list[float]]]:
    """The candidate compose would choose from each group (scored as compose scores them), and its P(end)s."""
    from tabgen.compose import best_candidate, score_candidates

    chosen, chosen_probs = [], []
    for group, p in zip(groups, probs, strict=True):
        s = scoring
        scored = score_candidates(fmt, group, s["bars"], s["max_span"], s["training"], p, s["form"])
        best = best_candidate(scored)
        chosen.append(scored[best])
        chosen_probs.append(p[best])
    return chosen, chosen_probs


class _Draws:
    """Sampling for evaluate: `samples` groups of texts (and their P(end)s), `batch` rows at a time,
    the seeds and the progress count running on from one call of `take` to the next."""

    def __init__(
        self,
        ckpt: Any,
        opts: dict[str, Any],
        samples: int,
        batch: int,
        seed: int,
        progress: Callable[[int, int], None] | None,
        total: int,
    ) -> None:
        self.ckpt, self.opts, self.samples, self.batch, self.seed = ckpt, opts, samples, batch, seed
        self.progress, self.total, self.done = progress, total, 0

    def take(self, masked: bool, per_piece: int = 1) -> tuple[list[list[str]], list[list[list[float]]]]:
        """`samples` groups of `per_piece` texts, and the P(end)s of each."""
        from tabgen.sample import sample

        texts: list[str] = []
        probs: list[list[float]] = []
        total = self.samples * per_piece
        for first in range(0, total, self.batch):
            n = min(self.batch, total - first)
            p: list[list[float]] = []
            texts += sample(
                self.ckpt, seed=self.seed + first, candidates=n, masked=masked, end_probs=p, **self.opts
            )
            probs += p
            self.done += n
            if self.progress:
                self.progress(self.done, self.total)
        groups = range(0, total, per_piece)
        return [texts[i : i + per_piece] for i in groups], [probs[i : i + per_piece] for i in groups]


def _against_training(
    training: Any, tabs: list[Any], ckpt: Any, fmt: Any, style: str | None, meter: tuple[int, int], bars: int
) -> dict:
    """The figures that compare the pieces with the training text: novelty and copies (4-bar windows),
    the pitch-class distance, and the form of the corpus pieces (of the same style) beside theirs.
    All None without a training text."""
    from tabgen.form import corpus_figures

    out: dict[str, Any] = dict.fromkeys(
        ("novelty", "copy_rate", "whole_piece_copies", "pitch_class_distance", "corpus_form")
    )
    if training is None:
        return out
    per_piece = [training.copied(t) for t in tabs]
    found = [f for piece in per_piece for f in piece]
    if found:
        out["copy_rate"] = sum(found) / len(found)
        out["novelty"] = 1.0 - out["copy_rate"]
    out["whole_piece_copies"] = sum(1 for p in per_piece if p and all(p)) / len(per_piece)
    corpus_pieces = training.tabs(CORPUS_SAMPLE_CHARS)
    if style is not None and fmt.styled:
        from tabgen.sample import style_letter

        letter = style_letter(ckpt, style)  # a user's style is read back as its letter
        same = [t for t in corpus_pieces if dict(t.meta).get("style") in (style, letter)]
        # a --corpus folder of a user's tabs was read without their style: then all of it is that style
        corpus_pieces = same or corpus_pieces
    hists = pitch_class_histogram(tabs), pitch_class_histogram(corpus_pieces)
    out["pitch_class_distance"] = histogram_distance(*hists)
    out["corpus_form"] = corpus_figures(corpus_pieces, meter, bars).as_dict()
    return out


# what report_lines prints of the form figures, in order: (key, label, as a percentage)
FORM_ROWS = [
    ("exact_bar_repeats", "bars repeating an earlier bar", True),
    ("transposed_bar_repeats", "bars repeating one transposed", True),
    ("window2_repeats", "2-bar windows repeating", True),
    ("rhythm_recurrence", "bars with the last bar's rhythm", True),
    ("ends_on_tonic", "pieces ending on the tonic", True),
    ("same_key_halves", "same key in both halves", True),
    ("onsets_per_quarter", "onsets per quarter note", False),
    ("on_beat_share", "onsets on a beat", True),
    ("restart_rate", "restarts (bars opening silent)", True),
    ("longest_silence_bars", "longest silence (bars)", False),
    ("chord_share", "chords (onsets of 2+ notes)", True),
    ("bass_string_share", "notes on the lower strings", True),
    ("open_string_share", "open strings", True),
    ("pieces_on_lowest_string", "pieces playing the lowest string", True),
]


def _fmt(x: float | None, percent: bool) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{100 * x:.1f}%" if percent else f"{x:.2f}"


def report_lines(report: dict) -> list[str]:
    """The report as aligned lines for a person."""

    def pct(x: float | None) -> str:
        return "n/a (no training text; pass --corpus)" if x is None else f"{100 * x:.1f}%"

    dist = report["pitch_class_distance"]
    end = report["end_probability"]
    lines = [
        f"model              {report['model']} (format {report['format']})",
        f"samples            {report['samples']} x {report['bars']} bars of {report['meter']}, "
        f"temperature {report['temperature']}"
        + (f", top-k {report['top_k']}" if report["top_k"] else "")
        + (f", style {report['style']}" if report["style"] else "")
        + (f", tuning {report['tuning']}" if report["tuning"] else "")
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
        f"P(end) at the cut  {_fmt(end['at_cut'], False)}; at earlier bar lines "
        f"{_fmt(end['before'], False)}; pieces with P(end) > {END_WISH_THRESHOLD} before the cut "
        f"{_fmt(end['pieces_wanting_to_end_early'], True)}",
        f"{'form':<34} {'samples':>9} {'corpus':>9}",
    ]
    corpus = report["corpus_form"] or {}
    for key, label, percent in FORM_ROWS:
        lines.append(
            f"  {label:<32} {_fmt(report['form'][key], percent):>9} {_fmt(corpus.get(key), percent):>9}"
        )
    lines.append(f"time               {report['seconds']} s")
    return lines
