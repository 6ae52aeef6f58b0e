"""Replay: a fine-tune's training text mixes in a share of the shipped corpus (`train --replay`),
the validation text stays the user's tabs alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tabgen import finetune
from tabgen.checkpoint import load_checkpoint
from tabgen.cli import app
from tabgen.corpus import prepare
from tabgen.errors import InputError
from tabgen.formats import get_format
from tabgen.tab.write import to_text
from tests.tiny_model import synthetic_tabs, tiny_run

runner = CliRunner()
FOLK = Path(__file__).resolve().parent.parent / "corpora" / "miscFolk.tab.gz"  # real tunes, style folk
SMALL_RUN = ["--batch", "4", "--seq-len", "32", "--eval-interval", "5", "--device", "cpu", "--threads", "1"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, tmp_path):
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)


@pytest.fixture
def tabs(tmp_path) -> Path:
    folder = tmp_path / "tabs"
    folder.mkdir()
    for i, tab in enumerate(synthetic_tabs(12, seed=7)):
        (folder / f"piece{i}.txt").write_text(to_text(tab))
    return folder


def pieces(folder: Path, split: str) -> list[str]:
    text = get_format("time").from_ids(np.fromfile(folder / f"{split}.bin", dtype=np.uint8))
    return [p + "$\n" for p in text.split("$\n") if p]


def test_replayed_pieces_land_in_training_only_in_their_own_style(tabs):
    plain = prepare([tabs], "time")
    mixed = prepare([tabs], "time", replay=[FOLK], replay_share=0.5, style="mine", style_letter="a")
    assert mixed.dir != plain.dir  # its own cache key
    own = prepare([tabs], "time", style="mine", style_letter="a")
    assert pieces(mixed.dir, "val") == pieces(own.dir, "val")  # validation: the user's pieces, untouched
    train = pieces(mixed.dir, "train")
    user = [p for p in train if p.split("\n")[0].endswith(" a")]
    replayed = [p for p in train if p.split("\n")[0].endswith(" f")]  # the collection's own letter
    assert user == pieces(own.dir, "train") and len(user) + len(replayed) == len(train)
    account = mixed.manifest["replay"]
    assert account["pieces"] == len(replayed) > 0 and account["files"] == [str(FOLK)]
    chars = sum(len(p) for p in replayed)
    assert account["chars"] == chars
    # the replayed share is met to within one piece
    share = chars / (chars + sum(len(p) for p in user))
    assert 0.5 <= share < 0.5 + max(len(p) for p in replayed) / (chars + sum(map(len, user)))
    # spread among the user's pieces, not all at the end
    first = next(i for i, p in enumerate(train) if p in replayed)
    assert first < len(user)
    vocab = json.loads(mixed.vocab_path.read_text())
    assert vocab["styles"] == {"mine": len(user) + len(pieces(own.dir, "val")), "folk": len(replayed)}
    assert mixed.manifest["chars"]["train"] == mixed.train_bin.stat().st_size
    assert mixed.summary()["replay"] == account and plain.summary()["replay"] is None
    # the summary counts the user's files; the replayed pieces come apart
    for key in ("pieces", "bars", "chars"):
        assert mixed.summary()[key] == own.summary()[key]


def test_a_replayed_piece_that_is_one_of_the_users_is_left_out(tabs, tmp_path):
    # the user's own folder replayed: every piece is already there (some of them in validation)
    same = prepare([tabs], "time", replay=[tabs], replay_share=0.5)
    assert same.manifest["replay"]["pieces"] == 0
    assert pieces(same.dir, "train") == pieces(prepare([tabs], "time").dir, "train")


def test_replay_share_must_be_a_share(tabs):
    with pytest.raises(InputError, match="replay share"):
        prepare([tabs], "time", replay=[FOLK], replay_share=1.0)
    with pytest.raises(InputError, match="--replay 1.5"):
        finetune.replay_share(1.5, finetune.Source(None))


def test_without_replay_the_users_tabs_carry_no_style_unless_asked(tabs):
    tuned = finetune.resolve_source(str(tiny_run()), [tabs])
    assert finetune.style_for(tuned, None, 0.0) == (None, None)
    assert finetune.style_for(tuned, None, 0.5)[0] == finetune.REPLAY_STYLE
    assert finetune.style_for(tuned, "Yours", 0.5)[0] == "yours"
    v1 = finetune.Source(None, "time", 1)  # a format without styles: nothing to name
    assert finetune.style_for(v1, None, 0.5) == (None, None)


def test_the_default_replay_and_dropout_apply_to_fine_tunes_only(tabs):
    tuned = finetune.resolve_source(str(tiny_run()), [tabs])
    scratch = finetune.resolve_source("none", [tabs])
    assert finetune.replay_share(None, tuned) == finetune.REPLAY_SHARE > 0
    assert finetune.replay_share(None, scratch) == 0.0
    assert finetune.replay_share(0.0, tuned) == 0.0 and finetune.replay_share(0.2, scratch) == 0.2
    assert [f.name for f in finetune.replay_files()] == [f"{n}.tab.gz" for n in finetune.REPLAY_COLLECTIONS]
    assert finetune.schedule(None, tuned) == (finetune.FINETUNE_LR, finetune.FINETUNE_WARMUP)
    assert finetune.schedule(None, scratch) == (finetune.SCRATCH_LR, finetune.SCRATCH_WARMUP)
    assert finetune.dropout(tuned) == finetune.FINETUNE_DROPOUT and finetune.dropout(scratch) is None
    assert (
        finetune.batch_size(None, tuned) == finetune.FINETUNE_BATCH < finetune.batch_size(None, scratch) == 32
    )
    assert finetune.batch_size(8, tuned) == 8


def test_a_resumed_fine_tune_reads_the_same_text_with_the_same_schedule(tabs, tmp_path, monkeypatch):
    monkeypatch.setattr(finetune, "replay_files", lambda: [FOLK])
    run = tmp_path / "run"
    args = ["train", str(tabs), "--out", str(run), "--from", str(tiny_run())]
    res = runner.invoke(app, [*args, "--steps", "4", *SMALL_RUN])
    assert res.exit_code == 0, res.output
    assert "and replayed, in training only, from miscFolk.tab.gz" in res.output
    assert "taken most like your tabs first (meter, tuning, texture)" in res.output
    # no --style: the tabs are named REPLAY_STYLE, apart from the replayed folk, and composed by default
    assert f"--style {finetune.REPLAY_STYLE})" in res.output
    vocab = load_checkpoint(run / "last.pt").vocab
    assert vocab["default_style"] == finetune.REPLAY_STYLE and set(vocab["styles"]) == {"mine", "folk"}
    first = load_checkpoint(run / "last.pt").train_state["config"]
    manifest = json.loads((Path(first["data"]) / "manifest.json").read_text())
    assert manifest["replay"]["share"] == finetune.REPLAY_SHARE and first["lr"] == finetune.FINETUNE_LR
    # a resumed run keeps its own batch when none is given (the data position depends on it)
    resumed = finetune.resumed_source(load_checkpoint(run / "last.pt"))
    assert resumed.batch == 4 and finetune.batch_size(None, resumed) == 4
    res = runner.invoke(app, [*args, "--steps", "8", "--resume", *SMALL_RUN])
    assert res.exit_code == 0, res.output
    again = load_checkpoint(run / "last.pt")
    assert again.train_state["step"] == 8 and "position reset" not in res.output
    assert again.vocab["style_letters"] == vocab["style_letters"]
    config = again.train_state["config"]
    assert config["data"] == first["data"] and (config["lr"], config["warmup"]) == (
        first["lr"],
        first["warmup"],
    )
