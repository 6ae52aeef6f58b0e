"""Time `tabgen render` on a 64-bar piece: library calls, imports, and the whole CLI.

    python bench/render.py [--runs N] [--against OTHER_CHECKOUT]

Goal (issue 3): the whole `tabgen render` of 64 bars to MIDI and MusicXML under 2.5 s, MIDI alone
under 0.5 s. Prints one line per figure: the median of a few runs, as wall-clock seconds and as CPU
seconds (user + system; on a machine shared with other work, CPU time is the steadier figure).

Commands run as an installed tabgen does, with compiled bytecode: each command runs once untimed to
compile (into a temporary PYTHONPYCACHEPREFIX, so nothing is written into the checkout) before the
timed runs, even where PYTHONDONTWRITEBYTECODE is set. With `--against`, each whole command is also
run from another checkout (e.g. `git archive main | tar -x -C /tmp/main`), alternating run by run
with this one, and the ratio of the medians is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tabgen.tab.types import Bar, Column, Note, Tab, Tuning  # noqa: E402
from tabgen.tab.write import to_text  # noqa: E402

BARS = 64


def piece(bars: int = BARS) -> Tab:
    """A 64-bar 4/4 piece: a bass note and chord on beat 1, eighth-note arpeggios, some legato."""
    roots = [(6, 3), (5, 3), (5, 0), (4, 0)]
    out = []
    for b in range(bars):
        s, f = roots[b % 4]
        cols = [Column(0, (Note(s, f), Note(1, 3), Note(2, 0)))]
        for k, slot in enumerate(range(2, 16, 2)):
            string = 4 - k % 3
            tech = "h" if k == 3 else ""
            cols.append(Column(slot, (Note(string, 2 if tech else k % 3, tech),)))
        out.append(Bar(16, tuple(cols)))
    return Tab(Tuning.named("standard"), tuple(out), (4, 4), "Bench piece")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn) -> tuple[float, float]:
    """(wall, cpu) seconds of one call."""
    t, c = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - t, _cpu() - c


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def show(label: str, wall_cpu: tuple[float, float], note: str = "") -> None:
    wall, cpu = wall_cpu
    print(f"{label:<36}{wall:5.2f} s wall ({cpu:5.2f} s cpu){note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs per figure (default 3)")
    ap.add_argument("--against", type=Path, help="another checkout to time the same commands from")
    args = ap.parse_args()
    tab = piece()
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(d) / "pycache")
        src = Path(d) / "piece.txt"
        src.write_text(to_text(tab))
        mid, xml = str(Path(d) / "o.mid"), str(Path(d) / "o.musicxml")

        def run(argv: list[str], cwd: Path) -> tuple[float, float]:
            return timed(lambda: subprocess.run(argv, check=True, cwd=cwd, env=env, capture_output=True))

        def python_c(code: str) -> tuple[float, float]:
            argv = [sys.executable, "-c", code]
            run(argv, REPO)  # compile
            return medians([run(argv, REPO) for _ in range(args.runs)])

        show("python startup", python_c("pass"))
        show("import typer", python_c("import typer, typer.main"))
        show("import mido (writes the MIDI file)", python_c("import mido"))
        show("import music21", python_c("import music21"))

        from tabgen.render.midi import write_midi
        from tabgen.render.musicxml import write_musicxml

        write_midi(tab, mid)  # warm-up: the library figures are for calls in a running process
        write_musicxml(tab, xml)
        lib_midi = [timed(lambda: write_midi(tab, mid)) for _ in range(args.runs)]
        show(f"{BARS} bars -> MIDI (library)", medians(lib_midi))
        lib_xml = [timed(lambda: write_musicxml(tab, xml)) for _ in range(args.runs)]
        show(f"{BARS} bars -> MusicXML (library)", medians(lib_xml))

        commands = {
            "tabgen render --midi": (["render", str(src), "--midi", mid], 0.5),
            "tabgen render --midi --musicxml": (["render", str(src), "--midi", mid, "--musicxml", xml], 2.5),
        }
        for label, (cli_args, goal) in commands.items():
            argv = [sys.executable, "-m", "tabgen", *cli_args]
            trees = [REPO] + ([args.against.resolve()] if args.against else [])
            samples: dict[Path, list[tuple[float, float]]] = {t: [] for t in trees}
            for tree in trees:
                run(argv, tree)  # compile
            for _ in range(args.runs):
                for tree in trees:
                    samples[tree].append(run(argv, tree))
            ours = medians(samples[REPO])
            show(label, ours, f"  goal < {goal} s")
            if args.against:
                theirs = medians(samples[args.against.resolve()])
                show(f"  the same from {args.against}", theirs, f"  ratio {ours[0] / theirs[0]:.2f} (wall)")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
