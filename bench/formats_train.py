"""Which text format should the model read and write? Train one model per format for the same
wall-clock time on the same data, then compare validation bits per bar (bits per character differ
between formats, bars do not) and the share of raw samples (mask off) that decode to valid bars.

    python bench/formats_train.py corpora --minutes 10 --out runs/formats

With two or more cores the runs go side by side, each pinned to its own core, so both see the same
machine for the same time; with one core they run one after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

FORMATS = ("time", "line")


def tabgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "tabgen", *args]


def pin(core: int | None):
    if core is None:
        return None
    return lambda: os.sched_setaffinity(0, {core})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--size", default="base")
    ap.add_argument("--out", default="runs/formats")
    ap.add_argument("--samples", type=int, default=32, help="pieces sampled per model for eval")
    ap.add_argument("--skip-train", action="store_true", help="only evaluate existing runs in --out")
    args = ap.parse_args()
    out = Path(args.out)
    cores = sorted(os.sched_getaffinity(0))
    side_by_side = len(cores) >= len(FORMATS)

    if not args.skip_train:
        # Prepare each format's data first, so the timed runs spend their minutes training.
        procs = []
        for i, fmt in enumerate(FORMATS):
            cmd = tabgen(
                "train", *args.data, "--format", fmt, "--minutes", str(args.minutes),
                "--size", args.size, "--out", str(out / fmt),
            )  # fmt: skip
            out.mkdir(parents=True, exist_ok=True)
            log = open(out / f"{fmt}.log", "w")
            pre = pin(cores[i]) if side_by_side else None
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pre)
            procs.append((fmt, p))
            if not side_by_side:
                p.wait()
        for fmt, p in procs:
            if p.wait() != 0:
                sys.exit(f"training {fmt} failed: see {out / (fmt + '.log')}")

    rows = []
    for fmt in FORMATS:
        metrics = json.loads((out / fmt / "metrics.json").read_text())
        ev = subprocess.run(
            tabgen("eval", "--model", str(out / fmt), "--samples", str(args.samples), "--json"),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        report = json.loads(ev.stdout.strip().splitlines()[-1])
        rows.append((fmt, metrics, report))
        (out / fmt / "eval.json").write_text(json.dumps(report, indent=1))

    how = "side by side, one core each" if side_by_side else "one after the other"
    print(f"{args.minutes:g} minutes per format, size {args.size}, {how}")
    head = (
        "| format | steps | chars/s | val bpc | val bits/bar | raw validity | masked validity "
        "| playability | empty bars | 4-bar copy rate |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for fmt, m, r in rows:
        copy = "n/a" if r["copy_rate"] is None else f"{r['copy_rate']:.1%}"
        print(
            f"| {fmt} | {m['steps']} | {m['chars_per_sec']:,.0f} | {m['val_bpc']:.3f} "
            f"| {m['val_bits_per_bar']:.1f} | {r['raw_validity']:.1%} | {r['masked_validity']:.1%} "
            f"| {r['playability']:.1%} | {r['empty_bar_rate']:.1%} | {copy} |"
        )


if __name__ == "__main__":
    main()
