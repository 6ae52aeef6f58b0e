"""Time `tabgen render` on a 64-bar piece: library calls, imports, and the whole CLI.

    python bench/render.py

Goal (issue 3): the whole `tabgen render` of 64 bars to MIDI and MusicXML under 2.5 s, MIDI alone
under 0.5 s. Prints one line per figure: the median of a few runs, as wall-clock seconds and as CPU
seconds (user + system; on a machine shared with other work, CPU time is the steadier figure).
"""

from __future__ import annotations

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


def median_time(fn, runs: int = 3) -> str:
    """'wall s (cpu s)': medians over `runs` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return f"{statistics.median(walls):5.2f} s wall ({statistics.median(cpus):5.2f} s cpu)"


def cli(*args: str) -> str:
    cmd = [sys.executable, "-m", "tabgen", *args]
    return median_time(lambda: subprocess.run(cmd, check=True, cwd=REPO, capture_output=True))


def python_c(code: str) -> str:
    return median_time(lambda: subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO))


def main() -> None:
    tab = piece()
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "piece.txt"
        src.write_text(to_text(tab))
        mid, xml = str(Path(d) / "o.mid"), str(Path(d) / "o.musicxml")

        print(f"python startup                  {python_c('pass')}")
        print(f"import typer (the CLI's own)    {python_c('import typer, typer._adapters')}")
        print(f"import pretty_midi              {python_c('import pretty_midi')}")
        print(f"import music21                  {python_c('import music21')}")

        from tabgen.render.midi import write_midi
        from tabgen.render.musicxml import write_musicxml

        print(f"{BARS} bars -> MIDI (library)     {median_time(lambda: write_midi(tab, mid))}")
        print(f"{BARS} bars -> MusicXML (library) {median_time(lambda: write_musicxml(tab, xml))}")
        print(f"tabgen render --midi            {cli('render', str(src), '--midi', mid)}  goal < 0.5 s")
        both = cli("render", str(src), "--midi", mid, "--musicxml", xml)
        print(f"tabgen render --midi --musicxml {both}  goal < 2.5 s")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
