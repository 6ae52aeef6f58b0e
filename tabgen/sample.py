"""Checkpoint to text in the model's format, one character at a time, under a grammar mask.

At each step the model gives logits for every character of the format's alphabet; the format's
grammar (a small state machine over the text) says which characters keep the text well formed,
within the bar count and playable, and the rest get zero probability before temperature and
top-k. So a masked sample is valid by construction and has exactly the bars asked for.

K candidates are sampled as one batch (model state of batch K). The random draws come from one
NumPy ``Generator(PCG64(seed))``: same seed, model and options give the same text, byte for byte.
Nothing here validates, repairs or renders: that is compose.py.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from threadpoolctl import ThreadpoolController

from tabgen.checkpoint import Checkpoint, find_checkpoint, load_checkpoint
from tabgen.errors import CheckpointError, InputError, TabgenError
from tabgen.formats import get_format
from tabgen.formats.base import END_MARK, STYLES, USER_STYLE_LETTERS, TextFormat
from tabgen.model import CharLSTM
from tabgen.tab.labels import named_tuning
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, slots_per_bar

MAX_BARS = 1024  # the most bars a piece may have (compose --bars says the same)


class Grammar(Protocol):
    """What the sampler needs from a format's grammar (see tabgen.formats)."""

    done: bool

    def allowed_mask(self) -> np.ndarray: ...

    def advance(self, ch: str) -> None: ...


class Stepper(Protocol):
    """A language model stepped one character at a time, for a batch of rows."""

    def start(self, prefix: Sequence[int], batch: int) -> np.ndarray:
        """Reset, feed `prefix` to every row; logits (batch, V) for the next character."""
        ...

    def step(self, idx: np.ndarray) -> np.ndarray:
        """Feed one character id per row; logits (batch, V) for the next."""
        ...


# --- stepping the model -------------------------------------------------------------------------


class LSTMStepper:
    """Steps a `CharLSTM` one character at a time for a batch of rows, in NumPy, from its weights.

    At batch 1 the per-call overhead of torch dominates (TOOLCHAIN.md: ~1,500 chars/s at 256x2 through
    nn.LSTM; bench/sample.py measured this stepper 2.5x faster than torch's cell ops, see docs/bench.md),
    so this steps the cells with one matmul per layer into preallocated buffers. The embedding is
    folded into layer 0's input weights (one table row per character replaces the lookup and the
    input matmul), and sigmoid(x) = (tanh(x/2) + 1) / 2 lets one tanh serve all four gates. Dropout
    is off: these are `forward`'s logits in eval mode, to float rounding (tests/test_sample.py).
    """

    def __init__(self, model: CharLSTM) -> None:
        lstm: Any = model.lstm  # (torch's types do not name nn.LSTM's per-layer weights)
        H = self.hidden = lstm.hidden_size
        # PyTorch's gate order is i, f, g, o: put the three sigmoid gates first (i, f, o, g) and halve
        # their rows for the tanh trick
        order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
        scale = torch.full((4 * H,), 0.5)
        scale[3 * H :] = 1.0
        # per layer: (weights (in+H, 4H), bias (4H,)); layer 0's "bias" is a (V, 4H) table by character
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        with torch.no_grad():
            for k in range(lstm.num_layers):
                w_ih = getattr(lstm, f"weight_ih_l{k}").float()[order]
                w_hh = getattr(lstm, f"weight_hh_l{k}").float()[order]
                bias = (getattr(lstm, f"bias_ih_l{k}").float() + getattr(lstm, f"bias_hh_l{k}"))[order]
                if k == 0:
                    w, b = w_hh.T, model.embed.weight.float() @ w_ih.T + bias
                else:
                    w, b = torch.cat([w_ih, w_hh], dim=1).T, bias
                self.layers.append(((w * scale).contiguous().numpy(), (b * scale).contiguous().numpy()))
            self.head_w = np.ascontiguousarray(model.head.weight.detach().float().T.numpy())
            self.head_b = model.head.bias.detach().float().numpy().copy()

    def start(self, prefix: Sequence[int], batch: int) -> np.ndarray:
        H = self.hidden
        # layer k > 0 reads [input, own h] from one buffer; its h is a view into it
        self.xh = [np.zeros((batch, H), np.float32)] + [
            np.zeros((batch, w.shape[0]), np.float32) for w, _ in self.layers[1:]
        ]
        self.h = [self.xh[0]] + [xh[:, -H:] for xh in self.xh[1:]]
        self.c = [np.zeros((batch, H), np.float32) for _ in self.layers]
        self.gates = np.zeros((batch, 4 * H), np.float32)
        self.tmp = np.zeros((batch, H), np.float32)
        self.logits = np.zeros((batch, self.head_w.shape[1]), np.float32)
        logits = None
        for i in prefix:
            logits = self.step(np.full(batch, i, dtype=np.int64))
        if logits is None:
            raise TabgenError("sampling needs a non-empty prefix (the format's header)")
        return logits

    def step(self, idx: np.ndarray) -> np.ndarray:
        H, g, tmp = self.hidden, self.gates, self.tmp
        for k, (w, b) in enumerate(self.layers):
            np.matmul(self.xh[k], w, out=g)
            g += b[idx] if k == 0 else b
            np.tanh(g, out=g)
            sig = g[:, : 3 * H]  # i, f, o: sigmoid = (tanh(x/2) + 1) / 2, the /2 is in the weights
            sig *= 0.5
            sig += 0.5
            c, h = self.c[k], self.h[k]
            c *= g[:, H : 2 * H]
            np.multiply(g[:, :H], g[:, 3 * H :], out=tmp)
            c += tmp
            np.tanh(c, out=h)
            h *= g[:, 2 * H : 3 * H]
            if k + 1 < len(self.layers):
                self.xh[k + 1][:, :H] = h
        np.matmul(self.h[-1], self.head_w, out=self.logits)
        self.logits += self.head_b
        return self.logits


# model -> (weights key, stepper)
_steppers: weakref.WeakKeyDictionary[CharLSTM, tuple[Any, LSTMStepper]] = weakref.WeakKeyDictionary()


def stepper_for(model: CharLSTM) -> LSTMStepper:
    """The model's stepper, kept per model until its weights change (eval samples many batches from one
    model; an optimizer step or load_state_dict changes a parameter's storage or version)."""
    key = tuple((p.data_ptr(), p._version) for p in model.parameters())
    cached = _steppers.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    stepper = LSTMStepper(model)
    _steppers[model] = (key, stepper)
    return stepper


# --- the sampling loop --------------------------------------------------------------------------


def generate(
    stepper: Stepper,
    alphabet: str,
    prefix: str,
    grammars: Sequence[Grammar] | None,
    *,
    candidates: int = 1,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    max_chars: int = 10_000,
    stop: str | None = None,
    watch: int | None = None,
    watched: list[list[float]] | None = None,
) -> list[str]:
    """Sample `candidates` continuations of `prefix`, one per row of a batch.

    With `grammars` (one per row, already fed the prefix) each row stops when its grammar is done and
    never takes a character its grammar forbids. Without them (raw sampling) a row stops when its
    text ends with `stop`, or after `max_chars` characters. Returns the continuations, prefix not included.
    With `watch` (a token id) and `watched` (an empty list), ``watched[r][t]`` is the model's own
    probability (temperature 1, no mask) of that token as row r's character t.
    """
    if temperature <= 0:
        raise InputError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"top-k must be >= 1, got {top_k}")
    if grammars is not None and len(grammars) != candidates:
        raise TabgenError(f"{len(grammars)} grammars for {candidates} candidates")
    index = {ch: i for i, ch in enumerate(alphabet)}
    try:
        prefix_ids = [index[ch] for ch in prefix]
    except KeyError as e:
        raise InputError(f"character {e.args[0]!r} is not in the model's alphabet") from None
    vocab = len(alphabet)
    rng = np.random.Generator(np.random.PCG64(seed))
    k = min(top_k, vocab) if top_k else None
    rows = _Rows(alphabet, prefix, grammars, candidates, stop)
    if not any(rows.live):
        return ["" for _ in range(candidates)]
    inv_t = np.float32(1.0 / temperature)
    z = np.empty((candidates, vocab), np.float32)
    block = max(1, 4096 // candidates)  # steps of Gumbel noise drawn at once (the same stream)
    noise = np.empty((0, candidates, vocab), np.float32)
    if watched is not None:
        watched[:] = [[] for _ in range(candidates)]
    # one thread: at these sizes a second one costs more in hand-offs than it gives (and the
    # machine may be shared); batched matmuls are still small
    with _one_thread():
        logits = stepper.start(prefix_ids, candidates)
        for t in range(max_chars):
            if watched is not None and watch is not None:
                rows.watch(logits, watch, watched)
            np.multiply(logits, inv_t, out=z)
            rows.mask(z)
            if k is not None and k < vocab:  # the k best of the allowed characters
                kth = np.partition(z, vocab - k, axis=1)[:, vocab - k, None]
                z[z < kth] = -np.inf
            # Gumbel-max: argmax(z + Gumbel noise) is a draw from softmax(z); -inf (masked) never wins
            if t % block == 0:
                noise = rng.gumbel(size=(block, candidates, vocab)).astype(np.float32)
            z += noise[t % block]
            choice = z.argmax(axis=1)
            if not rows.take(choice):
                break
            logits = stepper.step(choice)
    return rows.texts()


class _Rows:
    """The rows of one batch as sampling goes: which are still writing, their text, their grammar."""

    def __init__(
        self, alphabet: str, prefix: str, grammars: Sequence[Grammar] | None, n: int, stop: str | None
    ) -> None:
        self.alphabet, self.grammars, self.stop = alphabet, grammars, stop
        self.live = [True] * n if grammars is None else [not g.done for g in grammars]
        self.out: list[list[str]] = [[] for _ in range(n)]
        self.tails = [prefix[-len(stop) :] if stop else "" for _ in range(n)]
        self.current: list[np.ndarray] = [np.ones(len(alphabet), dtype=bool)] * n  # each row's mask
        self.negated: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def watch(self, logits: np.ndarray, token: int, watched: list[list[float]]) -> None:
        top = logits.max(axis=1)
        p = np.exp(logits[:, token] - top) / np.exp(logits - top[:, None]).sum(axis=1)
        for r, live in enumerate(self.live):
            if live:
                watched[r].append(float(p[r]))

    def mask(self, z: np.ndarray) -> None:
        """-inf where a live row's grammar forbids the character."""
        if self.grammars is None:
            return
        for r, live in enumerate(self.live):
            if live:
                m = self.current[r] = self.grammars[r].allowed_mask()
                # the grammar hands out a few cached masks: negate each once
                entry = self.negated.get(id(m))
                if entry is None or entry[0] is not m:
                    entry = self.negated[id(m)] = (m, ~m)
                np.putmask(z[r], entry[1], -np.inf)

    def take(self, choice: np.ndarray) -> bool:
        """Append each live row's chosen character; False when no row is left writing."""
        for r, c in enumerate(choice.tolist()):
            if not self.live[r]:
                continue
            ch = self.alphabet[c]
            if self.grammars is not None:
                if not self.current[r][c]:
                    raise TabgenError("the grammar allows no character here (a bug in the format's grammar)")
                self.grammars[r].advance(ch)
                if self.grammars[r].done:
                    self.live[r] = False
            elif self.stop:
                self.tails[r] = (self.tails[r] + ch)[-len(self.stop) :]
                if self.tails[r] == self.stop:
                    self.live[r] = False
            self.out[r].append(ch)
        return any(self.live)

    def texts(self) -> list[str]:
        return ["".join(chars) for chars in self.out]


_controller: list[ThreadpoolController] = []  # threadpoolctl's scan of the loaded libraries, done once


@contextmanager
def _one_thread() -> Iterator[None]:
    if not _controller:
        _controller.append(ThreadpoolController())
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _controller[0].limit(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(torch_threads)


# --- checkpoint to texts ------------------------------------------------------------------------


def sample(
    checkpoint: Checkpoint | str | Path,
    *,
    bars: int,
    tuning: Tuning | None = None,
    meter: tuple[int, int] | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    prime: Tab | None = None,
    candidates: int = 1,
    masked: bool = True,
    max_span: int = 4,
    max_chars: int | None = None,
    style: str | None = None,
    end_probs: list[list[float]] | None = None,
) -> list[str]:
    """`candidates` pieces of `bars` bars each, as texts in the checkpoint's format.

    Each text is a whole piece (header, body, end marker), ready for ``format.decode``. A `prime` tab
    is written in the model's format and continued: its bars count toward `bars` (the piece starts
    with the prime), so `bars` must be larger than the prime's bar count. `tuning` and `meter`
    default to the prime's, then to the checkpoint's tuning and 4/4. `style` (a style name the
    model learned, see `model_styles`) defaults to the model's `default_style`. With ``masked=False``
    the model samples raw (to measure raw validity): a row stops after an end-marker line or `max_chars`.
    With `end_probs` (an empty list), ``end_probs[r][i]`` is the model's own probability of the end
    marker as character i of text r (NaN for the characters of the header and prime it was given).
    """
    ckpt = (
        load_checkpoint(find_checkpoint(Path(checkpoint)))
        if isinstance(checkpoint, str | Path)
        else checkpoint
    )
    if bars < 1:
        raise InputError(f"bars must be >= 1, got {bars}")
    if candidates < 1:
        raise InputError(f"candidates must be >= 1, got {candidates}")
    fmt = _format_of(ckpt)
    tuning, meter = resolve_tuning_and_meter(ckpt, tuning, meter, prime)
    letter = style_letter(ckpt, style)
    prefix, fine = _start(fmt, tuning, meter, bars, letter, prime)
    grammars = None
    if masked:
        grammars = []
        for _ in range(candidates):
            g = fmt.grammar(tuning, meter, bars, max_span=max_span, max_fine=fine, style=letter)
            g.feed(prefix)
            grammars.append(g)
    budget = max_chars or _char_budget(fmt, tuning, meter, bars)
    texts = generate(
        stepper_for(ckpt.model.cpu().eval()),
        fmt.alphabet,
        prefix,
        grammars,
        candidates=candidates,
        temperature=temperature,
        top_k=top_k,
        seed=seed,
        max_chars=budget,
        stop=None if masked else f"\n{END_MARK}\n",
        watch=fmt.alphabet.index(END_MARK),
        watched=end_probs,
    )
    if grammars is not None and not all(g.done for g in grammars):
        raise TabgenError(f"sampling passed {budget} characters before the piece was complete")
    if end_probs is not None:
        end_probs[:] = [[float("nan")] * len(prefix) + row for row in end_probs]
    return [prefix + t for t in texts]


def _format_of(ckpt: Checkpoint) -> TextFormat:
    """The text format the checkpoint was trained on; CheckpointError when this tabgen lacks it."""
    try:
        fmt = get_format(ckpt.format, ckpt.format_version)
    except TabgenError:
        raise CheckpointError(
            f"the checkpoint was trained on format {ckpt.format!r} v{ckpt.format_version}, "
            "which this tabgen cannot write"
        ) from None
    if fmt.alphabet != ckpt.vocab.get("alphabet"):
        raise CheckpointError(f"the checkpoint's alphabet is not that of format {ckpt.format!r}")
    return fmt


def _start(
    fmt: TextFormat,
    tuning: Tuning,
    meter: tuple[int, int],
    bars: int,
    letter: str | None,
    prime: Tab | None,
) -> tuple[str, int]:
    """The text the model continues (the header, or the prime in the model's format) and the finest
    grid, in multiples of the meter's, that the grammar must accept."""
    if prime is None:
        return fmt.header(tuning, meter, letter), 1
    if prime.tuning.pitches != tuning.pitches or (prime.meter or meter) != meter:
        raise InputError("the prime's tuning and meter must be those of the piece asked for")
    n = len(prime.bars)
    if n >= bars:
        if n >= MAX_BARS:
            raise InputError(
                f"the prime has {n} bars and they count toward --bars, which is at most {MAX_BARS}: "
                f"prime with fewer than {MAX_BARS} bars"
            )
        more = min(n + 8, MAX_BARS)
        raise InputError(
            f"the prime has {n} bars and they count toward --bars: ask for more than {n} "
            f"(--bars {more} continues it with {more - n} new bars)"
        )
    prime = normalize(replace(prime, meter=meter))
    # a busy prime bar may sit on normalize's finer grid: let the grammar read it
    return fmt.prime(prime, bars, letter), max(b.width for b in prime.bars) // slots_per_bar(meter)


def model_styles(ckpt: Any) -> dict[str, int]:
    """The styles a checkpoint learned: name -> pieces of its training data in that style."""
    return dict(ckpt.vocab.get("styles") or {})


def default_style(ckpt: Any) -> str | None:
    """The style the vocab names as its default (a user's fine-tuned style), else `guitar` when the
    model learned it (this is a guitar program), else its most common style."""
    styles = model_styles(ckpt)
    if not styles:
        return None
    chosen = ckpt.vocab.get("default_style")
    if chosen in styles:
        return chosen
    return "guitar" if "guitar" in styles else max(styles, key=lambda k: styles[k])


def style_letters(vocab: dict) -> dict[str, str]:
    """Style name -> header letter for a checkpoint's vocab: the built-in STYLES it learned, and its
    own table (`style_letters`, written for users' styles) over them."""
    table = {name: STYLES[name] for name in vocab.get("styles") or {} if name in STYLES}
    table.update({str(k): str(v) for k, v in dict(vocab.get("style_letters") or {}).items()})
    return table


def new_style_letter(vocab: dict, name: str) -> str:
    """The letter a style called `name` gets in a model fine-tuned from one with `vocab`: its own when
    the model knows it or it is built in, else the first user letter that model does not use."""
    table = style_letters(vocab)
    if name in table:
        return table[name]
    if name in STYLES:
        return STYLES[name]
    used = set(table.values())
    for letter in USER_STYLE_LETTERS:
        if letter not in used:
            return letter
    raise InputError(f"no free style letter left for {name!r}: the model already has {len(used)} styles")


def style_letter(ckpt: Any, style: str | None) -> str | None:
    """The header letter of `style` (default: the model's default style); InputError for a style
    the model did not learn."""
    styles = model_styles(ckpt)
    if style is None:
        style = default_style(ckpt)
        if style is None:
            return None
    letters = style_letters(ckpt.vocab)
    if style not in styles or style not in letters:
        known = ", ".join(sorted(styles)) or "none (it was trained without styles)"
        raise InputError(f"the model learned no style {style!r}; its styles: {known}")
    return letters[style]


def resolve_tuning_and_meter(
    ckpt: Any, tuning: Tuning | None, meter: tuple[int, int] | None, prime: Tab | None
) -> tuple[Tuning, tuple[int, int]]:
    """The piece's tuning (asked, else the prime's, the checkpoint's, standard) and meter (asked, else
    the prime's, else 4/4)."""
    if tuning is None:
        if prime is not None:
            tuning = prime.tuning
        elif getattr(ckpt, "tuning", None):
            pitches = tuple(int(p) for p in ckpt.tuning)
            tuning = named_tuning(pitches)
        else:
            tuning = Tuning.named("standard")
    if meter is None:
        meter = prime.meter if prime is not None and prime.meter else (4, 4)
    return tuning, meter


def _char_budget(fmt: Any, tuning: Tuning, meter: tuple[int, int], bars: int) -> int:
    """Raw sampling stops here: twice the text of a piece whose every slot holds a full chord."""
    slots = slots_per_bar(meter)

    def dense(b: int) -> Bar:  # no two within a bar repeat's reach alike, so none is written short
        chord = tuple(Note(i + 1, 10 + b % 9, "h") for i in range(tuning.strings))
        return Bar(slots, tuple(Column(s, chord) for s in range(slots)))

    return 2 * len(fmt.encode(Tab(tuning, tuple(dense(b) for b in range(bars)), meter)))
