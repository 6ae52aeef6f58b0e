"""How fast the tab reader is, and whether its memory stays flat as the corpus grows.

Builds a corpus of at least --mb megabytes in a temporary folder by copying the real-world tabs
(../shared/realworld-tabs) over and over, one file at a time, then times `read_file` on every file
in one process on one core, and prints MB/s with the peak RSS after 10 MB and at the end.

    python bench/parse.py            # 50 MB
    python bench/parse.py --mb 100
    python bench/parse.py --baseline   # also the pure-Python reader, file by file, in this process
    python bench/parse.py --against main --rounds 3   # this checkout vs the reader at a git revision

With --against, each round reads the whole corpus once with the revision's reader and once with
this checkout's, each in a fresh process, alternating, so that both see the same machine load; the
best round of each counts. It also times a plain Python loop, to say how fast the machine was.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "realworld-tabs"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def loop_seconds() -> float:
    """CPU seconds of a plain 10-million-step Python loop: how fast this machine is right now."""
    t = time.process_time()
    s = 0
    for i in range(10_000_000):
        s += i
    return time.process_time() - t


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


def read_all(paths: list[Path], code: Path, baseline: bool = False) -> dict:
    """Read every file with the reader found in `code` (a checkout root); counts, CPU time, memory.

    With `baseline`, every file is also read by the same reader without its C part (the pure-Python
    reader), right before or after (alternating), in this process: "cpu_python" is that time."""
    sys.path.insert(0, str(code))
    from tabgen.errors import TabgenError
    from tabgen.tab import parse

    try:
        from tabgen.sources import read_file  # (a revision before tabgen.sources: tabgen.tab.parse's)
    except ImportError:
        read_file = parse.read_file
    compiled = getattr(parse, "_scan", None)
    rss_at_10 = None
    done = staves = notes = failed = 0
    cpu = cpu_python = wall = 0.0

    def timed(scan: object, path: Path) -> tuple[float, float, object]:
        parse._scan = scan
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            result = read_file(path)
        except TabgenError:
            result = None  # the broken UTF-16 file: rejected, as it should be
        return time.process_time() - cpu0, time.perf_counter() - wall0, result

    for k, path in enumerate(paths):
        if baseline and k % 2:
            cpu_python += timed(None, path)[0]
        c, w, result = timed(compiled, path)
        cpu, wall = cpu + c, wall + w
        if baseline and not k % 2:
            cpu_python += timed(None, path)[0]
        if result is None:
            failed += 1
        else:
            staves += len(result.tabs)
            notes += sum(len(t.notes) for t in result.tabs)
        done += path.stat().st_size
        if rss_at_10 is None and done >= 10e6:
            rss_at_10 = (current_rss_mb(), peak_rss_mb())
    parse._scan = compiled
    return {
        "cpu": cpu,
        "cpu_python": cpu_python,
        "wall": wall,
        "compiled": compiled is not None,
        "staves": staves,
        "notes": notes,
        "failed": failed,
        "rss_at_10": rss_at_10,
        "rss": (current_rss_mb(), peak_rss_mb()),
    }


def export(revision: str, folder: Path) -> Path:
    """The `tabgen` package as it was at a git revision, unpacked under `folder`."""
    data = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, "tabgen"],
        check=True,
        capture_output=True,
    ).stdout
    archive = folder / "old.tar"
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "old", filter="data")
    return folder / "old"


def child(code: Path, corpus: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(code), "--corpus", str(corpus)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size in megabytes")
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of tab files to repeat")
    parser.add_argument("--against", metavar="REV", help="also time the reader at this git revision")
    parser.add_argument("--rounds", type=int, default=3, help="rounds with --against")
    parser.add_argument(
        "--baseline", action="store_true", help="also read each file without the C part, in this process"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one timed read of an existing corpus folder, as JSON
        print(json.dumps(read_all(sorted(args.corpus.iterdir()), args.child)))
        return
    if not args.source.is_dir():
        raise SystemExit(f"no such folder: {args.source}")
    with tempfile.TemporaryDirectory(prefix="tabgen-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        paths = build(corpus, args.source, args.mb)
        total = sum(p.stat().st_size for p in paths) / 1e6
        print(f"corpus: {len(paths)} files, {total:.1f} MB in {corpus}")
        print(f"machine: a plain 10-million-step Python loop takes {loop_seconds():.2f} s of CPU time")
        if args.against:
            trees = {args.against: export(args.against, Path(tmp)), "this checkout": REPO}
            best: dict[str, dict] = {}
            for _ in range(args.rounds):
                for name, code in trees.items():
                    r = child(code, corpus)
                    if name not in best or r["cpu"] < best[name]["cpu"]:
                        best[name] = r
            for name, r in best.items():
                print(
                    f"{name}: {total / r['cpu']:.1f} MB/s of CPU time, {r['staves']} staves, "
                    f"{r['notes']} notes, peak RSS {r['rss'][1]:.0f} MB"
                )
            old, new = (best[name]["cpu"] for name in trees)
            print(f"speed-up: {old / new:.2f}x (best of {args.rounds} rounds each)")
            return
        r = read_all(paths, REPO, baseline=args.baseline)
    print(f"read: {r['staves']} staves, {r['notes']} notes, {r['failed']} files rejected")
    built = r["compiled"]
    print("reader: " + ("with its C part (tabgen/tab/_scan.c)" if built else "pure Python (no C part built)"))
    print(f"speed: {total / r['cpu']:.1f} MB/s of CPU time ({total / r['wall']:.1f} MB/s wall clock)")
    if args.baseline:
        print(
            f"baseline, the same reader without its C part, same files, alternating: "
            f"{total / r['cpu_python']:.1f} MB/s of CPU time; speed-up {r['cpu_python'] / r['cpu']:.2f}x"
        )
    if r["rss_at_10"]:
        print(f"memory: RSS {r['rss_at_10'][0]:.0f} MB (peak {r['rss_at_10'][1]:.0f} MB) after 10 MB")
    print(f"memory: RSS {r['rss'][0]:.0f} MB (peak {r['rss'][1]:.0f} MB) after {total:.0f} MB")


if __name__ == "__main__":
    main()
