"""The public-domain corpus builder: score -> tab round trip, pickups, tuplets, texture, the build."""

import gzip
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.pdcorpus import (
    Skip,
    _write_outputs,
    build,
    collection_files,
    entry_scores,
    measure_shifts,
    read_corpus,
    score_tab,
    staves_of,
)
from tabgen.tab.types import slots_per_bar
from tabgen.tab.validate import is_playable, validate
from tabgen.tab.write import to_text

CORPORA = Path(__file__).parents[1] / "corpora"


@pytest.fixture(scope="session")
def oneills():
    """Tunes 1-100 of O'Neill's 1850 (two ABC books, parsed once: music21 is slow)."""
    scores = []
    for path in collection_files("oneills1850")[:2]:
        scores.extend(entry_scores("oneills1850", path))
    return scores


@pytest.fixture(scope="session")
def ryans():
    """The first 25 tunes of Ryan's Mammoth Collection (one file each)."""
    return [s for path in collection_files("ryansMammoth")[:25] for s in entry_scores("ryansMammoth", path)]


def score_onsets(score):
    """What the tab must hold, read straight from music21: (bar, exact slot, pitches) per onset."""
    from music21 import harmony

    part = score.parts[0]
    ts = part.recurse().getElementsByClass("TimeSignature").first()
    bar_ql = Fraction(ts.numerator * 4, ts.denominator)
    out, held = [], None
    for i, (m, shift) in enumerate(
        zip(part.getElementsByClass("Measure"), measure_shifts(part, bar_ql), strict=True)
    ):
        for n in m.notes:
            if isinstance(n, harmony.ChordSymbol) or n.duration.isGrace:
                continue
            pitches = sorted({p.midi for p in n.pitches})
            tied = n.tie is not None and n.tie.type in ("stop", "continue") and pitches == held
            held = pitches
            if not tied:
                out.append((i, (Fraction(n.offset) + shift) * 4, pitches))
    return out


def tab_onsets(tab):
    return [
        (i, c.position, sorted(tab.pitch(n) for n in c.notes))
        for i, b in enumerate(tab.bars)
        for c in b.columns
    ]


def test_round_trip_of_100_tunes(oneills, ryans):
    converted = skipped = 0
    for number, score in oneills + ryans:
        if converted == 100:
            break
        try:
            tab, stats = score_tab(score, f"tune {number}", texture=False)
        except Skip:
            skipped += 1
            continue
        converted += 1
        want, got = score_onsets(score), tab_onsets(tab)
        assert len(got) == len(want) == stats.notes
        assert len(tab.bars) == len(score.parts[0].getElementsByClass("Measure"))
        off_grid = octave = 0
        for (wb, wslot, wp), (gb, gslot, gp) in zip(want, got, strict=True):
            assert gb == wb
            assert 0 <= gslot < slots_per_bar(tab.meter)
            if gslot != wslot:  # a tuplet or a 32nd, moved to the nearest free slot
                off_grid += 1
                assert abs(gslot - wslot) < 1
            shifted = [p + stats.transpose for p in wp]
            if gp != shifted:
                octave += 1
                assert [p % 12 for p in gp] == [p % 12 for p in shifted]
        assert off_grid <= stats.tuplets
        assert octave <= stats.octave_moves
        assert stats.transpose % 12 == 0
        assert validate(tab) == [] and is_playable(tab)
    assert converted == 100
    assert skipped < 20  # skipped with a reason (32nd runs, mostly)


def test_pickup_is_padded_at_the_start_of_its_bar(oneills):
    # "Fare You Well" (2/4) opens with two sixteenths before the first full bar
    score = dict(oneills)["2"]
    tab, _ = score_tab(score, "x", texture=False)
    assert tab.meter == (2, 4) and tab.title == "Fare You Well"
    first = tab.bars[0]
    assert first.width == 8 and [c.position for c in first.columns] == [6, 7]
    # F#5 G5 in the score, an octave down on guitar
    assert [tab.pitch(n) for c in first.columns for n in c.notes] == [78 - 12, 79 - 12]
    assert ("key", "D major") in tab.meta


def test_triplets_go_to_the_nearest_free_slots_and_are_counted(oneills):
    # tune 20, bar 13 ends with an eighth-note triplet at beats 2, 2 1/3, 2 2/3 (slots 8, 8.67, 9.33)
    score = dict(oneills)["20"]
    tab, stats = score_tab(score, "x", texture=False)
    assert [c.position for c in tab.bars[13].columns] == [0, 8, 9, 10]
    assert stats.tuplets == 2


def test_chorale_is_soprano_plus_bass():
    ((_, score),) = entry_scores("bach", "bach/bwv269")
    tab, stats = score_tab(score, "bach/bwv269", chorale=True)
    soprano, bass = score.parts[0], score.parts[-1]
    assert stats.notes == len([n for n in soprano.flatten().notes if not (n.tie and n.tie.type != "start")])
    # the first full bar: each column's highest pitch is the soprano's, its lowest the bass's
    bar = tab.bars[1]
    sop = {round(n.offset * 4): n.pitch.midi for n in soprano.getElementsByClass("Measure")[1].notes}
    bas = {round(n.offset * 4): n.pitch.midi for n in bass.getElementsByClass("Measure")[1].notes}
    for col in bar.columns:
        pitches = sorted(tab.pitch(n) for n in col.notes)
        if col.position in sop:
            assert pitches[-1] % 12 == sop[col.position] % 12
        if col.position in bas:
            assert pitches[0] % 12 == bas[col.position] % 12
    assert stats.bass_notes > 0 and is_playable(tab)


def test_outputs_remove_duplicates_and_count(tmp_path):
    text = "Title: A\nMeter: 4/4\n\ne|0---|\nB|----|\nG|----|\nD|----|\nA|----|\nE|----|\n"
    same_notes = text.replace("Title: A", "Title: B")
    stats = {"notes": 1, "tuplets": 0, "transpose": 0, "cost": 0.0, "naive_cost": 0.5}
    results = {
        ("c", "f1"): {"tunes": [{"text": text, "stats": stats}], "skipped": {"no meter": 2}},
        ("c", "f2"): {"tunes": [{"text": same_notes, "stats": stats}], "skipped": {}},
    }
    manifest = _write_outputs(tmp_path, {"c": ["f1", "f2"]}, results)
    info = manifest["collections"]["c"]
    assert (info["tunes"], info["duplicates"], info["skipped"]) == (1, 1, {"no meter": 2})
    assert read_corpus(tmp_path / "c.tab.gz") == [text]
    assert staves_of(text) == staves_of(same_notes)


def test_build_command_writes_corpus_and_resumes_from_cache(tmp_path):
    out = tmp_path / "corpus"
    result = CliRunner().invoke(
        app, ["corpus", "build", str(out), "--source", "bach", "--limit", "2", "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["collections"]["bach"]["files"] == 2
    assert manifest["collections"]["bach"]["tunes"] == 2
    tunes = read_corpus(out / "bach.tab.gz")
    assert [t.splitlines()[0] for t in tunes] == ["Title: bach/bwv269", "Title: bach/bwv347"]
    assert all("Source: bach/" in t and "Meter: " in t for t in tunes)
    # a second run finds both files in the cache; a planted cache entry shows it is really used
    cache = next((out / ".cache").rglob("bwv347*.json"))
    planted = json.loads(cache.read_text())
    planted["tunes"][0]["text"] = planted["tunes"][0]["text"].replace("Title: bach/bwv347", "Title: cached")
    cache.write_text(json.dumps(planted))
    manifest = build(out, ["bach"], limit=2, jobs=1)
    assert manifest["files_from_cache"] == 2
    assert "Title: cached" in gzip.decompress((out / "bach.tab.gz").read_bytes()).decode()
    assert not list(out.rglob("*.tmp"))


def test_unknown_collection_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(app, ["corpus", "build", str(tmp_path), "--source", "nope"])
    assert result.exit_code == 1
    assert "unknown collection 'nope'" in result.output


def test_shipped_corpus_reads_back_without_diagnostics_and_is_playable():
    parse = pytest.importorskip("tabgen.tab.parse")
    from tabgen.tab.normalize import normalize

    files = sorted(CORPORA.glob("*.tab.gz"))
    if not files:
        pytest.skip("no corpus built in corpora/")
    manifest = json.loads((CORPORA / "manifest.json").read_text())
    assert manifest["total"]["tunes"] >= 5000
    assert sum(info["tunes"] > 0 for info in manifest["collections"].values()) >= 3
    rng = random.Random(0)
    for path in files:
        tunes = read_corpus(path)
        assert len(tunes) == manifest["collections"][path.name.removesuffix(".tab.gz")]["tunes"]
        for text in rng.sample(tunes, min(60, len(tunes))):
            result = parse.parse_text(text, path.name)
            assert result.diagnostics == [], (text[:200], result.diagnostics[:3])
            (tab,) = parse.join_staves(result.tabs)
            tab = normalize(tab)
            assert validate(tab) == [], text[:200]
            assert tab.title and tab.meter
            assert to_text(tab) == text  # the canonical text reads back to itself
