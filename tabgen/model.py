"""The character model: embedding -> multi-layer LSTM -> linear head.

`forward(idx, targets, state)` runs whole chunks through `nn.LSTM` (the oneDNN/cuDNN kernel: the fastest
for training, see TOOLCHAIN.md) and carries the hidden state across chunks for truncated BPTT. Sampling
steps the same weights one character at a time with `sample.LSTMStepper` (NumPy: at batch 1 torch's
per-call overhead dominates).

No files and no vocab here: the model sees only ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tabgen.errors import TabValueError

# (h, c), each (layers, B, hidden), as nn.LSTM wants it.
State = tuple[torch.Tensor, torch.Tensor]

# Chosen by bench/train.py on the 2-core EPYC (see docs/train.md): small trains ~3x faster than base,
# base is the best bits-per-char at a 10-minute budget on 2 cores, large is for GPUs or long CPU runs.
SIZES: dict[str, dict[str, Any]] = {
    "small": {"embed": 32, "hidden": 128, "layers": 2, "dropout": 0.0},
    "base": {"embed": 64, "hidden": 256, "layers": 2, "dropout": 0.1},
    "large": {"embed": 64, "hidden": 512, "layers": 3, "dropout": 0.2},
}


@dataclass
class ModelConfig:
    vocab_size: int
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1

    def __post_init__(self) -> None:
        checks = [
            ("vocab_size", self.vocab_size, 2, 256),  # ids are uint8 on disk
            ("embed", self.embed, 1, 65536),
            ("hidden", self.hidden, 1, 65536),
            ("layers", self.layers, 1, 64),
        ]
        for name, value, lo, hi in checks:
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise TabValueError(f"model {name} must be an integer in {lo}..{hi}, got {value!r}")
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise TabValueError(f"model dropout must be in [0, 1), got {self.dropout!r}")
        self.dropout = float(self.dropout)

    @classmethod
    def for_size(cls, size: str, vocab_size: int) -> ModelConfig:
        if size not in SIZES:
            raise TabValueError(f"unknown model size {size!r}; choose one of {', '.join(SIZES)}")
        return cls(vocab_size=vocab_size, **SIZES[size])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CharLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed)
        # nn.LSTM applies dropout between layers only; we add it on the input and output too (char-rnn style).
        self.lstm = nn.LSTM(
            c.embed,
            c.hidden,
            num_layers=c.layers,
            batch_first=True,
            dropout=c.dropout if c.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, c.vocab_size)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def init_state(self, batch: int, device: torch.device | str | None = None) -> State:
        c = self.config
        device = device if device is not None else self.head.weight.device
        z = torch.zeros(c.layers, batch, c.hidden, device=device)
        return (z, z.clone())

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: State | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, State]:
        """idx (B, T) long -> logits (B, T, V), mean cross-entropy over targets (or None), new state."""
        x = self.drop(self.embed(idx))  # (B, T, E)
        y, state = self.lstm(x, state)  # (B, T, H)
        logits = self.head(self.drop(y))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))
        return logits, loss, state


def flops_per_char(config: ModelConfig) -> float:
    """Training FLOPs per character (forward + backward = 3x forward; a multiply-add is 2 FLOPs).

    LSTM layer: 4 gates, each a (input + hidden) x hidden matmul; head: hidden x vocab. The embedding is a
    lookup (free)."""
    c = config
    lstm = sum(2 * 4 * c.hidden * ((c.embed if i == 0 else c.hidden) + c.hidden) for i in range(c.layers))
    head = 2 * c.hidden * c.vocab_size
    return 3.0 * (lstm + head)
