"""From scratch against fine-tuning the bundled model, on a small folder of tabs (docs/train.md).

    python bench/finetune.py TABS_FOLDER [--minutes 3] [--out runs/finetune-bench] [--seed 1337]
    python bench/finetune.py TABS_FOLDER --table-only   # re-print the table of the last run

Runs, one after the other (never at once, so they share the machine alike), with `--threads 1` and
`--seed` (1337 unless given):
1. `tabgen train TABS --from none --minutes M` (a base model from scratch);
2. `tabgen train TABS --from bundled --minutes M` (fine-tuning the bundled model);
then `tabgen eval --corpus TABS --json` (32 pieces of 16 bars, seed 0) on both runs and on the bundled
model itself, and prints one markdown table (each run's peak lr, batch and replay share beside its name):
steps, passes, where validation was best, validation bits per bar, raw validity, empty bars, and the
pitch-class distance, chord share and notes per bar of the composed pieces beside the folder's own
(notes per bar of the folder: its 4/4 training pieces).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TABGEN = [sys.executable, "-m", "tabgen"]


def run(args: list[str], log: Path) -> str:
    start = time.monotonic()
    done = subprocess.run(TABGEN + args, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = done.stdout[-2000:] + done.stderr[-2000:]
        sys.exit(f"failed ({done.returncode}): tabgen {' '.join(args)}\n{tail}")
    print(f"  {time.monotonic() - start:.0f} s: tabgen {' '.join(args)}", flush=True)
    return done.stdout


def folder_figures(tabs: Path, fmt: str, version: int) -> dict:
    """Notes per bar and chord share of the folder's own training pieces: all of them, and those of
    each meter (eval compares the samples with the corpus pieces of the meter asked for)."""
    from tabgen.corpus import prepare
    from tabgen.form import form_figures
    from tabgen.formats import get_format
    from tabgen.novelty import TrainingText

    prepared = prepare([tabs], fmt, version=version)
    training = TrainingText.from_prepared(prepared.dir, get_format(fmt, version).alphabet)
    pieces = training.tabs()
    out = {}
    meters = sorted(
        {t.meter for t in pieces if t.meter}, key=lambda m: -sum(len(t.bars) for t in pieces if t.meter == m)
    )
    groups = [("all", pieces)] + [(f"{m[0]}/{m[1]}", [t for t in pieces if t.meter == m]) for m in meters]
    for name, chosen in groups:
        bars = [len(b.notes) for t in chosen for b in t.bars]
        out[name] = {
            "pieces": len(chosen),
            "bars": len(bars),
            "notes_per_bar": sum(bars) / len(bars) if bars else None,
            "chord_share": form_figures(chosen).as_dict()["chord_share"],
        }
    return out


def settings(run_dir: Path) -> str:
    """The run's peak lr, batch and replay share (from its last.pt and prepared corpus), for the table."""
    from tabgen.checkpoint import load_checkpoint

    config = load_checkpoint(run_dir / "last.pt").train_state["config"]
    manifest = json.loads((Path(config["data"]) / "manifest.json").read_text())
    share = (manifest.get("replay") or {}).get("share", 0)
    return f"lr {config['lr']:g}, batch {config['batch']}" + (f", replay {share:g}" if share else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tabs", type=Path)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--out", type=Path, default=Path("runs/finetune-bench"))
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--meter", help="of the composed pieces (default: the folder's most common)")
    ap.add_argument("--seed", type=int, default=1337, help="of both training runs (the figures move with it)")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--eval-only", action="store_true", help="evaluate the runs already in --out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    runs = {"from scratch": a.out / "scratch", "fine-tuned from the bundled model": a.out / "bundled"}
    from tabgen.checkpoint import bundled_model_path, load_checkpoint

    bundled = bundled_model_path()
    src = load_checkpoint(bundled)
    folder = folder_figures(a.tabs, src.format, src.format_version)
    (a.out / "folder.json").write_text(json.dumps(folder, indent=1))
    meter = a.meter or next(k for k in folder if k != "all")
    if not a.table_only:
        print(f"load average at the start: {os.getloadavg()}", flush=True)
        for run_dir, source in zip(runs.values(), ("none", "bundled"), strict=True):
            if a.eval_only:
                break
            args = [
                "train",
                str(a.tabs),
                "--out",
                str(run_dir),
                "--from",
                source,
                "--minutes",
                str(a.minutes),
            ]
            run(args + ["--threads", "1", "--seed", str(a.seed)], a.out / f"{run_dir.name}-train.log")
        for model in [*runs.values(), bundled]:
            stdout = run(
                ["eval", "--model", str(model), "--corpus", str(a.tabs), "--samples", str(a.samples)]
                + ["--meter", meter, "--json"],
                a.out / f"{Path(model).stem if model == bundled else Path(model).name}-eval.log",
            )
            report = json.loads(stdout.strip().splitlines()[-1])
            (a.out / f"{'bundled-model' if model == bundled else Path(model).name}-eval.json").write_text(
                json.dumps(report, indent=1)
            )
        print(f"load average at the end: {os.getloadavg()}", flush=True)
    for name, f in folder.items():
        print(
            f"the folder's training pieces, {name}: {f['pieces']} pieces, {f['bars']} bars, "
            f"{f['notes_per_bar']:.2f} notes per bar, chord share {100 * f['chord_share']:.1f}%"
        )
    own = folder[meter]
    print(f"\ncomposed pieces: {meter}, beside the folder's {meter} pieces\n")
    rows = [
        "| model | steps | passes | val best at step | val bits/bar (best) | raw validity | empty bars "
        "| pitch-class dist. | chord share (folder {:.1f}%) | notes per bar (folder {:.2f}) |".format(
            100 * own["chord_share"], own["notes_per_bar"]
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, model in [*runs.items(), ("the bundled model, as shipped", bundled)]:
        key = "bundled-model" if model == bundled else Path(model).name
        r = json.loads((a.out / f"{key}-eval.json").read_text())
        if model == bundled:
            steps = passes = best = bpb = "-"
        else:
            m = json.loads((Path(model) / "metrics.json").read_text())
            steps, passes, best = f"{m['steps']:,}", f"{m['passes']:.1f}", f"{m['best_step']:,}"
            bpb = f"{m['best_val_bits_per_bar']:.1f}"
            if m["stop_reason"] == "patience":
                steps += " (stopped early)"
        if model != bundled:
            name += f" ({settings(Path(model))})"
        rows.append(
            f"| {name} | {steps} | {passes} | {best} | {bpb} | {100 * r['raw_validity']:.1f}% "
            f"| {100 * r['empty_bar_rate']:.1f}% | {r['pitch_class_distance']:.3f} "
            f"| {100 * r['form']['chord_share']:.1f}% | {r['notes_per_bar']:.2f} |"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
