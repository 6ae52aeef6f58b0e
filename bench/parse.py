"""How fast the tab reader is, and whether its memory stays flat as the corpus grows.

Builds a corpus of at least --mb megabytes in a temporary folder by copying the real-world tabs
(../shared/realworld-tabs) over and over, one file at a time, then times `read_file` on every file
in one process on one core, and prints MB/s with the peak RSS after 10 MB and at the end.

    python bench/parse.py            # 50 MB
    python bench/parse.py --mb 100
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from tabgen.errors import TabgenError  # noqa: E402
from tabgen.tab.parse import read_file  # noqa: E402

SOURCE = REPO.parent / "shared" / "realworld-tabs"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def build(folder: Path, source: Path, megabytes: float) -> list[Path]:
    """Copies of the source files, streamed to disk one by one, until `megabytes` are written."""
    originals = sorted(p for p in source.iterdir() if p.is_file() and p.name != "SOURCES.md")
    paths, written, copy = [], 0, 0
    while written < megabytes * 1e6:
        for original in originals:
            path = folder / f"{copy:04d}-{original.name}"
            with original.open("rb") as src, path.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            paths.append(path)
            written += path.stat().st_size
        copy += 1
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size in megabytes")
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of tab files to repeat")
    args = parser.parse_args()
    if not args.source.is_dir():
        raise SystemExit(f"no such folder: {args.source}")
    with tempfile.TemporaryDirectory(prefix="tabgen-bench-") as tmp:
        paths = build(Path(tmp), args.source, args.mb)
        total = sum(p.stat().st_size for p in paths)
        print(f"corpus: {len(paths)} files, {total / 1e6:.1f} MB in {tmp}")
        rss_at_10 = None
        done = staves = notes = failed = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for path in paths:
            try:
                result = read_file(path)
            except TabgenError:
                failed += 1  # the broken UTF-16 file: rejected, as it should be
            else:
                staves += len(result.tabs)
                notes += sum(len(t.notes) for t in result.tabs)
            done += path.stat().st_size
            if rss_at_10 is None and done >= 10e6:
                rss_at_10 = (current_rss_mb(), peak_rss_mb())
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"read: {staves} staves, {notes} notes, {failed} files rejected")
    print(f"speed: {total / 1e6 / cpu:.1f} MB/s of CPU time ({total / 1e6 / wall:.1f} MB/s wall clock)")
    if rss_at_10:
        print(f"memory: RSS {rss_at_10[0]:.0f} MB (peak {rss_at_10[1]:.0f} MB) after 10 MB")
    print(f"memory: RSS {current_rss_mb():.0f} MB (peak {peak_rss_mb():.0f} MB) after {total / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
