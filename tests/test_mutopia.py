"""The Mutopia guitar collection: LilyPond events, the grid, polyphonic tabs, string numbers, the build.

LilyPond runs here on one hand-made snippet and two short Mutopia pieces (a few seconds in all);
tests that need it or the scores skip where they are absent."""

import gzip
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tabgen import mutopia
from tabgen.pdcorpus import read_corpus
from tabgen.tab.normalize import normalize
from tabgen.tab.parse import join_staves, parse_text
from tabgen.tab.validate import validate
from tabgen.tab.write import to_text

MUTOPIA = Path(__file__).parents[2] / "shared" / "mutopia-guitar"
CORPUS = Path(__file__).parents[1] / "corpora" / "mutopia-guitar.tab.gz"
needs_lilypond = pytest.mark.skipif(shutil.which("lilypond") is None, reason="LilyPond is not installed")
needs_scores = pytest.mark.skipif(not (MUTOPIA / "INDEX.tsv").exists(), reason="no ../shared/mutopia-guitar")
# two short pieces: a pickup and two voices; chords over a bass
SMALL = ["HoretzkyF/horetzky32/horetzky32.ly", "CarcassiM/O60/carcassi-op60-01/carcassi-op60-01.ly"]

# A pickup, a volta repeat with two endings, a chord, two voices, string numbers and a tie.
SNIPPET = r"""\version "2.24.0"
\header { title = "Snippet" composer = "Nobody" maintainer = "A. Tester" }
upper = { \time 3/4 \key g \major \partial 4 g4\3 | \repeat volta 2 { <c e g c'>2 e'8\1 d'8 | }
          \alternative { { c'2. | } { c'4 ~ c'2 | } } }
lower = { \partial 4 r4 | g,2. | a,2. | g,2. | c2. | }
\score { \new Staff { \clef "treble_8" << \upper \\ \lower >> } \layout { } }
"""


def check_tune(text: str) -> None:
    """What every shipped tune must do: parse cleanly, validate, round-trip."""
    parsed = parse_text(text)
    assert parsed.diagnostics == []
    (tab,) = join_staves(parsed.tabs)
    assert validate(normalize(tab)) == []
    assert to_text(normalize(tab)) == text


@pytest.fixture(scope="module")
def snippet(tmp_path_factory):
    if shutil.which("lilypond") is None:
        pytest.skip("LilyPond is not installed")
    path = tmp_path_factory.mktemp("ly") / "snippet.ly"
    path.write_text(SNIPPET)
    return mutopia.parse_events(mutopia.compile_events(path))


def test_snippet_events_unfold_repeats_and_keep_string_numbers(snippet):
    (score,) = snippet
    assert score.key == "G major"
    strings = {(n.pitch, n.string) for n in score.notes if n.string}
    assert strings == {(55, 3), (64, 1)}  # g\3 and e'\1
    grid = mutopia.score_grid(score)
    assert grid.meter == (3, 4)
    chord = [(48, 0), (52, 0), (55, 0), (60, 0), (43, 0)]  # <c e g c'> over G2 in the lower voice
    assert grid.bars == [
        {8: [(55, 3)]},  # the pickup, at the end of its bar
        {0: chord, 8: [(64, 1)], 10: [(62, 0)]},
        {0: [(60, 0), (45, 0)]},  # first ending
        {0: chord, 8: [(64, 1)], 10: [(62, 0)]},  # the repeat played out
        {0: [(60, 0), (48, 0)]},  # second ending: the tied c' is struck once
    ]


def test_snippet_tab_is_playable_and_agrees_with_the_editor(snippet):
    meta = mutopia.piece_meta(
        mutopia.Piece("x.ly", "Nobody", "Snippet", "Public Domain"), {}, "src", "G major"
    )
    tabs = mutopia.score_tabs(snippet[0], "Snippet", meta)
    # in G, but its open-G copy would fret the G2 (C3 over it needs the fifth string): no copy
    assert [t.tuning.name for t, _ in tabs] == ["standard"]
    tab, stats = tabs[0]
    assert stats.transpose == 0
    assert stats.notes == 19 and stats.chords == 4 and stats.dropped == 0 and stats.octave_moves == 0
    assert (stats.string_marks, stats.string_agree, stats.string_followed) == (3, 3, 3)
    for t, _ in tabs:
        text = to_text(t)
        assert (
            "Style: guitar\n" in text and "Composer: Nobody\n" in text and "License: Public Domain\n" in text
        )
        check_tune(text)
    pitches = [sorted(tab.pitch(n) for n in c.notes) for b in tab.bars for c in b.columns]
    assert pitches[1] == [43, 48, 52, 55, 60]


@needs_lilypond
@needs_scores
def test_two_pieces_end_to_end():
    pieces = {p.path: p for p in mutopia.read_index(MUTOPIA)}
    for path in SMALL:
        result = mutopia.build_piece(MUTOPIA, pieces[path])
        assert result["skipped"] == {} and result["tunes"]
        assert result["info"]["licence"] == pieces[path].licence and result["info"]["maintainer"]
        for tune in result["tunes"]:  # the piece, then its copies in other tunings
            check_tune(tune["text"])
            assert f"Source: mutopia:{path.removesuffix('.ly')}\n" in tune["text"]
        tune = result["tunes"][0]
        assert "Tuning: E2 A2 D3 G3 B3 E4\n" in tune["text"]
        # every note of the grid is in the tab, column by column, unless moved or dropped (counted)
        (score,) = mutopia.lilypond_events(MUTOPIA / path)
        grid = mutopia.score_grid(score)
        (tab,) = join_staves(parse_text(tune["text"]).tabs)
        tab = normalize(tab)
        st = tune["stats"]
        want = [
            (b, s, sorted(p + st["transpose"] for p, _ in bar[s]))
            for b, bar in enumerate(grid.bars)
            for s in bar
        ]
        got = [
            (b, c.position, sorted(tab.pitch(n) for n in c.notes))
            for b, bar in enumerate(tab.bars)
            for c in bar.columns
        ]
        assert len(got) == len(want) and st["notes"] == sum(len(p) for *_, p in want)
        differ = [(w, g) for w, g in zip(sorted(want), got, strict=True) if w != g]
        assert len(differ) <= st["octave_moves"] + st["dropped"]
        assert all(w[:2] == g[:2] for w, g in differ)  # same bar and slot
        assert st["chords"] >= 5  # polyphony: columns of two notes and more


@pytest.mark.skipif(not CORPUS.exists(), reason="the collection is not built")
def test_shipped_collection_is_valid_and_attributed():
    manifest = json.loads((CORPUS.parent / "manifest.json").read_text())
    info = manifest["collections"]["mutopia-guitar"]
    tunes = read_corpus(CORPUS)
    assert len(tunes) == info["tunes"] >= 250
    assert len({p["path"] for p in info["pieces"] if p.get("tunes")}) >= 250
    assert all(p["licence"] for p in info["pieces"])
    for text in tunes:
        check_tune(text)
        lines = text.splitlines()
        assert "Style: guitar" in lines and any(line.startswith("License: ") for line in lines)
        if "ShareAlike" in text or "Attribution" in text:
            assert "typeset for the Mutopia Project by" in text
    assert gzip.decompress(CORPUS.read_bytes()).count(b"Title: ") == len(tunes)
    # tabgen's train/validation split groups pieces by title: every version of a source (its other
    # tunings) has the same title, so all of them land on one side
    titles: dict[str, set[str]] = {}
    for text in tunes:
        head = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line and "|" not in line)
        titles.setdefault(head["Source"], set()).add(head["Title"])
    assert all(len(t) == 1 or all(", part " in x for x in t) for t in titles.values())
    tunings = Counter(line for text in tunes for line in text.splitlines() if line.startswith("Tuning: "))
    assert set(tunings) == {f"Tuning: {t}" for t in info["tunings"]} and len(tunings) == 4


def events(key: str, bars: list[list[tuple[int, list[int]]]], meter=(4, 4)) -> mutopia.ScoreEvents:
    """A score made by hand: per bar, (sixteenth, pitches) onsets, all in one voice."""
    from fractions import Fraction

    length = Fraction(*meter)
    notes = [
        mutopia.NoteEvent(1, i * length, Fraction(slot, 16), p, 0, False, meter)
        for i, bar in enumerate(bars)
        for slot, pitches in bar
        for p in pitches
    ]
    return mutopia.ScoreEvents(notes=notes, key=key)


# D major over the open D: D3 F#4 A4 D5 | A2 E4 C#5 | D3 A3 D4 F#4
D_MAJOR = [[(0, [50, 66]), (4, [69]), (8, [74])], [(0, [45, 64, 73])], [(0, [50, 57, 62, 66])]]


def test_a_piece_in_d_is_fretted_again_in_the_d_tunings_on_the_low_d():
    tabs = mutopia.score_tabs(events("D major", D_MAJOR), "In D", (("source", "s"),))
    names = [tab.tuning.name for tab, _ in tabs]
    assert names == ["standard", "drop-d", "dadgad", "open-g"]
    for tab, stats in tabs:
        check_tune(to_text(tab))
        assert tab.title == "In D" and ("source", "s") in tab.meta
        if tab.tuning.name != "standard":
            # both bass D3s now sound on the open sixth string, D2
            assert stats.bass_lowered == 2
            assert [n for n in tab.bars[0].columns[0].notes if n.string == 6] == [mutopia.Note(6, 0)]
            assert mutopia.Note(6, 0) in tab.bars[2].columns[0].notes


def test_tunings_follow_the_key_and_the_range():
    g = [[(0, [43, 59, 67]), (8, [55, 62])]]
    assert [t.tuning.name for t, _ in mutopia.score_tabs(events("G major", g), "t", ())] == [
        "standard",
        "open-g",  # on its open G2; DADGAD has no G below C3, and the piece no D2
    ]
    # a piece in D without a bass D plays no low D: no copies in the D tunings
    high_d = [[(0, [62, 66, 69]), (8, [74])]]
    assert [t.tuning.name for t, _ in mutopia.score_tabs(events("D major", high_d), "t", ())] == ["standard"]
    assert [
        t.tuning.name for t, _ in mutopia.score_tabs(events("A minor", [[(0, [45, 60, 64])]]), "t", ())
    ] == ["standard"]
    # a score that goes down to D2 is in drop D already (its editor's 6 = D)
    low = [[(0, [38, 54, 62])], [(0, [45, 61, 64])]]
    assert [t.tuning.name for t, _ in mutopia.score_tabs(events("D major", low), "t", ())] == [
        "drop-d",
        "dadgad",
        "open-g",
    ]
    # a score written an octave above its sound comes down into the guitar's range
    high = [[(0, [76, 88, 91]), (8, [95])]]
    ((tab, stats),) = mutopia.score_tabs(events("C major", high), "t", ())
    assert stats.transpose == -12 and max(tab.pitch(n) for n in tab.notes) == 83


def test_a_meter_change_cuts_the_score_into_parts():
    from fractions import Fraction

    notes = []
    for i in range(10):  # 5 bars of 3/4, then 5 of 2/4
        meter = (3, 4) if i < 5 else (2, 4)
        start = Fraction(3, 4) * min(i, 5) + Fraction(2, 4) * max(0, i - 5)
        notes.append(mutopia.NoteEvent(1, start, Fraction(0), 64 + i, 0, False, meter))
    tabs = mutopia.score_tabs(mutopia.ScoreEvents(notes=notes), "Waltz", ())
    assert [(t.title, t.meter, len(t.bars)) for t, _ in tabs] == [
        ("Waltz, part 1 of 2", (3, 4), 5),
        ("Waltz, part 2 of 2", (2, 4), 5),
    ]


def test_onsets_finer_than_sixteenths_double_the_note_values():
    from fractions import Fraction

    # a bar of 2/4 with a run of eight 32nds, then a quarter
    run = [mutopia.NoteEvent(1, Fraction(0), Fraction(i, 32), 60 + i, 0, False, (2, 4)) for i in range(8)]
    run.append(mutopia.NoteEvent(1, Fraction(0), Fraction(1, 4), 72, 0, False, (2, 4)))
    grid = mutopia.score_grid(mutopia.ScoreEvents(notes=run))
    assert grid.meter == (2, 2) and grid.stats.augmented == 1
    assert sorted(grid.bars[0]) == [0, 1, 2, 3, 4, 5, 6, 7, 8]


def test_bars_without_onsets_stay_as_empty_bars():
    # a bar, two bars of rest (or of held notes), a bar
    tabs = mutopia.score_tabs(events("C major", [[(0, [60])], [], [], [(4, [64])]]), "t", ())
    (tab, _), *_ = tabs
    assert [len(b.columns) for b in tab.bars] == [1, 0, 0, 1]
    check_tune(to_text(tab))


def test_a_score_entered_at_written_pitch_sounds_an_octave_lower(tmp_path):
    (tmp_path / "a.ly").write_text("\\relative c' { \\clef treble e,4 g b e }")
    assert mutopia.written_pitch(tmp_path)
    for sounding in ('\\clef "treble_8"', "\\clef G_8", "\\transposition c", "\\new TabStaff"):
        (tmp_path / "b.ly").write_text(sounding)
        assert not mutopia.written_pitch(tmp_path)
    # written E3 G3 B3 E4 (the open strings as a guitarist reads them) sound E2 G2 B2 E3
    score = events("E minor", [[(0, [52]), (4, [55]), (8, [59]), (12, [64])]])
    ((tab, stats),) = mutopia.score_tabs(score, "t", (), written=True)
    assert stats.transpose == -12 and sorted(tab.pitch(n) for n in tab.notes) == [40, 43, 47, 52]
    ((tab, stats),) = mutopia.score_tabs(score, "t", ())
    assert stats.transpose == 0
