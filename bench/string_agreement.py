"""How often tabgen's fretting puts a note on the string the score's editor asked for.

Mutopia's guitar scores mark some notes with string numbers (LilyPond's `\\1` .. `\\6`). For every
piece that has them, this frets the piece as the corpus builder does (`tabgen.mutopia`) and counts,
note by note, the marked notes that land on the editor's string. It prints a Markdown table per piece
and the total, with the naive lowest-fret choice beside it. The LilyPond events come from
the build's cache (corpora/.cache) where it has them; pieces not built yet are compiled (every
piece is looked at: the marks may sit in an included file).

    PYTHONPATH=. python bench/string_agreement.py [--dir corpora] [--mutopia-dir PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tabgen import mutopia

CORPORA = Path(__file__).parents[1] / "corpora"


def marked_pieces(root: Path, out_dir: Path) -> list[tuple[str, list[mutopia.ScoreEvents]]]:
    """(path, its scores that carry string numbers) for every piece with any."""
    out = []
    for piece in mutopia.read_index(root):
        try:
            scores = mutopia.lilypond_events(root / piece.path, mutopia._events_cache(out_dir, piece))
        except mutopia.Skip:
            continue
        marked = [s for s in scores if any(n.string for n in s.notes)]
        if marked:
            out.append((piece.path, marked))
    return out


def agreement(scores: list[mutopia.ScoreEvents]) -> tuple[int, int, int]:
    """(notes on the editor's string: fretting, naive; notes with a string number)."""
    agree = naive = total = 0
    for score in scores:
        try:
            tabs = mutopia.score_tabs(score, "", ())
        except mutopia.Skip:
            continue
        for _, st in tabs:
            agree, naive, total = (
                agree + st.string_agree,
                naive + st.string_agree_naive,
                total + st.string_marks,
            )
    return agree, naive, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=CORPORA)
    ap.add_argument("--mutopia-dir", type=Path, default=mutopia.DEFAULT_DIR)
    args = ap.parse_args()
    pieces = marked_pieces(args.mutopia_dir, args.dir)
    print("| piece | marked notes | on the editor's string: tabgen | naive lowest fret |")
    print("|---|---:|---:|---:|")
    sums = [0, 0, 0]
    for path, scores in pieces:
        a, n, t = agreement(scores)
        if not t:
            continue
        sums = [sums[0] + a, sums[1] + n, sums[2] + t]
        print(f"| {path.removesuffix('.ly')} | {t} | {a / t:.0%} | {n / t:.0%} |")
    a, n, t = sums
    print(f"| **all {len(pieces)} pieces** | {t} | {a / max(t, 1):.1%} | {n / max(t, 1):.1%} |")


if __name__ == "__main__":
    main()
