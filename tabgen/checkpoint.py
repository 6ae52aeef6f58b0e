"""Self-contained checkpoints: the only module that calls torch.save / torch.load.

A checkpoint is one dict of plain types and tensors (char-rnn's idea: the vocab and options travel with the
weights, so sampling needs only this file). It loads with `torch.load(..., weights_only=True)`, which
refuses to unpickle arbitrary objects. Files are written through `tabgen.atomic` (a temporary name in the same
folder, then renamed): an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tabgen.atomic import atomic_file
from tabgen.errors import CheckpointError, TabgenError
from tabgen.model import CharLSTM, ModelConfig

KIND = "tabgen-checkpoint"
VERSION = 1  # bump when the layout below changes incompatibly
RUN_DIR_NAMES = ("best.pt", "last.pt")  # what find_checkpoint looks for in a run folder, in this order


@dataclass
class Checkpoint:
    model: CharLSTM  # in eval mode
    config: ModelConfig
    vocab: dict  # {"format": name, "format_version": int, "alphabet": str}
    format: str
    format_version: int
    tuning: list[int] | None = None
    metrics: dict = field(default_factory=dict)
    manifest_hash: str = ""
    train_state: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    path: Path | None = None


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    config: ModelConfig,
    *,
    vocab: dict,
    optimizer: torch.optim.Optimizer | None = None,
    train_state: dict | None = None,
    metrics: dict | None = None,
    tuning: list[int] | None = None,
    manifest_hash: str = "",
) -> None:
    """Write a checkpoint atomically. A wrapped model (DDP, torch.compile) is saved as its bare weights."""
    path = Path(path)
    bare = getattr(model, "module", model)
    bare = getattr(bare, "_orig_mod", bare)
    state = {k: v.detach().to("cpu", copy=True) for k, v in bare.state_dict().items()}
    payload: dict[str, Any] = {
        "kind": KIND,
        "version": VERSION,
        "model_config": config.to_dict(),
        "model_state": state,
        "vocab": dict(vocab),
        "tuning": list(tuning) if tuning is not None else None,
        "metrics": metrics or {},
        "manifest_hash": manifest_hash,
        "train_state": train_state or {},
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TabgenError(f"cannot write {path}: {e.strerror or e}") from None
    with atomic_file(path) as f:
        torch.save(payload, f)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return (_is_int(x) or isinstance(x, float)) and math.isfinite(x)


# train_state keys that training reads back on --resume, and what each must be
_COUNTS = ("step", "chunk", "epoch", "lanes", "seq_len", "train_chars")
_NUMBERS_OR_NONE = ("first_loss", "best_val_loss", "val_bpc", "val_bits_per_bar", "minutes")


def check_tuning(tuning: Any) -> list[int] | None:
    """A stored tuning: None, or 4..8 MIDI pitches as ints; ValueError saying what is wrong."""
    if tuning is None:
        return None
    if not isinstance(tuning, list | tuple) or not all(_is_int(p) and 0 <= p <= 127 for p in tuning):
        raise ValueError(f"tuning {str(tuning)[:40]!r} is not a list of MIDI pitches 0..127")
    if not 4 <= len(tuning) <= 8:
        raise ValueError(f"tuning has {len(tuning)} strings, not 4..8")
    return list(tuning)


def check_train_state(state: Any, config: ModelConfig) -> dict:
    """A stored train_state: a dict whose known keys have the types training reads back."""
    if state is None:
        return {}
    if not isinstance(state, dict):
        raise ValueError(f"train_state is a {type(state).__name__}, not a dict")
    for key in _COUNTS:
        if key in state and not (_is_int(state[key]) and state[key] >= 0):
            raise ValueError(f"train_state {key} {str(state[key])[:20]!r} is not a count")
    if "total_steps" in state and not (state["total_steps"] is None or _is_int(state["total_steps"])):
        raise ValueError("train_state total_steps is not a count")
    for key in (*_NUMBERS_OR_NONE, "seconds"):
        if key in state and not (_is_number(state[key]) or (state[key] is None and key != "seconds")):
            raise ValueError(f"train_state {key} {str(state[key])[:20]!r} is not a number")
    if "log_acc" in state:
        acc = state["log_acc"]
        if not (isinstance(acc, list | tuple) and len(acc) == 2 and all(_is_number(x) for x in acc)):
            raise ValueError("train_state log_acc is not [sum, count]")
    if "history" in state:
        hist = state["history"]
        if not isinstance(hist, dict) or not all(
            isinstance(hist.get(k, []), list)
            and all(isinstance(row, list | tuple) and row and _is_number(row[0]) for row in hist.get(k, []))
            for k in ("train", "val")
        ):
            raise ValueError("train_state history is not {train: [...], val: [...]}")
    if "hidden" in state:
        hidden = state["hidden"]
        if not (
            isinstance(hidden, list | tuple)
            and len(hidden) == 2
            and all(isinstance(t, torch.Tensor) and t.dim() == 3 for t in hidden)
            and hidden[0].shape == hidden[1].shape
            and hidden[0].shape[0] == config.layers
            and hidden[0].shape[2] == config.hidden
        ):
            raise ValueError(
                f"train_state hidden is not two ({config.layers}, batch, {config.hidden}) tensors"
            )
    if "rng" in state:
        rng = state["rng"]
        if not (isinstance(rng, list) and all(isinstance(r, dict) and {"torch", "numpy", "python"} <= r.keys()
                                              for r in rng)):  # fmt: skip
            raise ValueError("train_state rng is not a list of random states")
    return state


def _check_finite(state: dict) -> None:
    for name, tensor in state.items():
        if (
            isinstance(tensor, torch.Tensor)
            and tensor.is_floating_point()
            and not torch.isfinite(tensor).all()
        ):
            raise ValueError(f"weight {name} holds NaN or infinite values")


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Read a checkpoint written by save_checkpoint; anything else raises CheckpointError with one line."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, random bytes, text, a pickle with foreign classes
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a tabgen checkpoint ({reason[:120]})") from None
    if not isinstance(payload, dict) or payload.get("kind") != KIND:
        raise CheckpointError(f"{path}: not a tabgen checkpoint (a torch file of another kind)")
    version = payload.get("version")
    if version != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {version} is not supported (this tabgen reads version {VERSION})"
        )
    try:
        config = ModelConfig(**payload["model_config"])
        model = CharLSTM(config)
        _check_finite(payload["model_state"])  # NaN weights sample nothing but empty bars
        model.load_state_dict(payload["model_state"])
        tuning = check_tuning(payload.get("tuning"))
        train_state = check_train_state(payload.get("train_state"), config)
        vocab = dict(payload["vocab"])
        fmt, fmt_version = str(vocab["format"]), int(vocab["format_version"])
        if len(vocab["alphabet"]) != config.vocab_size:
            raise ValueError(f"alphabet has {len(vocab['alphabet'])} chars, model {config.vocab_size}")
    except (KeyError, TypeError, ValueError, RuntimeError, TabgenError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: damaged tabgen checkpoint ({reason[:120]})") from None
    model.to(device).eval()
    return Checkpoint(
        model=model,
        config=config,
        vocab=vocab,
        format=fmt,
        format_version=fmt_version,
        tuning=tuning,
        metrics=payload.get("metrics") or {},
        manifest_hash=payload.get("manifest_hash") or "",
        train_state=train_state,
        optimizer_state=payload.get("optimizer_state"),
        path=path,
    )


def find_checkpoint(path: Path) -> Path:
    """A .pt file as given, or the checkpoint inside a run folder (best.pt, else last.pt)."""
    path = Path(path)
    if path.is_dir():
        for name in RUN_DIR_NAMES:
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path}: no checkpoint in this folder (looked for {', '.join(RUN_DIR_NAMES)})")
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file or run folder")
    return path


def bundled_model_path() -> Path:
    """The model shipped inside the package, used when compose gets no --model."""
    return Path(__file__).resolve().parent / "models" / "default.pt"
