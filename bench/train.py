"""Training speed and memory on this machine.

    python bench/train.py            # everything (a few minutes on 2 cores)
    python bench/train.py --quick    # fewer steps, for a smoke run

Measures, in one process (so the numbers share the machine's state):
- the fp32 matmul peak (a 2048 x 2048 torch.mm) at the thread count the trainer uses;
- chars/s of tabgen's own trainer (tabgen.train.train on a synthetic prepared corpus) for each size, and
  the achieved GFLOPS as a share of that peak (FLOPs per char from tabgen.model.flops_per_char);
- a plain nn.LSTM loop (2 x 256, batch 32, seq 128) as the baseline, and ours at the same shape and at other
  batch / seq_len / thread settings;
- sampling speed at batch 1 (sample.LSTMStepper vs nn.LSTM one char at a time);
- peak RSS of training `base` for a few steps on a 10 MB and a 200 MB memmap corpus (one subprocess each).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tabgen.device import cpu_threads, free_cpu_threads  # noqa: E402
from tabgen.model import CharLSTM, ModelConfig, flops_per_char  # noqa: E402
from tabgen.sample import stepper_for  # noqa: E402
from tabgen.train import TrainConfig, train  # noqa: E402

VOCAB = 64  # about the size of a tab alphabet; speed hardly depends on it


def make_corpus(folder: Path, megabytes: float, seed: int = 0) -> Path:
    """A prepared-corpus folder of random ids (speed and memory do not depend on the text)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = int(megabytes * 1e6)
    with open(folder / "train.bin", "wb") as f:
        for start in range(0, n, 1 << 22):  # 4 MB at a time: the writer's memory stays small too
            rng.integers(0, VOCAB, min(1 << 22, n - start), dtype=np.uint8).tofile(f)
    rng.integers(0, VOCAB, 100_000, dtype=np.uint8).tofile(folder / "val.bin")
    alphabet = "".join(chr(48 + i) for i in range(VOCAB))
    (folder / "vocab.json").write_text(
        json.dumps({"format": "bench", "format_version": 1, "alphabet": alphabet})
    )
    (folder / "manifest.json").write_text(json.dumps({"hash": f"bench-{megabytes}", "bars": {"val": 1000}}))
    return folder


def matmul_gflops(n: int = 2048, seconds: float = 2.0) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def ours_chars_per_sec(data: Path, work: Path, model: ModelConfig, batch: int, seq: int, threads: int,
                       steps: int, warm: int = 3) -> float:  # fmt: skip
    """The real trainer (AdamW, clipping, TBPTT, memmap lanes), timed from step `warm` to the end."""
    marks: dict[int, float] = {}

    def on_progress(e: dict) -> None:
        if e["event"] == "step":
            marks[e["step"]] = e["seconds"]

    out = Path(tempfile.mkdtemp(dir=work))
    cfg = TrainConfig(data=data, out_dir=out, steps=warm + steps, model=model, batch=batch, seq_len=seq,
                      threads=threads, eval_interval=10**9, eval_chars=1000, log_interval=1)  # fmt: skip
    m = train(cfg, on_progress=on_progress)
    last = max(marks)
    if last <= warm:
        raise RuntimeError(f"the bench run stopped at step {last} ({m['stop_reason']})")
    return (last - warm) * batch * seq / (marks[last] - marks[warm])


def baseline_chars_per_sec(threads: int, steps: int, batch: int = 32, seq: int = 128, hidden: int = 256,
                           layers: int = 2, warm: int = 3) -> float:  # fmt: skip
    """A plain nn.LSTM char model loop: embedding, LSTM, linear, AdamW, clipping, carried state."""
    torch.set_num_threads(threads)
    emb, lstm, head = (
        nn.Embedding(VOCAB, 64),
        nn.LSTM(64, hidden, layers, batch_first=True),
        nn.Linear(hidden, VOCAB),
    )
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-3)
    data = torch.randint(0, VOCAB, (batch, (warm + steps) * seq + 1))
    state = None
    for i in range(warm + steps):
        if i == warm:
            t0 = time.perf_counter()
        x, y = data[:, i * seq : (i + 1) * seq], data[:, i * seq + 1 : (i + 1) * seq + 1]
        out, state = lstm(emb(x), state)
        loss = nn.functional.cross_entropy(head(out).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        state = tuple(s.detach() for s in state)
    return steps * batch * seq / (time.perf_counter() - t0)


def sampling_chars_per_sec(size: str, threads: int, n: int = 2000) -> tuple[float, float]:
    """Batch-1 generation speed: sample.LSTMStepper vs nn.LSTM called one character at a time."""
    torch.set_num_threads(threads)
    model = CharLSTM(ModelConfig.for_size(size, VOCAB)).eval()
    stepper = stepper_for(model)
    x = np.zeros(1, dtype=np.int64)
    with threadpool_limits(threads, user_api="blas"):  # NumPy's BLAS, as sample.generate sets it
        stepper.start([0], 1)
        for _ in range(200):
            stepper.step(x)
        t0 = time.perf_counter()
        for _ in range(n):
            stepper.step(x)
        ours = n / (time.perf_counter() - t0)
    with torch.inference_mode():
        state = model.init_state(1)
        xs = torch.zeros(1, 1, dtype=torch.long)
        for _ in range(100):
            _, _, state = model(xs, state=state)
        t0 = time.perf_counter()
        for _ in range(n // 2):
            _, _, state = model(xs, state=state)
        plain = (n // 2) / (time.perf_counter() - t0)
    return ours, plain


def rss_child(data: str, steps: int) -> None:
    """Run in a subprocess: train `base` for a few steps and print the peak RSS in MB."""
    work = Path(tempfile.mkdtemp())
    train(TrainConfig(data=Path(data), out_dir=work / "run", steps=steps, size="base", eval_interval=10**9,
                      eval_chars=1000))  # fmt: skip
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, help="threads for every run (default: as the trainer picks them)")
    ap.add_argument("--steps", type=int, default=15, help="timed steps per run")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    ap.add_argument("--rss-steps", type=int, default=20, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.rss_steps)
        return

    steps = 4 if args.quick else args.steps
    threads = args.threads or free_cpu_threads()
    print(f"torch {torch.__version__}, {cpu_threads()} cores, {threads} threads used, "
          f"load average before {os.getloadavg()[0]:.2f}")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="tabgen-bench-"))
    data = make_corpus(work / "data10", 10)

    torch.set_num_threads(threads)
    peak = matmul_gflops()
    print(f"fp32 matmul peak (2048^3 torch.mm, {threads} threads): {peak:.0f} GFLOPS\n")

    print("| what | hidden x layers | batch | seq | threads | chars/s | GFLOPS | % of peak |")
    print("|---|---|---|---|---|---|---|---|")
    base_shape = ModelConfig(VOCAB, embed=64, hidden=256, layers=2, dropout=0.0)

    def row(what: str, cfg: ModelConfig, batch: int, seq: int, th: int, cps: float) -> None:
        gf = cps * flops_per_char(cfg) / 1e9
        print(f"| {what} | {cfg.hidden} x {cfg.layers} | {batch} | {seq} | {th} | {cps:,.0f} | {gf:.1f} | "
              f"{100 * gf / peak:.0f}% |", flush=True)  # fmt: skip

    baseline = baseline_chars_per_sec(threads, steps)
    row("plain nn.LSTM loop", base_shape, 32, 128, threads, baseline)
    same = ours_chars_per_sec(data, work, base_shape, 32, 128, threads, steps)
    row("tabgen trainer", base_shape, 32, 128, threads, same)
    best = ("batch 32, seq 128", same)
    variants = [
        (64, 128, threads),
        (128, 128, threads),
        (32, 64, threads),
        (32, 256, threads),
        (64, 256, threads),
    ]
    other = 1 if threads > 1 else cpu_threads()
    if (
        other != threads and free_cpu_threads() == cpu_threads()
    ):  # more threads than idle cores: minutes a step
        variants.append((32, 128, other))
    for batch, seq, th in variants:
        cps = ours_chars_per_sec(
            data, work, base_shape, batch, seq, th, max(3, steps * 32 * 128 // (batch * seq))
        )
        row("tabgen trainer", base_shape, batch, seq, th, cps)
        if th == threads and cps > best[1]:
            best = (f"batch {batch}, seq {seq}", cps)
    print(f"\nours / baseline at the baseline's shape: {same / baseline:.2f}x; best setting {best[0]}: "
          f"{best[1] / baseline:.2f}x\n")  # fmt: skip

    print("| size | params | chars/s (batch 32, seq 128) | GFLOPS | % of peak | "
          "sampling chars/s at batch 1: LSTMStepper / nn.LSTM |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for size in ("small", "base", "large"):
        cfg = ModelConfig.for_size(size, VOCAB)
        n = max(3, steps // 3) if size == "large" else steps
        cps = ours_chars_per_sec(data, work, cfg, 32, 128, threads, n)
        gf = cps * flops_per_char(cfg) / 1e9
        s_ours, s_plain = sampling_chars_per_sec(size, 1)
        print(f"| {size} | {CharLSTM(cfg).num_params():,} | {cps:,.0f} | {gf:.1f} | {100 * gf / peak:.0f}% | "
              f"{s_ours:,.0f} / {s_plain:,.0f} |", flush=True)  # fmt: skip
    torch.set_num_threads(threads)

    print("\npeak RSS training base (batch 32, seq 128), one subprocess per corpus:")
    big = make_corpus(work / "data200", 200)
    for name, folder in (("10 MB", data), ("200 MB", big)):
        done = subprocess.run([sys.executable, __file__, "--rss-child", str(folder), "--rss-steps", "20"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        print(f"  {name} corpus: {json.loads(done.stdout.strip().splitlines()[-1])['peak_rss_mb']:.0f} MB")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
