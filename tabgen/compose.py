"""Compose a piece: sample K candidates, decode, validate, repair, keep the best, render.

The grammar mask makes every candidate well formed, playable column by column and exactly `bars`
bars long; the validator then checks the whole piece, and `repair` fixes what a mask cannot see
(re-fretting with fretting.py, dropping a note no hand can play). The candidates are scored and the
best one kept: few problems and repairs, few empty bars, few 4-bar windows copied from the training
data (when they are on disk: the checkpoint's prepared data, or the copy of its windows beside it,
as the bundled model has), and a form that holds together (`tabgen.form`): the model's own wish
to end where the piece ends, an end on the tonic, one key throughout, bars that return, no new
tune starting mid-piece.
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
    from tabgen.novelty import TrainingText, WindowIndex
    from tabgen.tab.types import Tab, Tuning

# What compose samples by default, chosen by the density and key figures of the bundled model's
# pieces (docs/compose.md: temperature 1.0 writes as densely as the corpus, best of 12 holds the key)
DEFAULT_TEMPERATURE = 1.0
DEFAULT_CANDIDATES = 12

# Score weights: a leftover problem outweighs everything; an empty bar or a copied window costs its
# share of the piece; a repair costs a little (the piece was changed after sampling).
PROBLEM_COST = 10.0
EMPTY_BAR_COST = 1.0
COPIED_WINDOW_COST = 1.0
REPAIR_COST = 0.05
# Form: what the form figures of tabgen.form reward (chosen by the ablation in docs/compose.md).
END_WISH_GAIN = 0.5  # times the model's P(end) at the cut
TONIC_GAIN = 0.8  # the piece ends on its tonic
ONE_KEY_GAIN = 0.8  # both halves in the same key (as much as the tonic: bench/selection.py --sweep)
REPEAT_GAIN = 1.0  # times the share of bars that return exactly, up to REPEAT_CAP
REPEAT_CAP = 0.3
RESTART_COST = 32.0  # times the share of bars that begin with half a bar of silence (one in 16: 2.0)
LONG_SILENCE_COST = 1.0  # a silence of more than LONG_SILENCE bars between two notes
LONG_SILENCE = 2


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
    end_wish: float | None = None  # the model's P(end) at the cut (None: not measured)


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
    """The piece in a tab file (text or Guitar Pro) to continue: the one `tabgen render` takes
    (`tabgen.sources`: a Guitar Pro file's track 1)."""
    from tabgen.sources import load_piece

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
    temperature: float = DEFAULT_TEMPERATURE,
    top_k: int | None = None,
    seed: int = 0,
    prime: Tab | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    max_span: int = 4,
    style: str | None = None,
    form: bool = True,
) -> ComposeResult:
    """A new piece of exactly `bars` bars: the best of `candidates` samples, validated and repaired.

    `form=False` leaves the form terms out of the choice (for the ablation in docs/compose.md)."""
    if not (math.isfinite(temperature) and temperature > 0):  # NaN would sample nothing but empty bars
        raise InputError(f"temperature must be a positive number, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {top_k}")
    from tabgen.formats import get_format
    from tabgen.novelty import windows_for_checkpoint
    from tabgen.sample import sample

    ckpt = load_model(model)
    fmt = get_format(ckpt.format, ckpt.format_version)
    end_probs: list[list[float]] = []
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
        style=style,
        end_probs=end_probs,
    )
    training = windows_for_checkpoint(ckpt)
    scored = score_candidates(fmt, texts, bars, max_span, training, end_probs if form else None, form)
    best = best_candidate(scored)
    c = scored[best]
    return ComposeResult(c.tab, c.text, c.repairs, c.score, scored, best)


def bar_end_probs(text: str, probs: list[float]) -> list[float]:
    """The model's P(end) right after each bar line of a sampled text: the last one is at the cut.
    Empty for a format whose bar lines are not lines of their own (line-major)."""
    from tabgen.formats.base import BAR_MARK

    out, at = [], 0
    for line in text.splitlines(keepends=True):
        at += len(line)
        if line[:1] == BAR_MARK and at < len(probs) and probs[at] == probs[at]:  # NaN: the prime's
            out.append(probs[at])
    return out


def form_gain(tab: Tab, end_wish: float | None) -> float:
    """What the form of a candidate adds to its score (see the weights above)."""
    from tabgen.form import form_figures

    figures = form_figures([tab])  # of one piece: its ending and key halves are 1.0, 0.0 or None
    gain = END_WISH_GAIN * (end_wish or 0.0)
    gain += TONIC_GAIN * bool(figures.ends_on_tonic) + ONE_KEY_GAIN * bool(figures.same_key_halves)
    gain += REPEAT_GAIN * min(figures.exact_bar_repeats, REPEAT_CAP)
    gain -= LONG_SILENCE_COST * (figures.longest_silence_bars > LONG_SILENCE)
    return gain - RESTART_COST * figures.restart_rate


def score_candidates(
    fmt: TextFormat,
    texts: list[str],
    bars: int,
    max_span: int = 4,
    training: TrainingText | WindowIndex | None = None,
    end_probs: list[list[float]] | None = None,
    form: bool = False,
) -> list[Candidate]:
    """Decode, validate, repair and score each sampled text (see the module docstring). With
    `form`, the form terms count too (`end_probs` as `sample` gives them, for the end wish)."""
    from tabgen.novelty import window_digests
    from tabgen.tab.validate import is_playable, repair, validate

    scored = []
    for r, text in enumerate(texts):
        decoded = fmt.decode(text, max_span=max_span)
        if decoded.tab is None or len(decoded.tab.bars) != bars:  # the grammar rules this out
            raise CheckpointError(f"a sample did not decode to {bars} bars: {'; '.join(decoded.problems)}")
        repairs: list[str]
        tab, repairs = decoded.tab, []
        playable = is_playable(tab, max_span)
        if validate(tab, max_span):
            tab, repairs = repair(tab, max_span)
        problems = [str(p) for p in validate(tab, max_span)]
        empty = sum(1 for b in tab.bars if not b.columns)
        wins = len(window_digests(decoded.tab))
        copied = sum(training.copied(decoded.tab)) if training is not None else None
        score = -(
            PROBLEM_COST * len(problems)
            + EMPTY_BAR_COST * empty / bars
            + (COPIED_WINDOW_COST * copied / wins if copied and wins else 0.0)
            + REPAIR_COST * len(repairs)
        )
        ends = bar_end_probs(text, end_probs[r]) if end_probs else []
        end_wish = ends[-1] if ends else None
        if form:
            score += form_gain(tab, end_wish)
        scored.append(Candidate(text, tab, repairs, problems, empty, copied, wins, score, playable, end_wish))
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
