"""Ghost notes where they meet the model: the bundled model's alphabet (time v2) has no ghost-note
character, so its text writes ghost notes as plain notes and fine-tuning it on tabs with ghost
notes works; the current version (time v3) keeps them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tabgen.checkpoint import bundled_model_path, find_checkpoint, load_checkpoint
from tabgen.cli import app
from tabgen.corpus import prepare
from tabgen.formats import get_format
from tabgen.formats.base import FIRST_ALPHABET
from tabgen.tab.parse import parse_text
from tabgen.tab.types import Bar, Column, Note, Tab
from tabgen.tab.write import to_text
from tests.tiny_model import synthetic_tabs

runner = CliRunner()
SMALL_RUN = ["--batch", "4", "--seq-len", "32", "--eval-interval", "5", "--device", "cpu", "--threads", "1"]


def with_ghosts(tab: Tab) -> Tab:
    """Every third note of the tab a ghost note."""
    bars, k = [], 0
    for bar in tab.bars:
        cols = []
        for col in bar.columns:
            notes = []
            for n in col.notes:
                notes.append(Note(n.string, n.fret, "()" if k % 3 == 0 else n.technique))
                k += 1
            cols.append(Column(col.position, tuple(notes)))
        bars.append(Bar(bar.width, tuple(cols)))
    return Tab(tab.tuning, tuple(bars), tab.meter)


@pytest.fixture
def ghost_tabs(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)  # matplotlib: seconds
    folder = tmp_path / "tabs"
    folder.mkdir()
    for i, tab in enumerate(synthetic_tabs(8, seed=3)):
        (folder / f"piece{i}.txt").write_text(to_text(with_ghosts(tab)))
    return folder


def test_tabs_with_ghost_notes_prepare_with_them_in_v3_and_plain_in_the_bundled_models_v2(ghost_tabs):
    staves = parse_text(next(ghost_tabs.glob("*.txt")).read_text()).tabs
    assert sum(n.technique == "()" for t in staves for n in t.notes) > 5  # read as ghost notes
    texts = {}
    for version in (2, 3):
        data = prepare([ghost_tabs], "time", version=version).dir
        vocab = json.loads((data / "vocab.json").read_text())
        fmt = get_format("time", version)
        assert vocab["alphabet"] == fmt.alphabet
        ids = np.concatenate([np.fromfile(data / f"{s}.bin", dtype=np.uint8) for s in ("train", "val")])
        assert int(ids.max()) < len(fmt.alphabet)
        texts[version] = fmt.from_ids(ids)
    assert "(" in texts[3] and "(" not in texts[2]
    # v3 is v2 with ghost notes: without their marks the texts are the same (here no bar becomes a
    # repeat of another once its ghost notes are plain)
    assert texts[3].replace("(", "") == texts[2]
    assert set(texts[2]) <= set(FIRST_ALPHABET)


def test_fine_tuning_the_bundled_model_on_tabs_with_ghost_notes(ghost_tabs, tmp_path):
    bundled = load_checkpoint(bundled_model_path())
    assert bundled.vocab["alphabet"] == FIRST_ALPHABET and bundled.format_version == 2
    run = tmp_path / "run"
    res = runner.invoke(app, ["train", str(ghost_tabs), "--out", str(run), "--steps", "2", *SMALL_RUN])
    assert res.exit_code == 0, res.output
    assert "fine-tuning the bundled model (time v2)" in res.output
    tuned = load_checkpoint(find_checkpoint(run))
    assert (tuned.format, tuned.format_version) == ("time", 2)
    assert tuned.vocab["alphabet"] == FIRST_ALPHABET
    assert replace(tuned.config, dropout=bundled.config.dropout) == bundled.config  # the same size
    out = tmp_path / "piece.txt"
    res = runner.invoke(
        app, ["compose", "--model", str(run), "--bars", "2", "--seed", "1", "--tab", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().count("|") >= 2
