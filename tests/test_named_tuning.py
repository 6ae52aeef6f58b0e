"""Pitches to a named tuning: one rule (`labels.named_tuning`) for every reader.

The copies it replaced disagreed on which name wins when two named tunings share their pitches (the
labels' map kept the last, the model's header and the Guitar Pro reader the first). The rule is the
first in NAMED_TUNINGS; the test puts a copy of standard tuning first and asks every reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tabgen.formats.base import parse_header
from tabgen.render.gp import write_gp5
from tabgen.sample import resolve_tuning_and_meter
from tabgen.sources import read_file
from tabgen.tab.labels import named_tuning, parse_tuning, tuning_from_labels
from tabgen.tab.parse import parse_text
from tabgen.tab.types import NAMED_TUNINGS, Bar, Column, Note, Tab, Tuning

STANDARD = NAMED_TUNINGS["standard"]


def test_every_named_tuning_is_found_by_its_pitches() -> None:
    for tuning in NAMED_TUNINGS.values():
        assert named_tuning(tuning.pitches) is tuning
    assert len({t.pitches for t in NAMED_TUNINGS.values()}) == len(NAMED_TUNINGS)  # (today, no two share)
    unnamed = named_tuning((64, 59, 55, 50, 45, 41))
    assert unnamed == Tuning((64, 59, 55, 50, 45, 41)) and unnamed.name == ""


@pytest.fixture
def copy_first() -> Iterator[Tuning]:
    """NAMED_TUNINGS with a copy of standard tuning put before every other entry, for one test."""
    saved = dict(NAMED_TUNINGS)
    copy = Tuning(STANDARD.pitches, "standard-copy")
    NAMED_TUNINGS.clear()
    NAMED_TUNINGS.update({"standard-copy": copy, **saved})
    tuning_from_labels.cache_clear()
    try:
        yield copy
    finally:
        NAMED_TUNINGS.clear()
        NAMED_TUNINGS.update(saved)
        tuning_from_labels.cache_clear()


def test_the_first_named_tuning_wins_in_every_reader(copy_first: Tuning, tmp_path: Path) -> None:
    assert named_tuning(STANDARD.pitches) is copy_first
    # stave labels, a Tuning: line, the model's header line, a Guitar Pro track, a checkpoint's tuning
    assert tuning_from_labels(("e", "B", "G", "D", "A", "E")) is copy_first
    stave = "".join(f"{label}|--0--|\n" for label in "eBGDAE")
    assert parse_text(stave).tabs[0].tuning is copy_first
    assert parse_tuning("E2 A2 D3 G3 B3 E4") is copy_first
    assert parse_header("%E2A2D3G3B3E4 4/4")[0] is copy_first
    write_gp5(Tab(STANDARD, (Bar(16, (Column(0, (Note(1, 0),)),)),), (4, 4)), tmp_path / "t.gp5")
    assert read_file(tmp_path / "t.gp5").tabs[0].tuning is copy_first
    ckpt = SimpleNamespace(tuning=list(STANDARD.pitches))
    assert resolve_tuning_and_meter(ckpt, None, None, None)[0] is copy_first
