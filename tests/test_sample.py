"""The sampling loop: mask, determinism, top-k, the LSTM stepper; then real checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import InputError
from tabgen.model import CharLSTM, ModelConfig
from tabgen.sample import generate, stepper_for

# --- a toy format: bars of 1..3 notes from "ab", closed by "|", then "$" after the last bar -------

TOY = "ab|$x"


class ToyGrammar:
    def __init__(self, bars: int) -> None:
        self.bars, self.done, self.run, self.seen = bars, False, 0, 0

    def allowed_mask(self) -> np.ndarray:
        ok = np.zeros(len(TOY), dtype=bool)
        if self.seen == self.bars:
            ok[3] = True
        else:
            ok[0:2] = self.run < 3
            ok[2] = self.run > 0
        return ok

    def advance(self, ch: str) -> None:
        assert self.allowed_mask()[TOY.index(ch)], f"forbidden {ch!r}"
        if ch == "|":
            self.seen, self.run = self.seen + 1, 0
        elif ch == "$":
            self.done = True
        else:
            self.run += 1


class RandomModel:
    """A stepper whose logits are drawn from a seeded generator: any value, including huge ones, for the
    mask to face."""

    def __init__(self, vocab: int, seed: int, scale: float = 30.0) -> None:
        self.vocab, self.gen, self.scale = vocab, np.random.default_rng(seed), scale

    def start(self, prefix, batch):
        self.batch = batch
        return self.step(np.zeros(batch, np.int64))

    def step(self, idx):
        return (self.gen.standard_normal((self.batch, self.vocab)) * self.scale).astype(np.float32)


def toy_texts(bars, candidates=1, seed=0, model_seed=0, scale=30.0, **kw):
    grammars = [ToyGrammar(bars) for _ in range(candidates)]
    stepper = RandomModel(len(TOY), model_seed, scale)
    return generate(stepper, TOY, "|", grammars, candidates=candidates, seed=seed, **kw)


@settings(max_examples=40, deadline=None)
@given(
    bars=st.integers(1, 12),
    candidates=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    temperature=st.floats(0.05, 5.0),
    top_k=st.none() | st.integers(1, 5),
)
def test_mask_never_lets_a_forbidden_character_through(bars, candidates, seed, temperature, top_k):
    texts = toy_texts(bars, candidates, seed, model_seed=seed, temperature=temperature, top_k=top_k)
    assert len(texts) == candidates
    for text in texts:  # ToyGrammar.advance asserts on every character as well
        assert text.endswith("$") and text.count("$") == 1 and "x" not in text
        assert text.count("|") == bars
        assert all(1 <= len(b) <= 3 for b in text[:-1].split("|")[:-1])


def test_same_seed_same_text_other_seed_other_text():
    a = toy_texts(8, 3, seed=5, scale=1.0)
    assert a == toy_texts(8, 3, seed=5, scale=1.0)
    assert a != toy_texts(8, 3, seed=6, scale=1.0)


def test_top_k_1_is_greedy():
    # with k=1 only the highest allowed logit can win, whatever the draw
    class Fixed(RandomModel):
        def step(self, idx):
            return np.tile(np.float32([5.0, 1.0, 0.0, -1.0, 9.0]), (len(idx), 1))

    grammars = [ToyGrammar(2)]
    text = generate(Fixed(5, 0), TOY, "|", grammars, top_k=1, seed=3)
    assert text == ["aaa|aaa|$"]


def test_raw_sampling_stops_at_the_stop_character_or_the_budget():
    texts = generate(RandomModel(5, 1), TOY, "|", None, candidates=6, stop="$", max_chars=40)
    for t in texts:
        assert ("$" in t and t.index("$") == len(t) - 1) or len(t) == 40


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="temperature"):
        toy_texts(2, temperature=0)
    with pytest.raises(InputError, match="top-k"):
        toy_texts(2, top_k=0)
    with pytest.raises(InputError, match="alphabet"):
        generate(RandomModel(5, 0), TOY, "#", [ToyGrammar(1)])


# --- the stepper gives the model's own logits ------------------------------------------------------


def tiny(layers: int, dropout: float = 0.0) -> CharLSTM:
    torch.manual_seed(0)
    return CharLSTM(ModelConfig(vocab_size=11, embed=6, hidden=20, layers=layers, dropout=dropout))


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_stepper_gives_forwards_logits_step_by_step(layers):
    model = tiny(layers, dropout=0.3).eval()
    idx = torch.randint(0, 11, (3, 25), generator=torch.Generator().manual_seed(1))
    idx[:, :2] = idx[0, :2]  # the prefix every row is given; the rows part after it
    with torch.no_grad():
        logits, _, (h, c) = model(idx)
    stepper = stepper_for(model)
    got = [stepper.start(idx[0, :2].tolist(), 3).copy()]
    got += [stepper.step(idx[:, t].numpy()).copy() for t in range(2, idx.size(1))]
    np.testing.assert_allclose(np.stack(got, 1), logits[:, 1:].numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.stack(stepper.h), h.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.stack(stepper.c), c.numpy(), rtol=0, atol=1e-5)


def test_stepper_follows_weight_updates():
    # the stepper is kept per model; an optimizer step must make a new one
    model = tiny(2)
    x = torch.randint(0, 11, (2, 8), generator=torch.Generator().manual_seed(2))
    before = stepper_for(model.eval()).start([3, 4], 1).copy()
    model.train()
    _, loss, _ = model(x, x)
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=1.0).step()
    model.eval()
    with torch.no_grad():
        logits, _, _ = model(torch.tensor([[3, 4]]))
    after = stepper_for(model).start([3, 4], 1)
    np.testing.assert_allclose(after, logits[:, -1].numpy(), rtol=0, atol=1e-5)
    assert not np.allclose(after, before)


# --- the real formats' grammars under random logits -----------------------------------------------

from tabgen.formats import FORMATS, get_format  # noqa: E402
from tabgen.sample import sample  # noqa: E402
from tabgen.tab.types import NAMED_TUNINGS, Tuning  # noqa: E402
from tabgen.tab.validate import validate  # noqa: E402
from tests.tiny_model import STANDARD, chord_bar, tiny_run  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(
    fmt_name=st.sampled_from(sorted(FORMATS)),
    tuning=st.sampled_from(sorted(NAMED_TUNINGS)),
    meter=st.sampled_from([(4, 4), (3, 4), (6, 8), (2, 4)]),
    bars=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    temperature=st.sampled_from([0.3, 1.0, 3.0]),
    top_k=st.none() | st.integers(1, 8),
)
def test_random_logits_under_the_real_grammar_always_decode_to_valid_tabs(
    fmt_name, tuning, meter, bars, seed, temperature, top_k
):
    fmt, tuning = get_format(fmt_name), Tuning.named(tuning)
    candidates = 2
    prefix = fmt.header(tuning, meter)
    grammars = [fmt.grammar(tuning, meter, bars, max_span=4) for _ in range(candidates)]
    for g in grammars:
        g.feed(prefix)
    stepper = RandomModel(len(fmt.alphabet), seed, scale=8.0)
    texts = generate(
        stepper, fmt.alphabet, prefix, grammars, candidates=candidates, seed=seed,
        temperature=temperature, top_k=top_k, max_chars=200_000,
    )  # fmt: skip
    for text in texts:
        decoded = fmt.decode(prefix + text, max_span=4)
        assert decoded.problems == []
        assert decoded.bars_total == decoded.bars_valid == bars
        assert decoded.tab.tuning.pitches == tuning.pitches and decoded.tab.meter == meter
        assert [p for p in validate(decoded.tab) if p.kind != "empty"] == []


# --- a checkpoint from `tabgen train` -------------------------------------------------------------


@pytest.mark.parametrize("bars", [1, 3, 8, 17])
def test_exact_bar_count(bars):
    fmt = get_format("time")
    for text in sample(tiny_run(), bars=bars, candidates=3, seed=bars):
        decoded = fmt.decode(text, max_span=4)
        assert (decoded.bars_total, decoded.bars_valid, decoded.problems) == (bars, bars, [])
        assert len(decoded.tab.bars) == bars


def test_same_seed_same_texts_byte_for_byte():
    a = sample(tiny_run(), bars=6, candidates=2, seed=11, temperature=1.3, top_k=10)
    assert a == sample(tiny_run(), bars=6, candidates=2, seed=11, temperature=1.3, top_k=10)
    assert a != sample(tiny_run(), bars=6, candidates=2, seed=12, temperature=1.3, top_k=10)
    assert a[0] != a[1]  # the candidates of one batch differ


def test_priming_continues_the_prime():
    from tabgen.tab.types import Tab

    prime = Tab(
        STANDARD,
        (chord_bar("Am", (3, 2, 1, 2, 3, 2, 1, 2)), chord_bar("F", (3, 2, 1, 2, 3, 2, 1, 2))),
        (4, 4),
    )
    fmt = get_format("time")
    start = fmt.prime(prime, 5)
    for text in sample(tiny_run(), bars=5, prime=prime, candidates=2, seed=4):
        assert text.startswith(start)
        tab = fmt.decode(text, max_span=4).tab
        assert len(tab.bars) == 5
        assert tab.bars[:2] == prime.bars  # the prime's notes, exactly, then three new bars
    with pytest.raises(InputError, match="prime has 2 bars and they count toward --bars"):
        sample(tiny_run(), bars=2, prime=prime)
    with pytest.raises(InputError, match="tuning"):
        sample(tiny_run(), bars=4, prime=prime, tuning=Tuning.named("drop-d"))


def test_tuning_and_meter_are_primed_in_the_header():
    fmt = get_format("time")
    [text] = sample(tiny_run(), bars=2, tuning=Tuning.named("drop-d"), meter=(3, 4), seed=2)
    tab = fmt.decode(text).tab
    assert tab.tuning.pitches == (64, 59, 55, 50, 45, 38) and tab.meter == (3, 4)
    assert all(b.width == 12 for b in tab.bars)


def test_raw_sampling_ends_at_the_end_marker_or_the_budget():
    texts = sample(tiny_run(), bars=4, candidates=4, masked=False, seed=1, max_chars=3000)
    header = get_format("time").header(STANDARD, (4, 4))
    for t in texts:
        assert t.startswith(header)
        assert t.endswith("\n$\n") and t.count("\n$\n") == 1 or len(t) == len(header) + 3000


def test_a_busy_prime_on_a_finer_grid_is_continued():
    from tabgen.tab.types import Bar, Column, Note, Tab

    # 32 notes on one string in a 4/4 bar: normalize keeps it on the 32-slot grid, which the
    # grammar must then accept (for the prime, and so for the new bars as well)
    busy = Bar(32, tuple(Column(i, (Note(1, i % 5),)) for i in range(32)))
    prime = Tab(STANDARD, (busy,), (4, 4))
    fmt = get_format("time")
    [text] = sample(tiny_run(), bars=3, prime=prime, seed=1)
    tab = fmt.decode(text).tab
    assert len(tab.bars) == 3 and tab.bars[0] == busy
    assert all(b.width in (16, 32) for b in tab.bars[1:])
