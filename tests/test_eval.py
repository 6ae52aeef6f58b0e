"""tabgen eval: the figures on a tiny trained model, and the pieces they are made of."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.errors import InputError
from tabgen.evaluate import evaluate, histogram_distance, pitch_class_histogram
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
from tests.tiny_corpus import make_prepared
from tests.tiny_model import tiny_run

runner = CliRunner()


def test_pitch_class_histogram_counts_sounding_notes():
    # standard tuning: string 1 fret 0 = E4 (class 4), string 6 fret 3 = G2 (7), string 2 fret 1 = C4 (0)
    bar = Bar(16, (Column(0, (Note(1, 0), Note(6, 3))), Column(4, (Note(2, 1), Note(3, 0, "x")))))
    hist = pitch_class_histogram([Tab(Tuning.named("standard"), (bar,), (4, 4))])
    expected = np.zeros(12)
    expected[[4, 7, 0]] = 1
    assert hist.tolist() == expected.tolist()


def test_histogram_distance_is_total_variation():
    a, b = np.zeros(12), np.zeros(12)
    a[0], b[0], b[7] = 2, 1, 1
    assert histogram_distance(a, a) == 0.0
    assert histogram_distance(a, b) == pytest.approx(0.5)
    c = np.zeros(12)
    c[5] = 3
    assert histogram_distance(a, c) == pytest.approx(1.0)
    assert histogram_distance(a, np.zeros(12)) is None


def test_evaluate_tiny_model():
    report = evaluate(tiny_run(), samples=6, bars=5, seed=1, batch=3)
    assert report["masked_validity"] == 1.0
    assert report["playability"] == 1.0
    assert 0.0 <= report["raw_validity"] <= 1.0 and report["raw_bars"] > 0
    assert report["novelty"] is not None and report["novelty"] + report["copy_rate"] == pytest.approx(1.0)
    assert 0.0 <= report["whole_piece_copies"] <= 1.0
    assert 0.0 <= report["pitch_class_distance"] <= 1.0
    assert report["notes_per_bar"] > 0 and 0.0 <= report["empty_bar_rate"] <= 1.0
    assert report["training_text"].endswith("train.bin")
    assert report == {
        **evaluate(tiny_run(), samples=6, bars=5, seed=1, batch=3),
        "seconds": report["seconds"],
    }


def test_cli_eval_json_and_text(tmp_path):
    res = runner.invoke(app, ["eval", "--model", str(tiny_run()), "--samples", "2", "--bars", "4", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["samples"] == 2 and report["masked_validity"] == 1.0
    res = runner.invoke(app, ["eval", "--model", str(tiny_run()), "--samples", "2", "--bars", "4"])
    assert res.exit_code == 0 and "masked validity    100.0%" in res.stdout
    res = runner.invoke(
        app, ["eval", "--model", str(tiny_run()), "--samples", "1", "--corpus", str(tmp_path)]
    )
    assert res.exit_code == 1 and "no tab files" in res.stderr


def test_a_corpus_in_another_alphabet_is_refused(tmp_path):
    corpus = make_prepared(tmp_path / "data")  # line-major: not the tiny model's time alphabet
    with pytest.raises(InputError, match="alphabet"):
        evaluate(tiny_run(), samples=1, bars=4, corpus=corpus)


def test_corpus_of_tab_files_is_prepared_and_found(tmp_path, monkeypatch):
    from tabgen.tab.write import to_text
    from tests.tiny_model import synthetic_tabs

    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i, tab in enumerate(synthetic_tabs(6, seed=1)):
        (tabs / f"piece{i}.txt").write_text(to_text(tab))
    report = evaluate(tiny_run(), samples=2, bars=4, corpus=tabs)
    assert report["training_text"].endswith("train.bin") and str(tmp_path) in report["training_text"]
    assert report["novelty"] is not None


def test_eval_best_of_k():
    report = evaluate(tiny_run(), samples=3, bars=4, seed=3, batch=9, candidates=3)
    assert report["candidates"] == 3 and report["masked_validity"] == 1.0 and report["playability"] == 1.0
    assert report["novelty"] is not None
