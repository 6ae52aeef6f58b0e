"""tabgen.sources: one rule for a Guitar Pro file's tracks, the same in every command that reads one.

A two-track GP5 (lead and rhythm guitar, both in standard tuning, so that nothing but the rule keeps
them apart) is built with the project's own writer (`render.gp.tab_to_song`) and pyguitarpro."""

from __future__ import annotations

import json
from pathlib import Path

import guitarpro as gp
import numpy as np
import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.compose import read_prime
from tabgen.corpus import prepare
from tabgen.formats import ALPHABET, get_format
from tabgen.render.gp import tab_to_song
from tabgen.sources import load_piece, load_pieces, read_file
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

runner = CliRunner()
STANDARD = Tuning.named("standard")
# track 1, the lead: a run on the top strings; track 2, the rhythm part: bass notes and a chord
LEAD = Tab(
    STANDARD,
    (
        Bar(16, (Column(0, (Note(1, 0),)), Column(4, (Note(1, 2),)), Column(8, (Note(1, 3),)))),
        Bar(16, (Column(0, (Note(2, 1),)), Column(8, (Note(1, 5),)))),
    ),
    (4, 4),
    "Duet",
)
RHYTHM = Tab(
    STANDARD,
    (
        Bar(16, (Column(0, (Note(6, 3),)), Column(8, (Note(5, 2), Note(4, 0))))),
        Bar(16, (Column(0, (Note(5, 0),)), Column(8, (Note(6, 1),)))),
    ),
    (4, 4),
    "Duet",
)


def frets(tab: Tab) -> list[tuple[int, int]]:
    return [(n.string, n.fret) for n in tab.notes]


@pytest.fixture
def duet(tmp_path: Path) -> Path:
    """A GP5 file with LEAD as track 1 and RHYTHM as track 2."""
    song = tab_to_song(LEAD)
    second = tab_to_song(RHYTHM).tracks[0]
    second.song, second.number, second.name = song, 2, "Rhythm"
    second.channel.channel = second.channel.effectChannel = 1
    for measure, header in zip(second.measures, song.measureHeaders, strict=True):
        measure.header = header
    song.tracks.append(second)
    path = tmp_path / "duet.gp5"
    gp.write(song, str(path), version=(5, 1, 0))
    return path


def test_the_fixture_holds_two_tracks_that_only_the_rule_keeps_apart(duet: Path) -> None:
    source = read_file(duet)
    assert source.tracks and source.what == "track"
    lead, rhythm = source.tabs
    assert [frets(lead), frets(rhythm)] == [frets(normalize(LEAD)), frets(normalize(RHYTHM))]
    # same tuning, meter, title and metadata: join_staves alone would make one 4-bar piece of them
    assert (lead.tuning, lead.meter, lead.title, lead.meta) == (
        rhythm.tuning,
        rhythm.meter,
        rhythm.title,
        rhythm.meta,
    )
    assert lead.tuning.name == "standard"


def test_check_lists_each_track_as_a_stave(duet: Path) -> None:
    res = runner.invoke(app, ["check", "--json", str(duet)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["staves"] == [{"tuning": list(STANDARD.pitches), "bars": 2}] * 2
    by_stave = [[(n["string"], n["fret"]) for n in report["notes"] if n["stave"] == i] for i in (0, 1)]
    assert by_stave == [frets(LEAD), frets(RHYTHM)]


def test_render_takes_track_1_and_names_the_others(duet: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    res = runner.invoke(app, ["render", str(duet), "--tab", str(out)])
    assert res.exit_code == 0, res.output
    assert "rendering track 1 of 2" in res.stderr
    (back,) = read_file(out).pieces()
    assert frets(back) == frets(LEAD) and len(back.bars) == 2
    res = runner.invoke(app, ["render", str(duet), "--piece", "2", "--tab", str(out)])
    assert res.exit_code == 0, res.output
    assert frets(read_file(out).pieces()[0]) == frets(RHYTHM)
    res = runner.invoke(app, ["render", str(duet), "--all-pieces", "--tab", str(out)])
    assert res.exit_code == 0, res.output
    assert [frets(read_file(tmp_path / f"out-{k}.txt").pieces()[0]) for k in (1, 2)] == [
        frets(LEAD),
        frets(RHYTHM),
    ]
    res = runner.invoke(app, ["render", str(duet), "--piece", "3", "--tab", str(out)])
    assert res.exit_code == 1 and "no track 3; the file has 2" in res.output


def test_the_corpus_learns_each_track_as_its_own_piece(duet: Path, tmp_path: Path) -> None:
    prepared = prepare([duet], cache_dir=tmp_path / "cache", workers=1)
    m = prepared.manifest
    assert m["pieces"]["total"] == 2 and m["bars"]["total"] == 4  # two pieces of 2 bars, not one of 4
    fmt = get_format("time")  # (prepare's default)
    texts = []
    for split in (prepared.train_bin, prepared.val_bin):
        text = "".join(ALPHABET[i] for i in np.fromfile(split, dtype=np.uint8))
        texts += [p + "$\n" for p in text.split("$\n") if p]
    got = sorted(frets(fmt.decode(t).tab) for t in texts)
    assert got == sorted([frets(LEAD), frets(RHYTHM)])


def test_compose_primes_with_track_1(duet: Path) -> None:
    prime = read_prime(duet)
    assert frets(prime) == frets(LEAD) and len(prime.bars) == 2
    assert load_piece(duet) == (prime, "rendering track 1 of 2")


def test_load_pieces_gives_the_tracks_in_order(duet: Path) -> None:
    assert [frets(t) for t in load_pieces(duet)] == [frets(LEAD), frets(RHYTHM)]


def test_a_text_file_joins_its_staves_of_one_piece(tmp_path: Path) -> None:
    stave = "e|-0---2---|\nB|---------|\nG|---------|\nD|---------|\nA|---------|\nE|---------|\n\n"
    path = tmp_path / "two-staves.txt"
    path.write_text("Title: One\n" + stave + stave)
    source = read_file(path)
    assert not source.tracks and source.what == "piece"
    assert len(source.tabs) == 2  # check's staves
    (piece,) = source.pieces()
    assert len(piece.bars) == 2
