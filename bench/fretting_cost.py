"""Compare the fretting's dynamic program with the naive lowest-fret choice on the shipped corpus.

Reads corpora/*.tab.gz, takes each tune's pitches column by column, frets them both ways and prints a
Markdown table: per collection, for the dynamic program and for naive, the cost model's total, the
frets the hand travels (sum of the jumps between consecutive fretted notes' lowest frets), the
strings crossed (sum of the jumps of each event's mean string), chords beyond a 4-fret reach, and
notes above fret 12.

    PYTHONPATH=. python bench/fretting_cost.py [--sample N] [--dir corpora] [--collection NAME]...
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from tabgen.pdcorpus import read_corpus
from tabgen.tab.fretting import fret_pitches, naive_fretting
from tabgen.tab.parse import join_staves, parse_text

CORPORA = Path(__file__).parents[1] / "corpora"
NAMES = ["cost", "frets travelled", "strings crossed", "chords beyond reach", "notes above fret 12"]


def measures(chords) -> list[float]:
    """[frets travelled, strings crossed, chords beyond reach, notes above fret 12]"""
    travel = cross = beyond = high = 0.0
    last_fret = last_string = None
    for chord in chords:
        if not chord:
            continue
        fretted = [n.fret for n in chord if n.fret]
        if len(fretted) > 1 and max(fretted) - min(fretted) > 4:
            beyond += 1
        high += sum(f > 12 for f in fretted)
        centre = sum(n.string for n in chord) / len(chord)
        if last_string is not None:
            cross += abs(centre - last_string)
        last_string = centre
        if fretted:
            if last_fret is not None:
                travel += abs(min(fretted) - last_fret)
            last_fret = min(fretted)
    return [travel, cross, beyond, high]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=CORPORA)
    ap.add_argument("--collection", action="append", help="only these collections (repeatable)")
    args = ap.parse_args()
    rng = random.Random(0)
    print("| collection | tunes | notes | " + " | ".join(f"{n}: DP / naive" for n in NAMES) + " |")
    print("|---|---:|---:|" + "---:|" * len(NAMES))
    for path in sorted(args.dir.glob("*.tab.gz")):
        if args.collection and path.name.removesuffix(".tab.gz") not in args.collection:
            continue
        tunes = read_corpus(path)
        if args.sample:
            tunes = rng.sample(tunes, min(args.sample, len(tunes)))
        notes, dp_sum, naive_sum = 0, [0.0] * 5, [0.0] * 5
        for text in tunes:
            (tab,) = join_staves(parse_text(text).tabs)
            events = [[tab.pitch(n) for n in c.notes] for b in tab.bars for c in b.columns]
            dp, naive = fret_pitches(events, tab.tuning), naive_fretting(events, tab.tuning)
            notes += sum(map(len, events))
            dp_sum = [a + b for a, b in zip(dp_sum, [dp.cost, *measures(dp.chords)], strict=True)]
            naive_sum = [a + b for a, b in zip(naive_sum, [naive.cost, *measures(naive.chords)], strict=True)]
        cells = " | ".join(f"{a:.0f} / {b:.0f}" for a, b in zip(dp_sum, naive_sum, strict=True))
        print(f"| {path.name.removesuffix('.tab.gz')} | {len(tunes)} | {notes} | {cells} |")


if __name__ == "__main__":
    main()
