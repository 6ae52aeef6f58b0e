"""The training loop: truncated BPTT over a uint8 memmap, AdamW, warmup + cosine, eval, checkpoints, DDP.

Reads a prepared corpus folder (train.bin, val.bin, vocab.json, manifest.json, as tabgen.corpus writes it) and
does not care who wrote it. Like char-rnn, the training stream is cut into `batch x world_size` contiguous
lanes; every step reads the next `seq_len` characters of each lane and carries the LSTM state over from the
previous chunk (detached), so the model sees context far beyond one chunk. Under torchrun each rank owns its
own block of lanes; DDP averages the gradients, so all ranks hold the same weights.

No argument parsing and no printing: progress goes to the `on_progress` callback as plain dicts.

Read it as nanoGPT's train.py, top to bottom: `train` sets up (`_start` builds one `TrainState`, the
only state there is), runs `_loop` (each step `_train_step`, `_agree` across ranks, `_check_loss`,
`_log`; every eval_interval `_validate` and `_save_last`) and ends with `_finish` (metrics.json, loss.png).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tabgen.atomic import atomic_path, atomic_write
from tabgen.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tabgen.device import choose_device, free_cpu_threads, under_torchrun
from tabgen.errors import CheckpointError, InputError, TrainingError
from tabgen.model import SIZES, CharLSTM, ModelConfig, flops_per_char
from tabgen.prepared import load_prepared

Progress = Callable[[dict], None]


@dataclass
class TrainConfig:
    data: Path  # a prepared corpus folder
    out_dir: Path = Path("runs/tabgen")
    steps: int | None = None  # train this many optimizer steps ...
    minutes: float | None = None  # ... or for this long (neither: DEFAULT_STEPS)
    size: str | None = None  # a key of model.SIZES (None: base, or on resume the run's own)
    model: ModelConfig | None = None  # an explicit model (overrides size; vocab_size is taken from the data)
    batch: int = 32  # lanes per rank
    seq_len: int = 128  # characters per lane per step (the BPTT length)
    lr: float = 3e-3
    warmup: int = 100
    min_lr: float | None = None  # default lr / 10
    weight_decay: float = 0.01
    clip: float = 1.0
    eval_interval: int | None = 250  # steps between validations and last.pt saves (None: auto_eval_interval)
    eval_chars: int = 200_000  # characters of val.bin read per validation
    log_interval: int = 10  # steps per "step" progress event and history point
    device: str = "auto"
    seed: int = 1337
    resume: bool = False
    format: str | None = None  # refuse data in another format
    threads: int | None = None  # CPU threads (default: the idle cores available; 1 per rank under torchrun)
    tuning: list[int] | None = None  # stored in the checkpoint for compose
    handle_signals: bool = True  # Ctrl-C / SIGTERM save a checkpoint and return
    init_from: Path | None = None  # fine-tune: start from this checkpoint's weights and config
    dropout: float | None = None  # fine-tune: train at this dropout (None: the source model's)
    patience: int = 0  # stop after this many validations without a new best (0: never)

    def __post_init__(self) -> None:
        self.data, self.out_dir = Path(self.data), Path(self.out_dir)
        if self.steps is not None and self.minutes is not None:
            raise InputError("give --steps or --minutes, not both")
        for name in ("batch", "seq_len", "eval_interval", "eval_chars", "log_interval"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps is not None and self.steps < 1:
            raise InputError(f"--steps must be at least 1, got {self.steps}")
        if self.minutes is not None and not self.minutes > 0:
            raise InputError(f"--minutes must be positive, got {self.minutes}")
        if not self.lr > 0:
            raise InputError(f"--lr must be positive, got {self.lr}")
        if self.patience < 0:
            raise InputError(f"--patience must be 0 (off) or more, got {self.patience}")
        if self.init_from is not None:
            self.init_from = Path(self.init_from)


DEFAULT_STEPS = 2000
MAX_EVAL_INTERVAL = 250  # eval_interval None: validate once a pass over the data, at least this often
MIN_EVAL_INTERVAL = 10
STYLE_KEYS = ("styles", "style_letters", "default_style")  # what merged_vocab adds to a data vocab
ESTIMATE_AFTER = 10  # --minutes: steps timed before the schedule length is first estimated


# --- data -------------------------------------------------------------------------------------------------


class Lanes:
    """`lanes` contiguous stretches of a uint8 file, read chunk by chunk; this rank reads lanes [lo, hi).

    The memmap is reopened for every batch (as nanoGPT does), so pages read once are not kept mapped and the
    resident memory stays flat however big the corpus is."""

    def __init__(self, path: Path, lanes: int, lo: int, hi: int, seq_len: int, vocab_size: int) -> None:
        self.path, self.lo, self.hi = path, lo, hi
        self.chars = n = path.stat().st_size
        self.lane_len = n // lanes
        if self.lane_len < seq_len + 1:
            raise TrainingError(
                f"{path}: {n:,} characters are too few for {lanes} lanes of {seq_len + 1}; "
                "use a smaller --batch or --seq-len, or more data"
            )
        self.seq_len = seq_len
        self.chunks = (self.lane_len - 1) // seq_len  # chunks per lane per epoch
        self.vocab_size = vocab_size

    def batch(self, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
        data = np.memmap(self.path, dtype=np.uint8, mode="r")
        T = self.seq_len
        starts = [lane * self.lane_len + chunk * T for lane in range(self.lo, self.hi)]
        block = np.stack([data[s : s + T + 1] for s in starts]).astype(np.int64)
        del data
        if block.max(initial=0) >= self.vocab_size:
            raise TrainingError(f"{self.path}: id {int(block.max())} outside the vocab of {self.vocab_size}")
        t = torch.from_numpy(block)
        return t[:, :-1], t[:, 1:]


# --- schedule ---------------------------------------------------------------------------------------------


def lr_at(step: int, total: int | None, cfg: TrainConfig) -> float:
    """Linear warmup over cfg.warmup steps, then cosine from lr down to min_lr at `total`."""
    min_lr = cfg.min_lr if cfg.min_lr is not None else cfg.lr / 10
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if total is None:  # --minutes before the first estimate of the run length
        return cfg.lr
    if step >= total:
        return min_lr
    ratio = (step - cfg.warmup) / max(1, total - cfg.warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.lr - min_lr)


# --- fine-tuning and early stopping -----------------------------------------------------------------------


def load_source(path: Path, vocab: dict) -> Any:
    """The checkpoint to fine-tune from, checked against the data's vocab: the same format, format
    version and alphabet, or CheckpointError with one line."""
    src = load_checkpoint(path, device="cpu")
    want = (vocab["format"], int(vocab["format_version"]))
    if (src.format, src.format_version) != want:
        raise CheckpointError(
            f"{path}: a model of format {src.format!r} v{src.format_version} cannot be fine-tuned on data "
            f"prepared in {want[0]!r} v{want[1]}"
        )
    if src.vocab.get("alphabet") != vocab["alphabet"]:
        raise CheckpointError(f"{path}: its alphabet differs from the data's ({want[0]!r} v{want[1]})")
    return src


def merged_vocab(data_vocab: dict, source_vocab: dict) -> dict:
    """The vocab of a fine-tuned model: the data's, with the styles (and their letters) the source
    model learned kept beside the new ones, so all of them can still be asked for."""
    out = dict(data_vocab)
    styles = dict(source_vocab.get("styles") or {})
    for name, n in (data_vocab.get("styles") or {}).items():
        styles[name] = styles.get(name, 0) + n
    letters = {**dict(source_vocab.get("style_letters") or {}), **dict(data_vocab.get("style_letters") or {})}
    if styles:
        out["styles"] = styles
    if letters:
        out["style_letters"] = letters
    if data_vocab.get("style_letters"):  # the user's own style: what compose asks for by default
        out["default_style"] = next(iter(data_vocab["style_letters"]))
    return out


def auto_eval_interval(chunks_per_pass: int) -> int:
    """Validate once a pass over the training data (a small corpus is gone over many times, and
    overfitting shows pass by pass), but at least every MAX_EVAL_INTERVAL steps."""
    return max(MIN_EVAL_INTERVAL, min(MAX_EVAL_INTERVAL, chunks_per_pass))


def patience_spent(st: TrainState, improved: bool, patience: int) -> bool:
    """Count validations without a new best in st.bad_evals; True when `patience` of them ran out."""
    st.bad_evals = 0 if improved else st.bad_evals + 1
    return patience > 0 and st.bad_evals >= patience


# --- small helpers ----------------------------------------------------------------------------------------


def _rng_state(device: torch.device) -> dict:
    np_state: Any = np.random.get_state()  # (the legacy tuple; numpy's types also allow a dict)
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    p = state["python"]
    random.setstate((p[0], tuple(p[1]), p[2]))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def plot_curves(history: dict, path: Path) -> None:
    """Train loss and validation bits per char against steps, as a PNG (matplotlib, imported only here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if history.get("train"):
        s, loss = zip(*[(h[0], h[1] / math.log(2)) for h in history["train"]], strict=True)
        ax.plot(s, loss, label="train (bits/char)", lw=1)
    if history.get("val"):
        s, bpc = zip(*[(h[0], h[1]) for h in history["val"]], strict=True)
        ax.plot(s, bpc, "o-", label="validation (bits/char)", lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


class _StopSignals:
    """Ctrl-C / SIGTERM set a flag that the loop reads between steps; a second Ctrl-C aborts at once."""

    def __init__(self, enabled: bool) -> None:
        self.reason: str | None = None
        self._old: dict[int, Any] = {}
        self.enabled = enabled and _in_main_thread()

    def _handler(self, signum: int, frame: Any) -> None:
        if self.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.reason = signal.Signals(signum).name

    def __enter__(self) -> _StopSignals:
        if self.enabled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# --- processes and the run folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranks:
    """Where this process stands in a torchrun launch (a single process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


@contextmanager
def distributed(device_request: str | None = "auto") -> Iterator[Ranks]:
    """The one place the process group of a torchrun launch is made and ended.

    Under torchrun (2 or more processes) the first caller joins the group (NCCL on GPUs, gloo on CPU) and
    destroys it on exit; a caller inside it (the CLI holds it while rank 0 prepares the corpus, then calls
    `train`, which holds it too) only reads the ranks. A single process: Ranks(), nothing done."""
    if not under_torchrun() or int(os.environ["WORLD_SIZE"]) < 2:
        yield Ranks()
        return
    ranks = Ranks(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))
    owner = not dist.is_initialized()
    if owner:
        device = choose_device(device_request, ranks.local_rank)
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield ranks
    finally:
        if owner:
            dist.destroy_process_group()


def rank_zero_first(fn: Callable[[], Any]) -> Any:
    """Run fn on rank 0, then on the other ranks (e.g. corpus preparation: the others then hit its cache)."""
    if not (dist.is_available() and dist.is_initialized()):
        return fn()
    if dist.get_rank() == 0:
        result = fn()
        dist.barrier()
        return result
    dist.barrier()
    return fn()


def _device(cfg: TrainConfig, ranks: Ranks) -> torch.device:
    device = choose_device(cfg.device, ranks.local_rank)
    if device.type == "cpu":
        # torchrun sets OMP_NUM_THREADS=1 per rank; more threads per rank on shared cores was 5x slower here.
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        elif ranks.world == 1:
            torch.set_num_threads(free_cpu_threads())
    return device


LOCK_NAME = ".train.lock"  # in the run folder: one training at a time writes it


@contextmanager
def run_folder(out: Path, main: bool = True) -> Iterator[None]:
    """Make (if need be) and lock the run folder for this training; TrainingError naming it when it
    cannot be used or another training holds it. The lock is an fcntl lock, which the system drops
    when its process dies, so a killed training leaves no lock that blocks. A folder this call made is
    removed again if the training fails before writing anything in it."""
    if not main:  # under torchrun rank 0 owns the folder
        yield
        return
    created = not out.exists() and not out.is_symlink()
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out}: exists and is not a folder; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrainingError(f"{out}: cannot make the run folder ({e.strerror or e})") from None
    fd = _lock(out, out / LOCK_NAME)
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(out / LOCK_NAME)
        os.close(fd)
        if created:
            with suppress(OSError):
                out.rmdir()  # only when empty: a failed start leaves no empty run folder behind


def _lock(out: Path, lock: Path) -> int:
    """Take the run folder's lock file (and write our pid in it); TrainingError when another holds it."""
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise TrainingError(f"{out}: cannot write in the run folder ({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise TrainingError(
                f"{out}: another training (pid {holder}) is using this run folder; "
                "wait for it to finish or choose another --out"
            ) from None
        try:  # the file we locked may have been removed by a training that just ended: lock the new one
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def run_format(out: Path) -> str | None:
    """The text format of the run in `out` (its last.pt), or None when there is none to resume."""
    last = Path(out) / "last.pt"
    return load_checkpoint(last).format if last.is_file() else None


# --- the run's state --------------------------------------------------------------------------------------

# The TrainState fields last.pt's train_state holds (with the LSTM state and the RNGs): a resumed run
# continues from exactly these.
SAVED = (
    "step", "total_steps", "chunk", "epoch", "lanes", "seq_len", "first_loss", "best_val_loss", "seconds",
    "train_chars", "log_acc", "history", "val_bpc", "val_bits_per_bar", "best_step", "best_val_bits_per_bar",
    "bad_evals",
)  # fmt: skip


@dataclass(frozen=True)
class ValLanes:
    """How validation reads the first eval_chars of val.bin: `lanes` lanes of `lane_len`, `chunks`
    chunks of T characters each, the state carried (as training reads train.bin)."""

    lanes: int
    lane_len: int
    T: int
    chunks: int

    @classmethod
    def fit(cls, n: int, lanes: int, seq_len: int, eval_chars: int) -> ValLanes:
        vl = max(1, min(lanes, (n - 1) // (seq_len + 1)))
        lane_len = n // vl
        T = max(1, min(seq_len, lane_len - 1))
        per_lane = min(lane_len - 1, max(T, eval_chars // vl))
        return cls(vl, lane_len, T, max(1, per_lane // T))


@dataclass
class TrainState:
    """One training run: what it trains and on what (fixed by `_start`), where it is (the SAVED fields)
    and this session's speed counters. Every step below reads and updates this one object."""

    cfg: TrainConfig  # as fitted to the data (_fit_to_data)
    ranks: Ranks
    device: torch.device
    model: CharLSTM
    net: torch.nn.Module  # the model, or DDP around it under torchrun
    optimizer: torch.optim.Optimizer
    autocast: Any  # bf16 autocast on CUDA; a no-op on the CPU (fp32)
    mcfg: ModelConfig
    vocab: dict  # what the checkpoints store
    tuning: list[int] | None
    manifest_hash: str  # of the data: resume and compose check it
    train_data: Lanes
    val: ValLanes
    chars_per_bar: float | None  # of the validation split, for bits per bar
    eval_interval: int
    notes: list[str]
    resumed: bool
    hidden: tuple[torch.Tensor, torch.Tensor]  # this rank's LSTM state, carried from chunk to chunk
    # where the run is (SAVED)
    step: int = 0
    total_steps: int | None = None  # None: --minutes before the first estimate
    chunk: int = 0
    epoch: int = 0
    lanes: int = 0  # batch x world size: a resume with another layout starts the data over
    seq_len: int = 0
    first_loss: float | None = None
    best_val_loss: float | None = None  # nats per char
    seconds: float = 0.0  # wall time of all sessions (evals and saves included): what --minutes means
    train_chars: int = 0
    log_acc: list[float] = field(default_factory=lambda: [0.0, 0])  # loss sum and count since the last log
    history: dict[str, list] = field(default_factory=lambda: {"train": [], "val": []})
    val_bpc: float | None = None
    val_bits_per_bar: float | None = None
    best_step: int | None = None
    best_val_bits_per_bar: float | None = None
    bad_evals: int = 0  # validations since the last new best
    # this session only
    session_seconds: float = 0.0  # in training steps (evals and saves left out): chars_per_sec
    session_chars: int = 0
    session_steps: int = 0
    timing_from: tuple[float, int] | None = None  # --minutes: (time, step) the speed is measured from

    @property
    def last_path(self) -> Path:
        return self.cfg.out_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.cfg.out_dir / "best.pt"


# --- training: set-up -------------------------------------------------------------------------------------


def train(cfg: TrainConfig, on_progress: Progress | None = None) -> dict:
    """Train (or resume) a model on a prepared corpus folder; return the metrics (also in metrics.json)."""
    emit = on_progress or (lambda e: None)
    with distributed(cfg.device) as ranks:
        device = _device(cfg, ranks)
        with run_folder(cfg.out_dir, ranks.main):
            st = _start(cfg, ranks, device)
            _emit_start(st, emit)
            with _StopSignals(cfg.handle_signals) as signals:
                reason = _loop(st, emit, signals)
                if reason in ("steps", "minutes") and (
                    not st.history["val"] or st.history["val"][-1][0] != st.step
                ):
                    _validate(st, emit)
                _save_last(st, reason)
            return _finish(st, reason, emit)


def _start(cfg: TrainConfig, ranks: Ranks, device: torch.device) -> TrainState:
    """Read the data, check a resume, build the model and optimizer, restore a resumed run's state."""
    prepared = load_prepared(cfg.data)
    vocab = prepared.vocab
    if cfg.format and vocab["format"] != cfg.format:
        raise InputError(f"{cfg.data}: the data is in format {vocab['format']!r}, not {cfg.format!r}")
    ckpt = _resumed(cfg, vocab)
    source = load_source(cfg.init_from, vocab) if cfg.init_from is not None and ckpt is None else None
    if source is not None:
        vocab = merged_vocab(vocab, source.vocab)
    elif ckpt is not None:  # a resumed fine-tune keeps the styles it started with
        vocab.update({k: ckpt.vocab[k] for k in STYLE_KEYS if k in ckpt.vocab})
    start = ckpt or source
    if ckpt is not None:
        mcfg = ckpt.config
    elif source is not None:
        mcfg = source.config if cfg.dropout is None else replace(source.config, dropout=cfg.dropout)
    elif cfg.model is not None:
        mcfg = ModelConfig(**{**cfg.model.to_dict(), "vocab_size": len(vocab["alphabet"])})
    else:
        mcfg = ModelConfig.for_size(cfg.size or "base", len(vocab["alphabet"]))
    model, optimizer = _build(cfg, ranks, device, mcfg, start)
    if ckpt is not None and ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    net: torch.nn.Module = model
    if ranks.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    )  # CPU stays fp32: bf16 is ~150x slower on this CPU and breaks oneDNN's LSTM

    notes: list[str] = []
    cfg = _fit_to_data(cfg, prepared.train_bin.stat().st_size, ranks.world, notes)
    lanes = cfg.batch * ranks.world
    lo, hi = ranks.rank * cfg.batch, (ranks.rank + 1) * cfg.batch
    train_data = Lanes(prepared.train_bin, lanes, lo, hi, cfg.seq_len, len(vocab["alphabet"]))
    val_chars = prepared.val_bin.stat().st_size
    if val_chars < 2:
        raise TrainingError(f"{prepared.val_bin}: no validation text; add more tab files")
    st = TrainState(
        cfg=cfg, ranks=ranks, device=device, model=model, net=net, optimizer=optimizer, autocast=autocast,
        mcfg=mcfg, vocab=vocab, tuning=cfg.tuning if cfg.tuning is not None else prepared.tuning,
        manifest_hash=prepared.content_hash, train_data=train_data,
        val=ValLanes.fit(val_chars, lanes, cfg.seq_len, cfg.eval_chars),
        chars_per_bar=val_chars / prepared.val_bars if prepared.val_bars else None,
        eval_interval=cfg.eval_interval or auto_eval_interval(train_data.chunks), notes=notes,
        resumed=ckpt is not None, hidden=model.init_state(cfg.batch, device),
        total_steps=cfg.steps if cfg.steps is not None else (None if cfg.minutes else DEFAULT_STEPS),
        lanes=lanes, seq_len=cfg.seq_len,
    )  # fmt: skip
    if ckpt is not None:
        _restore(st, ckpt)
    if st.chunk >= train_data.chunks:
        st.chunk = 0
    return st


def _resumed(cfg: TrainConfig, vocab: dict) -> Checkpoint | None:
    """The run's last.pt when resuming, checked against the data and the options; None for a new run
    (TrainingError when the run folder already holds one)."""
    last_path = cfg.out_dir / "last.pt"
    if not cfg.resume:
        if last_path.is_file():
            raise TrainingError(
                f"{cfg.out_dir} already holds a run; pass --resume to continue it or choose another --out"
            )
        return None
    if not last_path.is_file():
        raise TrainingError(f"{cfg.out_dir}: nothing to resume (no last.pt); run without --resume first")
    ckpt = load_checkpoint(last_path, device="cpu")
    if ckpt.format != vocab["format"]:  # formats share one alphabet: the name tells them apart
        flag = "--format"
        raise TrainingError(
            f"{last_path}: the run was trained on format {ckpt.format!r}, not {vocab['format']!r}; "
            f"resume without {flag} (or with {flag} {ckpt.format}), or train a new run in another --out"
        )
    run_size = _size_name(ckpt.config)
    if cfg.size is not None and cfg.model is None and run_size != cfg.size:
        raise TrainingError(
            f"{last_path}: the run was trained at --size {run_size}, not {cfg.size}; resume without "
            f"--size (or with --size {run_size}), or train a new run in another --out"
        )
    if ckpt.vocab.get("alphabet") != vocab["alphabet"]:
        raise CheckpointError(f"{last_path}: its alphabet differs from the data's; prepare the same format")
    return ckpt


def _build(
    cfg: TrainConfig, ranks: Ranks, device: torch.device, mcfg: ModelConfig, start: Checkpoint | None
) -> tuple[CharLSTM, torch.optim.Optimizer]:
    """The model (fresh from the seed, or the weights of the run or fine-tune source) and its AdamW."""
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    model = CharLSTM(mcfg)
    if start is not None:
        model.load_state_dict(start.model.state_dict())
    model.to(device)
    torch.manual_seed(cfg.seed + ranks.rank)  # each rank its own dropout masks
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.99),
        fused=device.type == "cuda",
    )
    return model, optimizer


def _restore(st: TrainState, ckpt: Checkpoint) -> None:
    """Continue where last.pt stopped: its counters and history; its data position, LSTM state and RNGs
    when the data and the lane layout are the same, else the data from the start (with a note)."""
    saved, cfg, ranks = ckpt.train_state, st.cfg, st.ranks
    lanes, seq_len = st.lanes, st.seq_len
    for name in SAVED:
        if name in saved:
            setattr(st, name, saved[name])
    if cfg.steps is not None:
        st.total_steps = cfg.steps
    elif cfg.minutes is not None and saved.get("minutes") != cfg.minutes:
        st.total_steps = None  # re-estimate for the new time budget
    same_layout = saved.get("lanes") == lanes and saved.get("seq_len") == seq_len
    if same_layout and ckpt.manifest_hash == st.manifest_hash:
        h, c = saved["hidden"]
        mine = slice(ranks.rank * cfg.batch, (ranks.rank + 1) * cfg.batch)
        st.hidden = (h[:, mine].contiguous().to(st.device), c[:, mine].contiguous().to(st.device))
        rngs = saved.get("rng") or []
        if len(rngs) == ranks.world:
            _set_rng_state(rngs[ranks.rank], st.device)
    else:
        st.chunk, st.lanes, st.seq_len = 0, lanes, seq_len
        st.notes.append(
            "data, batch, seq_len or world size changed since the checkpoint: data position reset"
        )


def _size_name(config: ModelConfig) -> str:
    for name in SIZES:
        if ModelConfig.for_size(name, config.vocab_size) == config:
            return name
    return f"a custom size ({config.layers} x {config.hidden})"


def _fit_to_data(cfg: TrainConfig, train_chars: int, world: int, notes: list[str]) -> TrainConfig:
    """A corpus too short for batch x (seq_len + 1) characters per rank: fewer lanes, then shorter ones."""
    lanes = cfg.batch * world
    if train_chars // lanes >= cfg.seq_len + 1:
        return cfg
    batch = train_chars // (world * (cfg.seq_len + 1))
    seq_len = cfg.seq_len
    if batch < 1:
        batch, seq_len = 1, train_chars // world - 1
    if seq_len < 2:
        return cfg  # too little to train on at all: Lanes says so
    notes.append(
        f"the training text ({train_chars:,} characters) is too short for {cfg.batch} sequences of "
        f"{cfg.seq_len}{' per rank' if world > 1 else ''}: training with --batch {batch} --seq-len {seq_len}"
    )
    return replace(cfg, batch=batch, seq_len=seq_len)


# --- training: the loop -----------------------------------------------------------------------------------


def _loop(st: TrainState, emit: Progress, signals: _StopSignals) -> str:
    """Train step after step until the steps or minutes are done, patience runs out or a signal
    comes; return why it stopped."""
    cfg = st.cfg
    budget = cfg.minutes * 60 if cfg.minutes else None
    tick = time.perf_counter()
    while True:
        if st.total_steps is not None and st.step >= st.total_steps:
            return "minutes" if budget is not None else "steps"
        t0 = time.perf_counter()
        lr = lr_at(st.step, st.total_steps, cfg)
        loss_local = _train_step(st, lr)
        now = time.perf_counter()
        st.step += 1
        st.seconds += now - tick
        tick = now
        st.train_chars += cfg.batch * cfg.seq_len * st.ranks.world
        st.session_seconds += now - t0
        st.session_chars += cfg.batch * cfg.seq_len * st.ranks.world
        st.session_steps += 1
        time_up = budget is not None and st.seconds >= budget
        loss, stop_asked, time_up = _agree(st, loss_local, signals.reason is not None, time_up, budget, now)
        _check_loss(st, loss)
        _log(st, loss, lr, budget, emit, signals)
        if stop_asked or signals.reason is not None:
            return signals.reason or "SIGTERM"
        if time_up:
            st.total_steps = st.step
            return "minutes"
        if st.step % st.eval_interval == 0 and st.step != st.total_steps:
            if _validate(st, emit):
                return "patience"
            _save_last(st, "checkpoint")


def _train_step(st: TrainState, lr: float) -> float:
    """One optimizer step on the next chunk of every lane (the LSTM state carried over, detached);
    this rank's loss."""
    for g in st.optimizer.param_groups:
        g["lr"] = lr
    x, y = st.train_data.batch(st.chunk)
    x, y = x.to(st.device, non_blocking=True), y.to(st.device, non_blocking=True)
    with st.autocast:
        _, loss, hidden = st.net(x, y, st.hidden)
    st.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if st.cfg.clip > 0:
        torch.nn.utils.clip_grad_norm_(st.model.parameters(), st.cfg.clip)
    st.optimizer.step()
    st.hidden = (hidden[0].detach(), hidden[1].detach())
    st.chunk += 1
    if st.chunk >= st.train_data.chunks:  # end of the lanes: a new epoch starts from a blank state
        st.chunk, st.epoch = 0, st.epoch + 1
        st.hidden = st.model.init_state(st.cfg.batch, st.device)
    return loss.item()


def _agree(
    st: TrainState, loss: float, stop_asked: bool, time_up: bool, budget: float | None, now: float
) -> tuple[float, bool, bool]:
    """One small all-reduce keeps every rank's decisions the same: the mean loss, whether any rank was
    asked to stop or ran out of time, and (from rank 0) the estimated run length under --minutes."""
    flags = torch.tensor([loss, float(stop_asked), float(time_up), 0.0], dtype=torch.float64)
    if budget is not None and st.ranks.main:
        if st.session_steps == 1:  # the first step is slow (allocations, kernel choice): not timed
            st.timing_from = (now, st.step)
        elif st.timing_from and (
            st.session_steps == ESTIMATE_AFTER
            or (st.session_steps > ESTIMATE_AFTER and st.step % st.cfg.log_interval == 0)
        ):
            rate = (now - st.timing_from[0]) / (st.step - st.timing_from[1])
            flags[3] = st.step + max(1, int((budget - st.seconds) / rate))
    if st.ranks.world > 1:
        flags = flags.to(st.device)
        dist.all_reduce(flags)
        flags = flags.cpu()
        flags[0] /= st.ranks.world
    if flags[3] > 0:
        st.total_steps = int(flags[3])
    return float(flags[0]), bool(flags[1] > 0), bool(flags[2] > 0)


def _check_loss(st: TrainState, loss: float) -> None:
    """char-rnn's guard: a NaN loss, or one over 3x the first, is divergence (TrainingError)."""
    if st.first_loss is None:
        st.first_loss = loss
    if not math.isfinite(loss):
        raise TrainingError(f"training diverged at step {st.step}: the loss is {loss}; try a lower --lr")
    if loss > 3 * st.first_loss:
        raise TrainingError(
            f"training diverged at step {st.step}: loss {loss:.3f} is over 3x "
            f"the first ({st.first_loss:.3f}); try a lower --lr"
        )


def _log(
    st: TrainState, loss: float, lr: float, budget: float | None, emit: Progress, signals: _StopSignals
) -> None:
    """Every log_interval steps: the mean loss into the history and a "step" event (a KeyboardInterrupt
    raised by the callback stops the run as Ctrl-C does)."""
    st.log_acc[0] += loss
    st.log_acc[1] += 1
    if st.step % st.cfg.log_interval:
        return
    mean = st.log_acc[0] / st.log_acc[1]
    st.history["train"].append([st.step, mean, lr])
    st.log_acc = [0.0, 0]
    if budget is not None:
        eta = max(0.0, budget - st.seconds)
    else:
        assert st.total_steps is not None  # only --minutes starts without a length
        eta = (st.total_steps - st.step) * st.session_seconds / st.session_steps
    event = {
        "event": "step", "step": st.step, "total_steps": st.total_steps, "loss": mean, "lr": lr,
        "chars_per_sec": st.session_chars / st.session_seconds, "seconds": st.seconds, "eta": eta,
        "val_bpc": st.val_bpc,
    }  # fmt: skip
    try:
        emit(event)
    except KeyboardInterrupt:
        signals.reason = "interrupt"


# --- training: validation, checkpoints, metrics -----------------------------------------------------------


def _val_loss(st: TrainState) -> float:
    """Mean validation loss (nats/char) over the first eval_chars of val.bin, the lanes shared by ranks."""
    model, v, device, ranks = st.model, st.val, st.device, st.ranks
    model.eval()
    mine = [i for i in range(v.lanes) if i % ranks.world == ranks.rank]
    total = torch.zeros(2, dtype=torch.float64, device=device)
    if mine:
        data = np.memmap(st.cfg.data / "val.bin", dtype=np.uint8, mode="r")
        state = model.init_state(len(mine), device)
        with torch.no_grad(), st.autocast:
            for k in range(v.chunks):
                starts = [i * v.lane_len + k * v.T for i in mine]
                block = torch.from_numpy(np.stack([data[s : s + v.T + 1] for s in starts]).astype(np.int64))
                block = block.to(device)
                _, loss, state = model(block[:, :-1], block[:, 1:], state)
                n_chars = block[:, 1:].numel()
                total[0] += loss.double() * n_chars
                total[1] += n_chars
        del data
    if ranks.world > 1:
        dist.all_reduce(total)
    model.train()
    return (total[0] / total[1]).item()


def _validate(st: TrainState, emit: Progress) -> bool:
    """Validate, keep a new best in best.pt, emit an "eval" event; True when the patience ran out."""
    loss = _val_loss(st)
    bpc = loss / math.log(2)
    st.val_bpc = bpc
    st.val_bits_per_bar = bpc * st.chars_per_bar if st.chars_per_bar else None
    st.history["val"].append([st.step, bpc, st.val_bits_per_bar])
    improved = st.best_val_loss is None or loss < st.best_val_loss
    if improved:
        st.best_val_loss = loss
        st.best_step, st.best_val_bits_per_bar = st.step, st.val_bits_per_bar
        if st.ranks.main:
            save_checkpoint(
                st.best_path, st.model, st.mcfg, vocab=st.vocab, metrics=_metrics(st, "best"),
                tuning=st.tuning, manifest_hash=st.manifest_hash, train_state={"step": st.step},
            )  # fmt: skip
    event = {"event": "eval", "step": st.step, "val_bpc": bpc, "val_bits_per_bar": st.val_bits_per_bar}
    emit({**event, "best": improved})
    return patience_spent(st, improved, st.cfg.patience)


def _save_last(st: TrainState, reason: str) -> None:
    """last.pt: weights, optimizer and the SAVED state, with every rank's LSTM state and RNGs gathered,
    so a resume on the same world size continues bit for bit."""
    hs = [st.hidden[0].detach().cpu(), st.hidden[1].detach().cpu()]
    rngs = [_rng_state(st.device)]
    if st.ranks.world > 1:
        gathered: list[Any] = [None] * st.ranks.world
        dist.all_gather_object(gathered, (hs, rngs[0]))
        hs = [torch.cat([g[0][0] for g in gathered], 1), torch.cat([g[0][1] for g in gathered], 1)]
        rngs = [g[1] for g in gathered]
    if not st.ranks.main:
        return
    state = {name: getattr(st, name) for name in SAVED}
    state.update(hidden=hs, rng=rngs, minutes=st.cfg.minutes, reason=reason, config=_plain_config(st.cfg))
    save_checkpoint(
        st.last_path, st.model, st.mcfg, vocab=st.vocab, optimizer=st.optimizer, train_state=state,
        metrics=_metrics(st, reason), tuning=st.tuning, manifest_hash=st.manifest_hash,
    )  # fmt: skip


def _metrics(st: TrainState, reason: str) -> dict:
    """What metrics.json (and each checkpoint's metrics) holds; docs/train.md lists the keys."""
    cps = st.session_chars / st.session_seconds if st.session_seconds > 0 else 0.0
    cfg, train_chars_total = st.cfg, st.train_data.chars
    return {
        "steps": st.step,
        "train_chars": st.train_chars,
        "val_bpc": st.val_bpc,
        "val_bits_per_bar": st.val_bits_per_bar,
        "best_val_bpc": st.best_val_loss / math.log(2) if st.best_val_loss is not None else None,
        "best_step": st.best_step,
        "best_val_bits_per_bar": st.best_val_bits_per_bar,
        "passes": round(st.train_chars / train_chars_total, 2) if train_chars_total else None,
        "eval_interval": st.eval_interval,
        "patience": cfg.patience,
        "init_from": str(cfg.init_from) if cfg.init_from is not None else None,
        "chars_per_sec": round(cps, 1),
        "seconds": round(st.seconds, 2),
        "gflops": round(cps * flops_per_char(st.mcfg) / 1e9, 2),
        "stop_reason": reason,
        "interrupted": reason in ("SIGINT", "SIGTERM", "interrupt"),
        "epoch": st.epoch,
        "model": st.mcfg.to_dict(),
        "params": st.model.num_params(),
        "format": st.vocab["format"],
        "device": str(st.device),
        "world_size": st.ranks.world,
        "batch": cfg.batch,
        "seq_len": cfg.seq_len,
        "threads": torch.get_num_threads() if st.device.type == "cpu" else None,
        "manifest_hash": st.manifest_hash,
        "run_dir": str(cfg.out_dir),
        "checkpoint": str(st.last_path),
        "best_checkpoint": str(st.best_path)
        if st.best_path.exists() or st.best_val_loss is not None
        else None,
        "notes": st.notes,
        "history": st.history,
    }


def _emit_start(st: TrainState, emit: Progress) -> None:
    emit(
        {
            "event": "start",
            "step": st.step,
            "total_steps": st.total_steps,
            "minutes": st.cfg.minutes,
            "params": st.model.num_params(),
            "model": st.mcfg.to_dict(),
            "device": str(st.device),
            "world_size": st.ranks.world,
            "resumed": st.resumed,
            "notes": list(st.notes),
        }
    )


def _finish(st: TrainState, reason: str, emit: Progress) -> dict:
    """metrics.json and loss.png (rank 0), the "done" event; the metrics."""
    result = _metrics(st, reason)
    result["weights_sha256"] = weights_fingerprint(st.model)
    if st.ranks.main:
        atomic_write(st.cfg.out_dir / "metrics.json", json.dumps(result, indent=1) + "\n")
        try:
            plot_curves(st.history, st.cfg.out_dir / "loss.png")
        except ImportError:
            st.notes.append("matplotlib is not installed: no loss.png")
    emit({"event": "done", **{k: v for k, v in result.items() if k != "history"}})
    return result


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of the weights' bytes: equal on every DDP rank when the ranks are in sync."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _plain_config(cfg: TrainConfig) -> dict:
    out = {}
    for k, v in asdict(cfg).items():
        out[k] = str(v) if isinstance(v, Path) else v
    return out
