"""Measure the text formats: characters per bar on a corpus, and grammar speed.

    python bench/formats.py [PATH ...]      (default: corpora/ and ../shared/realworld-tabs)

For each format: prepare the corpus (tabgen.corpus.prepare, cached in a temp folder), then
chars/bar over all pieces; and the grammar's speed: a walk that picks among the allowed characters
(allowed_mask + a numpy choice + advance per step, as a sampler does at batch 1), in chars/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tabgen.corpus import prepare
from tabgen.formats import ALPHABET, FORMATS
from tabgen.tab.types import Tuning


def grammar_speed(name: str, bars: int = 64, repeats: int = 3) -> float:
    fmt = FORMATS[name]
    rng = np.random.default_rng(0)
    best = 0.0
    for _ in range(repeats):
        grammar = fmt.grammar(Tuning.named("standard"), (4, 4), bars)
        steps, start = 0, time.perf_counter()
        while not grammar.done:
            mask = grammar.allowed_mask()
            # a sampler's last step: zero the disallowed logits, draw one
            p = np.where(mask, rng.random(len(ALPHABET)), 0.0)
            grammar.advance(ALPHABET[int(p.argmax())])
            steps += 1
        best = max(best, steps / (time.perf_counter() - start))
    return best


def main(paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        for name in FORMATS:
            prepared = prepare(paths, fmt=name, cache_dir=Path(cache))
            m = prepared.manifest
            print(
                f"{name:>5}: {m['files_read']} files, {m['pieces'] - m['duplicate_pieces']} pieces, "
                f"{m['bars']} bars, {m['chars']} chars, {m['chars'] / m['bars']:.1f} chars/bar, "
                f"grammar walk {grammar_speed(name):,.0f} chars/s"
            )


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[1]
    default = [p for p in (here / "corpora", here.parent / "shared" / "realworld-tabs") if p.exists()]
    main([Path(a) for a in sys.argv[1:]] or default)
