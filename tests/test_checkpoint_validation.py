"""A checkpoint with a malformed tuning or train_state, or with NaN/inf weights, is refused at load with one
line; its files get the usual permissions."""

import math
import os
import stat

import pytest
import torch

from tabgen.checkpoint import load_checkpoint, save_checkpoint
from tabgen.errors import CheckpointError
from tabgen.model import CharLSTM, ModelConfig

VOCAB = {"format": "time-major", "format_version": 2, "alphabet": "\n-0123|ab"}
CONFIG = ModelConfig(vocab_size=len(VOCAB["alphabet"]), embed=4, hidden=8, layers=2, dropout=0.0)


def save(tmp_path, model=None, **kw):
    torch.manual_seed(0)
    model = model or CharLSTM(CONFIG)
    path = tmp_path / "m.pt"
    args = {"vocab": VOCAB, "train_state": {"step": 3}, "tuning": [64, 59, 55, 50, 45, 40], **kw}
    save_checkpoint(path, model, CONFIG, **args)
    return path


def raw_save(path, **overrides):
    """Rewrite a saved checkpoint's payload with some fields replaced, as an attacker would."""
    payload = torch.load(path, weights_only=True)
    payload.update(overrides)
    torch.save(payload, path)


@pytest.mark.parametrize(
    "tuning",
    ["standard", [64, 59], [64, 59, 55, 50, 45, 400], [64.5, 59, 55, 50, 45, 40], {"a": 1}, [True] * 6],
)
def test_a_malformed_tuning_is_refused(tmp_path, tuning):
    path = save(tmp_path)
    raw_save(path, tuning=tuning)
    with pytest.raises(CheckpointError, match=r"m\.pt: damaged tabgen checkpoint \(tuning"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "state",
    [
        "x",
        [1, 2],
        {"step": "7"},
        {"step": -1},
        {"chunk": 1.5},
        {"hidden": [torch.zeros(2, 4, 8)]},
        {"hidden": [torch.zeros(2, 4, 8), torch.zeros(3, 4, 8)]},
        {"hidden": [torch.zeros(2, 4, 8), "c"]},
        {"rng": "x"},
        {"history": {"train": "x"}},
        {"log_acc": [1.0]},
        {"best_val_loss": "low"},
        {"total_steps": float("nan")},
    ],
)
def test_a_malformed_train_state_is_refused(tmp_path, state):
    path = save(tmp_path)
    raw_save(path, train_state=state)
    with pytest.raises(CheckpointError, match=r"m\.pt: damaged tabgen checkpoint \(train_state"):
        load_checkpoint(path)


def test_a_well_formed_train_state_loads(tmp_path):
    hidden = [torch.zeros(2, 4, 8), torch.zeros(2, 4, 8)]
    history = {"train": [[1, 2.0, 0.1]], "val": []}
    state = {"step": 4, "hidden": hidden, "log_acc": [0.5, 2], "history": history, "best_val_loss": None}
    path = save(tmp_path, train_state=state)
    assert load_checkpoint(path).train_state["step"] == 4


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_weights_that_are_not_finite_are_refused_at_load(tmp_path, bad):
    torch.manual_seed(0)
    model = CharLSTM(CONFIG)
    with torch.no_grad():
        model.head.weight[0, 0] = bad
    path = save(tmp_path, model=model)
    with pytest.raises(CheckpointError, match=r"m\.pt: damaged tabgen checkpoint \(weight head\.weight"):
        load_checkpoint(path)


def test_checkpoints_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = save(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
