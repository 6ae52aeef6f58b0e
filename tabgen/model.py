"""The character model: embedding -> multi-layer LSTM -> linear head.

Two ways to run the same weights:
- `forward(idx, targets, state)` runs whole chunks through `nn.LSTM` (the oneDNN/cuDNN kernel: the fastest
  for training, see TOOLCHAIN.md) and carries the hidden state across chunks for truncated BPTT.
- `step(idx, state)` advances one character with `torch.lstm_cell` per layer. At batch 1 `nn.LSTM`'s
  per-call overhead dominates (oneDNN ~1,500 chars/s here); the bare cell op runs several times faster.

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

    @torch.no_grad()
    def step(self, idx: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """One character for each of B sequences: idx (B,) long -> logits (B, V), new state.

        Same weights and same maths as forward() in eval mode (equal to float rounding), no dropout: this is
        the sampling path. At batch 1 the cost is per-op overhead and reading the weights, so the weights
        are pre-arranged once (see _step_weights): layer 0's input projection becomes a (V, 4H) table row,
        and deeper layers do one matmul on [x, h].
        """
        if state is None:
            state = self.init_state(idx.size(0), idx.device)
        table, layers = self._step_weights()
        h_in, c_in = state
        H = self.config.hidden
        hs, cs = [], []
        x = None
        for i, (w, bias) in enumerate(layers):
            if i == 0:
                gates = torch.addmm(table[idx], h_in[0], w)
            else:
                assert bias is not None and x is not None  # (only layer 0 has neither)
                gates = torch.addmm(bias, torch.cat([x, h_in[i]], 1), w)
            s = torch.sigmoid(gates)  # gate order i, f, g, o (PyTorch's)
            c = torch.addcmul(s[:, H : 2 * H] * c_in[i], s[:, :H], torch.tanh(gates[:, 2 * H : 3 * H]))
            x = s[:, 3 * H :] * torch.tanh(c)
            hs.append(x)
            cs.append(c)
        return self.head(x), (torch.stack(hs), torch.stack(cs))

    def _step_weights(self) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor | None]]]:
        # Rebuilt whenever a parameter changes (optimizer step, load_state_dict, .to()): the key holds each
        # parameter's storage address and in-place version counter.
        params = self.__dict__.get("_params_list")
        if params is None:  # module.parameters() walks the module tree: ~30 us, too slow per character
            params = list(self.parameters())
            object.__setattr__(self, "_params_list", params)
        key = [(p.data_ptr(), p._version) for p in params]
        cached = self.__dict__.get("_step_cache")
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        with torch.no_grad():
            lstm: Any = self.lstm  # (torch's types do not name nn.LSTM's per-layer weights)
            table = self.embed.weight @ lstm.weight_ih_l0.t() + lstm.bias_ih_l0 + lstm.bias_hh_l0  # (V, 4H)
            layers: list[tuple[torch.Tensor, torch.Tensor | None]] = [(lstm.weight_hh_l0.t(), None)]
            for i in range(1, self.config.layers):
                w = torch.cat([getattr(lstm, f"weight_ih_l{i}"), getattr(lstm, f"weight_hh_l{i}")], 1)
                bias = getattr(lstm, f"bias_ih_l{i}") + getattr(lstm, f"bias_hh_l{i}")
                layers.append((w.t(), bias))
        object.__setattr__(self, "_step_cache", (key, table.contiguous(), layers))
        return table, layers


def flops_per_char(config: ModelConfig) -> float:
    """Training FLOPs per character (forward + backward = 3x forward; a multiply-add is 2 FLOPs).

    LSTM layer: 4 gates, each a (input + hidden) x hidden matmul; head: hidden x vocab. The embedding is a
    lookup (free)."""
    c = config
    lstm = sum(2 * 4 * c.hidden * ((c.embed if i == 0 else c.hidden) + c.hidden) for i in range(c.layers))
    head = 2 * c.hidden * c.vocab_size
    return 3.0 * (lstm + head)
