"""Compose a piece: sample K candidates, decode, validate, repair, keep the best, render.

The grammar mask makes every candidate well formed, playable column by column and exactly `bars`
bars long; the validator then checks the whole piece, and `repair` fixes what a mask cannot see
(re-fretting with fretting.py, dropping a note no hand can play). The candidates are scored and the
best one kept: few problems and repairs, few empty bars, few 4-bar windows copied from the training
data (when the checkpoint's training data is still on disk; otherwise that term is skipped).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tabgen.errors import CheckpointError, InputError

if TYPE_CHECKING:
    from tabgen.checkpoint import Checkpoint
    from tabgen.formats import TextFormat
    from tabgen.novelty import TrainingText
    from tabgen.tab.types import Tab, Tuning

# Score weights: a leftover problem outweighs everything; an empty bar or a copied window costs its
# share of the piece; a repair costs a little (the piece was changed after sampling).
PROBLEM_COST = 10.0
EMPTY_BAR_COST = 1.0
COPIED_WINDOW_COST = 1.0
REPAIR_COST = 0.05


@dataclass
class Candidate:
    text: str  # the sampled text in the model's format
    tab: Tab
    repairs: list[str]
    problems: list[str]  # left after repair (expected: none)
    empty_bars: int
    copied_windows: int | None  # None: no training data to compare with
    windows: int
    score: float
    playable: bool  # as sampled, before any repair


@dataclass
class ComposeResult:
    tab: Tab
    text: str
    repairs: list[str]
    score: float
    candidates: list[Candidate] = field(default_factory=list)
    chosen: int = 0


def load_model(model: str | os.PathLike[str] | Checkpoint | None) -> Checkpoint:
    """A checkpoint from a file or run folder, or the bundled model when `model` is None."""
    from tabgen.checkpoint import Checkpoint, bundled_model_path, find_checkpoint, load_checkpoint

    if isinstance(model, Checkpoint):
        return model
    if model is None:
        path = bundled_model_path()
        if not path.is_file():
            raise CheckpointError(
                f"no bundled model at {path}; train one (tabgen train DATA --out RUN_DIR) "
                "and pass --model RUN_DIR"
            )
        return load_checkpoint(path)
    return load_checkpoint(find_checkpoint(Path(model)))


def parse_meter(text: str) -> tuple[int, int]:
    """'3/4' -> (3, 4); InputError naming the form otherwise."""
    from tabgen.tab.types import Tab, Tuning

    beats, slash, unit = text.strip().partition("/")
    if not (slash and beats.isdigit() and unit.isdigit()):
        raise InputError(f"bad meter {text!r}: expected beats/unit such as 4/4, 3/4 or 6/8")
    meter = (int(beats), int(unit))
    Tab(Tuning.named("standard"), (), meter)  # checks the range (TabValueError naming it)
    return meter


def read_prime(path: str | os.PathLike[str]) -> Tab:
    """The piece in a tab file (text or Guitar Pro) to continue, read as `tabgen render` reads it."""
    from tabgen.render.piece import load_piece

    tab, _ = load_piece(path)
    if not tab.bars:
        raise InputError(f"{path}: no bars to prime with")
    return tab


def compose(
    model: str | os.PathLike[str] | Checkpoint | None = None,
    *,
    bars: int = 16,
    tuning: Tuning | None = None,
    meter: tuple[int, int] | None = None,
    temperature: float = 0.9,
    top_k: int | None = None,
    seed: int = 0,
    prime: Tab | None = None,
    candidates: int = 4,
    max_span: int = 4,
) -> ComposeResult:
    """A new piece of exactly `bars` bars: the best of `candidates` samples, validated and repaired."""
    if not (math.isfinite(temperature) and temperature > 0):  # NaN would sample nothing but empty bars
        raise InputError(f"temperature must be a positive number, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {top_k}")
    from tabgen.formats import get_format
    from tabgen.novelty import TrainingText
    from tabgen.sample import sample

    ckpt = load_model(model)
    fmt = get_format(ckpt.format)
    texts = sample(
        ckpt,
        bars=bars,
        tuning=tuning,
        meter=meter,
        temperature=temperature,
        top_k=top_k,
        seed=seed,
        prime=prime,
        candidates=candidates,
        max_span=max_span,
    )
    scored = score_candidates(fmt, texts, bars, max_span, TrainingText.for_checkpoint(ckpt))
    best = best_candidate(scored)
    c = scored[best]
    return ComposeResult(c.tab, c.text, c.repairs, c.score, scored, best)


def score_candidates(
    fmt: TextFormat, texts: list[str], bars: int, max_span: int = 4, training: TrainingText | None = None
) -> list[Candidate]:
    """Decode, validate, repair and score each sampled text (see the module docstring)."""
    from tabgen.novelty import windows
    from tabgen.tab.validate import is_playable, repair, validate

    scored = []
    for text in texts:
        decoded = fmt.decode(text, max_span=max_span)
        if decoded.tab is None or len(decoded.tab.bars) != bars:  # the grammar rules this out
            raise CheckpointError(f"a sample did not decode to {bars} bars: {'; '.join(decoded.problems)}")
        tab, repairs = decoded.tab, []
        playable = is_playable(tab, max_span)
        if validate(tab, max_span):
            tab, repairs = repair(tab, max_span)
        problems = [str(p) for p in validate(tab, max_span)]
        empty = sum(1 for b in tab.bars if not b.columns)
        wins = windows(text)
        copied = sum(training.contains(w) for w in wins) if training is not None else None
        score = -(
            PROBLEM_COST * len(problems)
            + EMPTY_BAR_COST * empty / bars
            + (COPIED_WINDOW_COST * copied / len(wins) if copied and wins else 0.0)
            + REPAIR_COST * len(repairs)
        )
        scored.append(Candidate(text, tab, repairs, problems, empty, copied, len(wins), score, playable))
    return scored


def best_candidate(scored: list[Candidate]) -> int:
    """The index of the highest score; ties go to the first."""
    return max(range(len(scored)), key=lambda i: (scored[i].score, -i))


def describe(result: ComposeResult) -> list[str]:
    """What --verbose prints: each candidate's score and what was repaired in the chosen one."""
    lines = []
    for i, c in enumerate(result.candidates):
        mark = "*" if i == result.chosen else " "
        copied = "n/a" if c.copied_windows is None else f"{c.copied_windows}/{c.windows}"
        lines.append(
            f"{mark} candidate {i + 1}: score {c.score:.3f}, {len(c.tab.notes)} notes, "
            f"{c.empty_bars} empty bars, {len(c.repairs)} repairs, copied 4-bar windows {copied}"
        )
    lines.extend(f"repaired: {r}" for r in result.repairs)
    return lines
