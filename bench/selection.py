"""What candidate selection does to the form of composed pieces: one set of samples, several rules.

Samples N groups of K candidates once (16 bars, 4/4, the model's default style), then picks one
piece per group by each rule and prints the form figures of the picks (tabgen.form) beside the
corpus's, as `tabgen eval` does:

- first: the first candidate (a single sample);
- plain: compose's score without the form gain (problems, empty bars, copies, repairs);
- form: compose's score (the form gain on), from the first 4 and from all K candidates.

    python bench/selection.py [--model RUN_OR_CKPT] [--samples 32] [--candidates 8] [--temperature 0.9]
                              [--set ONE_KEY_GAIN=0.5 ...] [--sweep ONE_KEY_GAIN=0.3,0.6,1.0 ...]

`--set` changes one of the form weights at the top of tabgen/compose.py for this run; `--sweep` picks
from the same samples once per value (best of K by form), so the columns differ only by that weight.
"""

from __future__ import annotations

import argparse
import time

import tabgen.compose
from tabgen.compose import best_candidate, load_model, score_candidates
from tabgen.evaluate import CORPUS_SAMPLE_CHARS, FORM_ROWS, _fmt, find_training
from tabgen.form import corpus_figures, form_figures
from tabgen.formats import get_format
from tabgen.sample import default_style, sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--temperature", type=float, default=tabgen.compose.DEFAULT_TEMPERATURE)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a form weight")
    ap.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2", help="weights to try")
    args = ap.parse_args()
    for item in args.set + args.sweep:
        name = item.partition("=")[0]
        if not hasattr(tabgen.compose, name):
            ap.error(f"tabgen.compose has no {name}")
    for item in args.set:
        name, _, value = item.partition("=")
        setattr(tabgen.compose, name, float(value))

    start = time.monotonic()
    ckpt = load_model(args.model)
    fmt = get_format(ckpt.format, ckpt.format_version)
    training = find_training(ckpt, None)
    style = default_style(ckpt)
    groups = []
    for i in range(args.samples):
        probs: list[list[float]] = []
        texts = sample(
            ckpt,
            bars=args.bars,
            temperature=args.temperature,
            seed=args.seed + i * args.candidates,
            candidates=args.candidates,
            style=style,
            meter=(4, 4),
            end_probs=probs,
        )
        groups.append((texts, probs))
    sampled = time.monotonic() - start

    def pick(k: int, form: bool) -> list:
        out = []
        for texts, probs in groups:
            scored = score_candidates(fmt, texts[:k], args.bars, 4, training, probs[:k], form)
            out.append(scored[best_candidate(scored)].tab)
        return out

    rules = {
        "first": [score_candidates(fmt, t[:1], args.bars, 4, training)[0].tab for t, _ in groups],
        f"plain, best of {args.candidates}": pick(args.candidates, False),
        "form, best of 4": pick(4, True),
    }
    if args.candidates != 4:
        rules[f"form, best of {args.candidates}"] = pick(args.candidates, True)
    for item in args.sweep:
        name, _, values = item.partition("=")
        default = getattr(tabgen.compose, name)
        for value in values.split(","):
            setattr(tabgen.compose, name, float(value))
            rules[f"best of {args.candidates}, {name} {value}"] = pick(args.candidates, True)
        setattr(tabgen.compose, name, default)
    figures = {name: form_figures(tabs).as_dict() for name, tabs in rules.items()}
    if training is not None:
        corpus = [t for t in training.tabs(CORPUS_SAMPLE_CHARS) if dict(t.meta).get("style") == style]
        figures["corpus"] = corpus_figures(corpus, (4, 4), args.bars).as_dict()
    print(f"model {ckpt.path} (format {ckpt.format} v{ckpt.format_version}), style {style}, ", end="")
    print(f"{args.samples} x {args.candidates} candidates, temperature {args.temperature}, ", end="")
    print(f"sampled in {sampled:.0f} s")
    names = list(figures)
    print(f"| figure | {' | '.join(names)} |")
    print("|---" * (len(names) + 1) + "|")
    for key, label, percent in FORM_ROWS:
        print(f"| {label} | " + " | ".join(_fmt(figures[n][key], percent) for n in names) + " |")


if __name__ == "__main__":
    main()
