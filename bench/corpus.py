"""Peak memory and speed of `tabgen.corpus.prepare` as the corpus grows.

    python bench/corpus.py [MB ...]          (default: 2 10)

For each size, writes a synthetic corpus of that many MB of stave text (32-bar 4/4 tunes of random
notes, one per file, by tabgen.tab.write.to_text) into a temp folder, then prepares it in a fresh
process (one worker) and reports the peak RSS, wall time and MB/s. Flat memory means the peak RSS
does not grow with the corpus.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
from tabgen.tab.write import to_text

CHILD = """
import resource, sys, tempfile
from pathlib import Path
from tabgen.corpus import prepare
m = prepare([Path(sys.argv[1])], cache_dir=Path(sys.argv[2]), workers=1).manifest
print(m["bars"]["total"], m["chars"]["total"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_corpus(folder: Path, megabytes: float) -> int:
    rng = random.Random(0)
    total = i = 0
    while total < megabytes * 1e6:
        bars = []
        for _ in range(32):
            spots = sorted(rng.sample(range(16), 6))
            bars.append(
                Bar(16, tuple(Column(p, (Note(rng.randint(1, 6), rng.randint(0, 12)),)) for p in spots))
            )
        text = to_text(Tab(Tuning.named("standard"), tuple(bars), (4, 4), title=f"Tune {i}"))
        (folder / f"t{i:05}.txt").write_text(text)
        total += len(text)
        i += 1
    return total


def main(sizes: list[float]) -> None:
    root = Path(__file__).resolve().parents[1]
    for mb in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "tabs"
            data.mkdir()
            size = write_corpus(data, mb)
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(data), str(Path(tmp) / "cache")],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            wall = time.perf_counter() - start
            bars, chars, rss_kb = (int(x) for x in out)
            print(
                f"{size / 1e6:6.1f} MB: {bars:,} bars, {chars:,} chars, peak RSS {rss_kb / 1024:.1f} MB, "
                f"{wall:.1f} s, {size / 1e6 / wall:.2f} MB/s"
            )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [2.0, 10.0])
