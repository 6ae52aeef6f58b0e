"""The sampling loop: mask, determinism, top-k, the fast LSTM stepper; then real checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import InputError
from tabgen.sample import LSTMStepper, ModelStepper, generate, stepper_for

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


class RandomModel(torch.nn.Module):
    """Logits drawn from a seeded generator: any value, including huge ones, for the mask to face."""

    def __init__(self, vocab: int, seed: int, scale: float = 30.0) -> None:
        super().__init__()
        self.vocab, self.gen, self.scale = vocab, torch.Generator().manual_seed(seed), scale

    def init_state(self, batch, device):
        return torch.zeros(batch)

    def step(self, idx, state):
        return torch.randn(len(idx), self.vocab, generator=self.gen) * self.scale, state + 1


def toy_texts(bars, candidates=1, seed=0, model_seed=0, scale=30.0, **kw):
    grammars = [ToyGrammar(bars) for _ in range(candidates)]
    stepper = ModelStepper(RandomModel(len(TOY), model_seed, scale))
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
        def step(self, idx, state):
            return torch.tensor([[5.0, 1.0, 0.0, -1.0, 9.0]]).expand(len(idx), -1), state

    grammars = [ToyGrammar(2)]
    text = generate(ModelStepper(Fixed(5, 0)), TOY, "|", grammars, top_k=1, seed=3)
    assert text == ["aaa|aaa|$"]


def test_raw_sampling_stops_at_the_stop_character_or_the_budget():
    texts = generate(ModelStepper(RandomModel(5, 1)), TOY, "|", None, candidates=6, stop="$", max_chars=40)
    for t in texts:
        assert ("$" in t and t.index("$") == len(t) - 1) or len(t) == 40


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="temperature"):
        toy_texts(2, temperature=0)
    with pytest.raises(InputError, match="top-k"):
        toy_texts(2, top_k=0)
    with pytest.raises(InputError, match="alphabet"):
        generate(ModelStepper(RandomModel(5, 0)), TOY, "#", [ToyGrammar(1)])


# --- the fast stepper gives the model's own logits ------------------------------------------------


class PlainLSTM(torch.nn.Module):
    def __init__(self, vocab=11, emb=8, hidden=16, layers=2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, emb)
        self.lstm = torch.nn.LSTM(emb, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def init_state(self, batch, device):
        z = torch.zeros(self.lstm.num_layers, batch, self.lstm.hidden_size, device=device)
        return (z, z.clone())

    def step(self, idx, state):
        y, state = self.lstm(self.embed(idx)[:, None], state)
        return self.head(y[:, 0]), state


def test_fast_stepper_matches_the_model_step_by_step():
    torch.manual_seed(0)
    model = PlainLSTM().eval()
    stepper = stepper_for(model, 11)
    assert isinstance(stepper, LSTMStepper)
    ids = np.array([[3, 1], [4, 1], [5, 9], [2, 6], [5, 3]])
    fast = stepper.start([7, 2], 2)
    own_stepper = ModelStepper(model)
    own = own_stepper.start([7, 2], 2)
    for row in ids:
        np.testing.assert_allclose(fast, own, rtol=1e-4, atol=1e-5)
        fast, own = stepper.step(row), own_stepper.step(row)
    np.testing.assert_allclose(fast, own, rtol=1e-4, atol=1e-5)


def test_a_model_of_another_shape_keeps_its_own_step():
    class Odd(PlainLSTM):
        def step(self, idx, state):  # not the plain composition: the probe must catch it
            logits, state = super().step(idx, state)
            return logits * 2, state

    assert isinstance(stepper_for(Odd().eval(), 11), ModelStepper)
