"""Self-contained checkpoints: the only module that calls torch.save / torch.load.

A checkpoint is one dict of plain types and tensors (char-rnn's idea: the vocab and options travel with the
weights, so sampling needs only this file). It loads with `torch.load(..., weights_only=True)`, which
refuses to unpickle arbitrary objects. Files are written to a temporary name in the same folder, then
renamed: an interrupted save never leaves a half-written checkpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tabgen.atomic import atomic_path
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
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())


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
        model.load_state_dict(payload["model_state"])
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
        tuning=payload.get("tuning"),
        metrics=payload.get("metrics") or {},
        manifest_hash=payload.get("manifest_hash") or "",
        train_state=payload.get("train_state") or {},
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
