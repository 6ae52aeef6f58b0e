"""Fine-tuning (`train --from`), early stopping (`--patience`) and a user's own style (`--style`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tabgen import finetune
from tabgen.checkpoint import find_checkpoint, load_checkpoint
from tabgen.cli import app
from tabgen.corpus import prepare
from tabgen.errors import CheckpointError
from tabgen.formats import get_format
from tabgen.formats.base import STYLES, USER_STYLE_LETTERS
from tabgen.model import ModelConfig
from tabgen.sample import new_style_letter, sample, style_letter
from tabgen.tab.write import to_text
from tabgen.train import TrainConfig, train
from tests.tiny_model import make_prepared, synthetic_tabs, tiny_run

runner = CliRunner()
TINY = ModelConfig(vocab_size=2, embed=8, hidden=24, layers=1, dropout=0.0)
SMALL_RUN = ["--batch", "4", "--seq-len", "32", "--eval-interval", "5", "--device", "cpu", "--threads", "1"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, tmp_path):
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)  # matplotlib: seconds


@pytest.fixture
def tabs(tmp_path) -> Path:
    folder = tmp_path / "tabs"
    folder.mkdir()
    for i, tab in enumerate(synthetic_tabs(12, seed=7)):
        (folder / f"piece{i}.txt").write_text(to_text(tab))
    return folder


def cfg(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(data=data, out_dir=out, steps=6, model=TINY, batch=4, seq_len=32, lr=1e-2, warmup=2,
                eval_interval=3, eval_chars=2000, threads=1, handle_signals=False)  # fmt: skip
    return TrainConfig(**{**base, **kw})


def weights(path: Path) -> dict:
    return load_checkpoint(find_checkpoint(path)).model.state_dict()


def test_fine_tuning_starts_from_the_source_weights_and_keeps_its_size_and_alphabet(tabs, tmp_path):
    source = find_checkpoint(tiny_run())
    src = load_checkpoint(source)
    data = prepare([tabs], "time").dir
    # with a vanishing learning rate the fine-tuned weights are the source's; from scratch they are not
    tuned = tmp_path / "tuned"
    m = train(cfg(data, tuned, init_from=source, lr=1e-9, warmup=1))
    assert m["init_from"] == str(source) and m["model"] == src.config.to_dict()
    for name, w in weights(tuned).items():
        assert torch.allclose(w, src.model.state_dict()[name], atol=1e-6), name
    scratch = tmp_path / "scratch"
    train(cfg(data, scratch, model=src.config, lr=1e-9, warmup=1))
    assert not torch.allclose(weights(scratch)["head.weight"], src.model.state_dict()["head.weight"])

    # through the CLI: trains, keeps the alphabet, and compose loads the result
    run = tmp_path / "run"
    args = ["train", str(tabs), "--out", str(run), "--from", str(tiny_run()), "--steps", "10", "--lr", "3e-3"]
    res = runner.invoke(app, [*args, *SMALL_RUN])
    assert res.exit_code == 0, res.output
    assert f"fine-tuning {source}" in res.output and "passes over the training data" in res.output
    ckpt = load_checkpoint(find_checkpoint(run))
    assert ckpt.vocab["alphabet"] == src.vocab["alphabet"]
    # the same model, trained at the fine-tune's dropout
    assert ckpt.config == replace(src.config, dropout=finetune.FINETUNE_DROPOUT) != src.config
    assert not torch.allclose(ckpt.model.state_dict()["head.weight"], src.model.state_dict()["head.weight"])
    out = tmp_path / "piece.txt"
    res = runner.invoke(app, ["compose", "--model", str(run), "--bars", "4", "--tab", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().count("|") > 4


def test_fine_tuning_a_v1_model_prepares_the_data_in_v1(tabs, tmp_path):
    v1_data = prepare([tabs], "time", version=1, cache_dir=tmp_path / "v1cache").dir
    assert json.loads((v1_data / "vocab.json").read_text())["format_version"] == 1
    v1_text = get_format("time", 1).from_ids(np.fromfile(v1_data / "train.bin", dtype=np.uint8))
    v2_text = get_format("time").from_ids(
        np.fromfile(prepare([tabs], "time").dir / "train.bin", dtype=np.uint8)
    )
    assert v1_text != v2_text  # v2 writes bars-to-come counts: the versions really differ
    source = tmp_path / "v1model"
    train(cfg(v1_data, source))
    run = tmp_path / "run"
    # (--replay 0: the shipped guitar corpus would be replayed in v1 too, under another cache key)
    res = runner.invoke(app, ["train", str(tabs), "--out", str(run), "--from", str(source), "--steps", "4",
                              "--replay", "0", *SMALL_RUN])  # fmt: skip
    assert res.exit_code == 0, res.output
    ckpt = load_checkpoint(find_checkpoint(run))
    assert (ckpt.format, ckpt.format_version) == ("time", 1)
    assert (
        Path(load_checkpoint(run / "last.pt").train_state["config"]["data"]).name == v1_data.name
    )  # same key
    # a resumed fine-tune reads its format version from its own last.pt (not the current version)
    res = runner.invoke(app, ["train", str(tabs), "--out", str(run), "--steps", "8", "--resume", *SMALL_RUN])
    assert res.exit_code == 0, res.output
    last = load_checkpoint(run / "last.pt")
    assert last.train_state["step"] == 8 and last.format_version == 1 and "position reset" not in res.output
    # and a model of the current version is refused on data prepared in v1
    now = get_format("time").version  # the tiny model's: the current version
    with pytest.raises(
        CheckpointError, match=f"'time' v{now} cannot be fine-tuned on data prepared in 'time' v1"
    ):
        train(cfg(v1_data, tmp_path / "mismatch", init_from=find_checkpoint(tiny_run())))


def test_a_model_of_another_format_is_refused_with_one_line(tabs, tmp_path):
    res = runner.invoke(app, ["train", str(tabs), "--out", str(tmp_path / "r"), "--from", str(tiny_run()),
                              "--format", "line", *SMALL_RUN])  # fmt: skip
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "a 'time' model cannot be fine-tuned as --format line" in lines[0], res.output
    assert not (tmp_path / "r").exists()
    line_data = prepare([tabs], "line").dir
    with pytest.raises(
        CheckpointError,
        match=f"format 'time' v{get_format('time').version} cannot be fine-tuned on data prepared in 'line'",
    ):
        train(cfg(line_data, tmp_path / "r2", init_from=find_checkpoint(tiny_run())))


def test_early_stopping_stops_when_validation_stops_improving(tmp_path):
    data = make_prepared(tmp_path / "data")
    # a validation text unlike anything trained on: the better the model learns the tabs, the worse it does
    (data / "val.bin").write_bytes(get_format("time").to_ids("%A" * 3000).tobytes())
    m = train(cfg(data, tmp_path / "stopped", steps=300, eval_interval=4, patience=3))
    assert m["stop_reason"] == "patience" and m["steps"] < 300
    assert m["steps"] == m["best_step"] + 3 * 4  # three validations after the best, none better
    vals = [v[1] for v in m["history"]["val"]]
    assert min(vals[-3:]) >= min(vals) and len(vals) == m["steps"] // 4
    assert (tmp_path / "stopped" / "best.pt").is_file()
    assert load_checkpoint(tmp_path / "stopped" / "best.pt").train_state["step"] == m["best_step"]
    from tabgen.cli import _fit_summary

    said = "\n".join(_fit_summary(m))
    assert f"validation best at step {m['best_step']:,}" in said
    assert f"stopped early at step {m['steps']:,}: validation did not improve in 3 evaluations" in said
    off = train(cfg(data, tmp_path / "off", steps=40, eval_interval=4, patience=0))
    assert off["stop_reason"] == "steps" and off["steps"] == 40


def test_style_mine_round_trip(tabs, tmp_path):
    run = tmp_path / "mine"
    args = [
        "train",
        str(tabs),
        "--out",
        str(run),
        "--from",
        str(tiny_run()),
        "--steps",
        "6",
        "--style",
        "mine",
        "--replay",
        "0",  # only the user's pieces, each with the style's letter (replay: test_finetune_replay.py)
    ]
    res = runner.invoke(app, [*args, *SMALL_RUN])
    assert res.exit_code == 0, res.output
    assert "--style mine" in res.output
    ckpt = load_checkpoint(find_checkpoint(run))
    letter = USER_STYLE_LETTERS[0]  # the source model has no style: the first free letter
    assert ckpt.vocab["style_letters"] == {"mine": letter} and ckpt.vocab["styles"] == {"mine": 12}
    assert style_letter(ckpt, "mine") == letter and style_letter(ckpt, None) == letter
    data = Path(load_checkpoint(run / "last.pt").train_state["config"]["data"])
    text = get_format("time").from_ids(np.fromfile(data / "train.bin", dtype=np.uint8))
    headers = [line for line in text.split("\n") if line.startswith("%")]
    assert headers and all(h.endswith(f" {letter}") for h in headers)
    [piece] = sample(ckpt, bars=3, style="mine", seed=1)
    assert piece.split("\n")[0].endswith(f" {letter}")
    out = tmp_path / "piece.txt"
    res = runner.invoke(
        app, ["compose", "--model", str(run), "--style", "mine", "--bars", "3", "--tab", str(out)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["compose", "--model", str(run), "--style", "folk", "--bars", "3"])
    assert res.exit_code != 0 and "no style 'folk'" in res.output

    # fine-tuned again with a second style: a new letter, and the first style is still there
    again = tmp_path / "again"
    res = runner.invoke(app, ["train", str(tabs), "--out", str(again), "--from", str(run), "--steps", "3",
                              "--style", "yours", *SMALL_RUN])  # fmt: skip
    assert res.exit_code == 0, res.output
    vocab = load_checkpoint(find_checkpoint(again)).vocab
    assert vocab["style_letters"] == {"mine": letter, "yours": USER_STYLE_LETTERS[1]}


def test_new_style_letters_avoid_the_source_models_letters():
    vocab = {"styles": {"guitar": 5, "folk": 3, "mine": 2}, "style_letters": {"mine": "a"}}
    assert new_style_letter(vocab, "mine") == "a"
    assert new_style_letter(vocab, "folk") == STYLES["folk"]
    assert new_style_letter(vocab, "chorale") == STYLES["chorale"]  # built in, even when not learned
    assert new_style_letter(vocab, "jazz") == "b"
    assert new_style_letter({}, "jazz") == USER_STYLE_LETTERS[0]
    # a checkpoint without the table still maps the built-in styles
    assert style_letter(type("C", (), {"vocab": {"styles": {"folk": 1}}})(), "folk") == "f"


def test_small_data_fine_tunes_the_bundled_model_by_default(tabs):
    from tabgen.checkpoint import bundled_model_path
    from tabgen.finetune import resolve_source

    bundled = load_checkpoint(bundled_model_path())
    src = resolve_source(None, [tabs])
    assert src.path == bundled_model_path() and src.format_version == bundled.format_version
    assert "under 1 MB" in src.note
    assert resolve_source("none", [tabs]).path is None
    assert resolve_source(None, [tabs], size="small").path is None  # a size asks for a new model
    assert resolve_source(None, [tabs], fmt="line").path is None  # the bundled model is not a line model
