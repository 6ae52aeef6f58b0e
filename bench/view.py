"""Time `tabgen view` from start to serving, once alphaTab is cached, and to a clean stop on Ctrl-C.

    python bench/view.py [--runs N] [TAB]

Goal (issue 14): serving in under 3 s once alphaTab is in the cache. Each run starts `tabgen view
TAB --no-browser` (default: outputs/piece-1.txt), waits for its "serving ... at URL" line, fetches
the page and the score alphaTab loads, then sends SIGINT and waits for the exit. Prints the median
and the slowest run of each figure (wall-clock seconds), and the exit codes seen.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(tab: Path) -> tuple[float, float, float, int]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tabgen", "view", str(tab), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    line = proc.stdout.readline()
    serving = time.perf_counter() - t0
    url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
    page = urllib.request.urlopen(url).read().decode()
    score = re.search(r'"score": \{"url": "([^"]+)"', page).group(1)
    urllib.request.urlopen(url + score).read()
    loaded = time.perf_counter() - t0
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    return serving, loaded, time.perf_counter() - t1, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tab", nargs="?", type=Path, default=REPO / "outputs" / "piece-1.txt")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    one_run(args.tab)  # untimed: compiles bytecode, warms the file cache
    runs = [one_run(args.tab) for _ in range(args.runs)]
    for k, what in enumerate(("serving", "page and score fetched", "stopped after SIGINT")):
        values = [r[k] for r in runs]
        print(f"{what}: median {statistics.median(values):.2f} s, slowest {max(values):.2f} s")
    print(f"exit codes: {sorted({r[3] for r in runs})}")


if __name__ == "__main__":
    main()
