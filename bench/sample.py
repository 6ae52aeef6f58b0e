"""Sampling speed and compose start-up, measured on this machine.

    python bench/sample.py [--model CKPT_OR_RUN_DIR] [--bars 64] [--batch 8] [--repeats 3]

1. chars/s of masked sampling at batch 1 and at batch K (the characters the model wrote, header not
   counted), median of --repeats runs;
2. the wall time of ``tabgen compose --bars 16 --midi out.mid`` in a fresh process, beside a bare
   ``python -c "import torch"`` measured in the same run (interleaved, median of --repeats), and
   their ratio.

Without --model it uses the bundled model, or, when there is none yet, an untrained model of the
"base" size (256 x 2; speed does not depend on the weights) saved to a temporary checkpoint.
Goals (issue 6): >= 5,000 chars/s at batch 1; compose <= 2.5 x the bare torch import.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tabgen.checkpoint import bundled_model_path, find_checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from tabgen.formats import DEFAULT_FORMAT, get_format  # noqa: E402
from tabgen.model import CharLSTM, ModelConfig  # noqa: E402
from tabgen.sample import resolve_tuning_and_meter, sample  # noqa: E402


def model_path(arg: str | None, tmp: Path) -> Path:
    if arg:
        return find_checkpoint(Path(arg))
    if bundled_model_path().is_file():
        return bundled_model_path()
    torch.manual_seed(0)
    fmt = get_format(DEFAULT_FORMAT)
    config = ModelConfig.for_size("base", len(fmt.alphabet))
    path = tmp / "untrained-base.pt"
    vocab = {"format": fmt.name, "format_version": fmt.version, "alphabet": fmt.alphabet}
    save_checkpoint(path, CharLSTM(config).eval(), config, vocab=vocab, tuning=[64, 59, 55, 50, 45, 40])
    print(f"(no bundled model: an untrained 'base' model, {path})")
    return path


def chars_per_sec(ckpt, bars: int, batch: int, repeats: int) -> tuple[float, float, int]:
    """Median chars/s over wall time and over this process's CPU time (sampling runs on one
    thread, so the CPU-time figure is what a quiet machine would give when the CPU is shared)."""
    header = len(get_format(ckpt.format).header(ckpt_tuning(ckpt), (4, 4)))
    rates, cpu_rates, chars = [], [], 0
    sample(ckpt, bars=1, candidates=batch, seed=0)  # warm-up: the stepper is built once per model
    for seed in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        texts = sample(ckpt, bars=bars, candidates=batch, seed=seed)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        chars = sum(len(x) - header for x in texts)
        rates.append(chars / dt)
        cpu_rates.append(chars / dc)
    return statistics.median(rates), statistics.median(cpu_rates), chars


def ckpt_tuning(ckpt):
    return resolve_tuning_and_meter(ckpt, None, None, None)[0]


def wall(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    # chars/s is a throughput: pieces of 64 bars, so the fixed cost of a call (priming, the grammar's
    # set-up) does not dominate as it does over the ~360 characters of 16 bars
    ap.add_argument("--bars", type=int, default=64, help="bars per sampled piece for the chars/s figures")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = model_path(args.model, tmp)
        ckpt = load_checkpoint(path)
        c = ckpt.config
        print(f"model {path} ({c.hidden} x {c.layers}, format {ckpt.format}); torch {torch.__version__}")
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        for batch in (1, args.batch):
            rate, cpu_rate, chars = chars_per_sec(ckpt, args.bars, batch, args.repeats)
            goal = "  (goal >= 5,000)" if batch == 1 else ""
            print(
                f"masked sampling, batch {batch:2d}: {rate:8,.0f} chars/s wall, {cpu_rate:8,.0f} per CPU s "
                f"({chars} chars a run){goal}"
            )

        out = tmp / "out.mid"
        compose = [sys.executable, "-m", "tabgen", "compose", "--model", str(path), "--bars", "16"]
        compose += ["--midi", str(out)]
        bare = [sys.executable, "-c", "import torch"]
        wall(bare, ROOT)  # warm the file cache for both
        wall(compose, ROOT)
        runs_bare, runs_compose = [], []
        for _ in range(args.repeats):
            runs_bare.append(wall(bare, ROOT))
            runs_compose.append(wall(compose, ROOT))
        b, k = (statistics.median(r[0] for r in runs) for runs in (runs_bare, runs_compose))
        bc, kc = (statistics.median(r[1] for r in runs) for runs in (runs_bare, runs_compose))
        n = args.repeats
        print(f'python -c "import torch":               {b:6.2f} s wall, {bc:6.2f} s CPU (median of {n})')
        print(f"tabgen compose --bars 16 --midi out.mid: {k:6.2f} s wall, {kc:6.2f} s CPU (median of {n})")
        print(f"ratio: {k / b:.2f} x wall, {kc / bc:.2f} x CPU  (goal <= 2.5)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
