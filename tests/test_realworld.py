"""Real tabs written by other people (../shared/realworld-tabs, see its SOURCES.md).

Every file must be read without a crash; for the guitar files below, stave counts, bar counts and
notes were counted by hand from the file (positions are character offsets inside the bar, after
the bar line). Skipped where the folder is absent; the files are never copied into this repo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabgen.errors import InputError, TabgenError
from tabgen.sources import read_file
from tabgen.tab.types import Tab

FOLDER = Path(__file__).parents[2] / "shared" / "realworld-tabs"
pytestmark = pytest.mark.skipif(not FOLDER.is_dir(), reason="../shared/realworld-tabs is absent")
BROKEN = "classtab-yradier-la-paloma-broken-utf16.txt"


def files() -> list[str]:
    if not FOLDER.is_dir():
        return []
    return sorted(p.name for p in FOLDER.iterdir() if p.name != "SOURCES.md")


def bar_notes(tab: Tab, j: int) -> list[tuple[int, int, int, int, str]]:
    """(position, string, fret, pitch, technique) of bar j."""
    return [
        (c.position, n.string, n.fret, tab.pitch(n), n.technique)
        for c in tab.bars[j].columns
        for n in c.notes
    ]


@pytest.mark.parametrize("name", files())
def test_every_file_is_read_without_a_crash(name: str) -> None:
    try:
        result = read_file(FOLDER / name)
    except InputError as e:
        assert name == BROKEN, e
        assert "broken encoding" in str(e) and name in str(e)
        return
    for tab in result.tabs:
        assert 4 <= tab.tuning.strings <= 8 and tab.bars
    if name.startswith("nontab-"):
        assert result.tabs == []
    else:
        assert result.tabs, name
    assert all(d.line >= 1 for d in result.diagnostics)


def read(name: str) -> list[Tab]:
    return read_file(FOLDER / name).tabs


def test_minuet_without_labels_with_repeat_dots() -> None:
    tabs = read("classtab-bach-minuet-anh116-nolabels.txt")
    assert len(tabs) == 10 and all(len(t.bars) == 4 and t.tuning.name == "standard" for t in tabs)
    fourth = tabs[3]
    assert fourth.line == 57
    # bar 16: G and D carry "*||" repeat dots, which stand where dashes would
    assert (fourth.bars[3].width, fourth.bars[3].repeat_end) == (18, 2)
    assert bar_notes(fourth, 3) == [
        (1, 3, 0, 55, ""),
        (1, 6, 3, 43, ""),
        (7, 4, 0, 50, ""),
        (13, 6, 3, 43, ""),
    ]
    fifth = tabs[4]
    assert fifth.bars[0].repeat_start and not fifth.bars[1].repeat_start
    assert bar_notes(fifth, 0)[:4] == [
        (1, 3, 0, 55, ""),
        (1, 4, 2, 52, ""),
        (4, 3, 2, 57, ""),
        (7, 2, 0, 59, ""),
    ]


def test_krieger_repeats_and_the_fake_text_stave() -> None:
    tabs = read("classtab-krieger-menuett-repeats-legend.txt")
    assert len(tabs) == 4  # 3 staves of music and the legend; the "Author:" stave is text
    second = tabs[1]
    assert (second.line, len(second.bars)) == (24, 7)
    assert (second.bars[0].width, second.bars[0].repeat_end, second.bars[1].repeat_start) == (8, 2, True)
    assert bar_notes(second, 0) == [(3, 3, 2, 57, ""), (3, 5, 0, 45, "")]


def test_bwv995_labels_without_separator() -> None:
    tabs = read("classtab-bach-bwv995-sarabande-nopipe-labels.txt")
    assert len(tabs) == 5
    assert (tabs[0].line, len(tabs[0].bars)) == (9, 4)
    assert bar_notes(tabs[0], 0) == [
        (0, 2, 5, 64, ""),
        (2, 3, 5, 60, ""),
        (4, 3, 1, 56, ""),
        (6, 3, 2, 57, ""),
        (8, 6, 1, 41, ""),
    ]


def test_coste_rhythm_line_above_is_not_notes() -> None:
    tabs = read("classtab-coste-barcarolle-rhythm-harmonics.txt")
    assert len(tabs) == 6
    assert (tabs[0].line, [b.width for b in tabs[0].bars]) == (15, [11] * 6)
    assert bar_notes(tabs[0], 1) == [
        (2, 1, 5, 69, ""),
        (2, 6, 0, 40, ""),
        (8, 1, 4, 68, ""),
        (8, 2, 3, 62, ""),
        (8, 3, 4, 59, ""),
    ]


def test_narvaez_vihuela_f_sharp_label_and_unlabelled_continuation() -> None:
    tabs = read("classtab-narvaez-vihuela-fsharp-tuning.txt")
    assert (tabs[0].line, tabs[0].tuning.name, len(tabs[0].bars)) == (22, "vihuela", 2)
    # the F# line's label is one character wider; its notes still line up with the others
    assert bar_notes(tabs[0], 0) == [
        (1, 2, 0, 59, ""),
        (1, 3, 0, 54, ""),
        (1, 5, 2, 47, ""),
        (15, 2, 0, 59, ""),
        (15, 3, 5, 59, ""),
        (15, 5, 2, 47, ""),
    ]
    assert (tabs[1].line, tabs[1].tuning.name) == (30, "vihuela")


def test_gow_lament_open_c_tuning_with_slurs() -> None:
    tabs = read("classtab-trad-gow-lament-cgdgbe-tuning.txt")
    assert len(tabs) == 13 and {t.tuning.name for t in tabs} == {"cgdgbe"}
    assert (tabs[0].line, [b.width for b in tabs[0].bars]) == (17, [7, 16, 19, 16])
    assert bar_notes(tabs[0], 0) == [(3, 3, 2, 57, ""), (5, 3, 4, 59, "h")]
    assert bar_notes(tabs[0], 1)[4:] == [
        (6, 3, 2, 57, ""),
        (8, 3, 0, 55, "p"),
        (10, 3, 0, 55, ""),
        (10, 4, 2, 52, ""),
        (10, 5, 0, 43, ""),
        (10, 6, 0, 36, ""),  # low C
    ]


def test_mertz_mixed_case_labels_and_two_notes_written_together() -> None:
    tabs = read("classtab-mertz-exercise6-mixedcase-repeats.txt")
    assert len(tabs) == 4
    assert (tabs[0].line, [b.width for b in tabs[0].bars]) == (14, [18] * 4)
    assert bar_notes(tabs[0], 0) == [
        (1, 1, 3, 67, ""),
        (1, 2, 0, 59, ""),
        (1, 3, 0, 55, ""),
        (1, 6, 3, 43, ""),
        (5, 1, 2, 66, ""),
        (8, 1, 0, 64, ""),  # "00": two open e strings, one after the other
        (9, 1, 0, 64, ""),
        (9, 2, 0, 59, ""),
        (9, 3, 0, 55, ""),
        (9, 6, 3, 43, ""),
        (13, 2, 3, 62, ""),
    ]


def test_granados_power_tab_export_palm_mute_line() -> None:
    tabs = read("classtab-granados-vals4-powertab-export-pm.txt")
    assert len(tabs) == 19 and {t.tuning.name for t in tabs} == {"drop-d"}
    fifth = tabs[4]
    assert (fifth.line, len(fifth.bars)) == (55, 4)
    # "PM-----|" two lines above (over a rhythm line) covers the first bar
    assert bar_notes(fifth, 0) == [
        (1, 1, 8, 72, "pm"),
        (3, 1, 6, 70, "pm"),
        (3, 2, 8, 67, "pm"),
        (3, 3, 7, 62, "pm"),
        (5, 1, 5, 69, "pm"),
        (7, 1, 6, 70, "pm"),
        (9, 1, 10, 74, "pm"),
        (12, 1, 8, 72, "pm"),
        (14, 1, 6, 70, "pm"),
    ]


def test_capricho_artificial_harmonics_and_two_digit_pull_offs() -> None:
    tabs = read("tab2xml-tarrega-capricho-arabe-harmonics.txt")
    assert len(tabs) == 38 and {t.tuning.name for t in tabs} == {"drop-d"}
    first = tabs[0]
    assert (first.line, first.meter, len(first.bars)) == (4, (3, 4), 2)
    assert bar_notes(first, 0) == [(3, 4, 7, 57, "[]"), (3, 5, 7, 52, "[]"), (3, 6, 7, 45, "[]")]
    assert [(p, f, t) for p, s, f, _, t in bar_notes(first, 1) if s == 1] == [
        (1, 15, ""),
        (4, 12, "p"),
        (7, 10, ""),
        (10, 9, "p"),
        (12, 12, ""),
        (15, 10, "p"),
        (18, 6, ""),
        (20, 5, "p"),
        (22, 8, ""),
        (24, 6, "p"),
    ]


def test_carcassi_grace_notes_and_remark_after_the_last_bar() -> None:
    tabs = read("classtab-carcassi-valse-grace-dynamics.txt")
    assert len(tabs) == 7
    assert bar_notes(tabs[0], 2) == [
        (0, 1, 2, 66, "g"),  # 2g0: grace note 2 before the open e
        (2, 1, 0, 64, ""),
        (2, 5, 0, 45, ""),
        (4, 2, 4, 63, ""),
        (6, 1, 0, 64, ""),
        (8, 1, 2, 66, ""),
        (10, 1, 3, 67, "h"),
        (12, 1, 0, 64, ""),
    ]
    assert (tabs[6].line, len(tabs[6].bars), tabs[6].bars[1].repeat_end) == (78, 2, 2)


def test_phptabs_restructuredtext_dead_notes_and_rests() -> None:
    tabs = read("phptabs-tuxguitar-style-ascii-export.rst")
    assert len(tabs) == 8
    assert (tabs[0].line, [b.width for b in tabs[0].bars]) == (31, [24, 63])
    assert bar_notes(tabs[0], 0) == [(16, 3, 11, 66, ""), (20, 2, 0, 59, "x")]


def test_markdown_seven_and_eight_strings_and_chord_charts() -> None:
    tabs = read("markdown-7-and-8-string-tabs.md")
    assert [(t.line, t.tuning.name) for t in tabs] == [(6, "seven"), (18, "eight"), (47, "eight")]
    # the F#:| label pushes its line one column right; it is read against its own bar line
    assert [n for n in bar_notes(tabs[2], 0) if n[1] in (1, 8)] == [
        (2, 1, 12, 76, ""),
        (2, 8, 8, 38, ""),
        (5, 1, 15, 79, "h"),
        (8, 1, 12, 76, "p"),
        (14, 1, 12, 76, "~"),
        (20, 1, 15, 79, ""),
        (23, 1, 17, 81, "b"),
        (26, 1, 15, 79, "r"),
    ]


def test_silent_night_tremolo_runs() -> None:
    result = read_file(FOLDER / "classtab-gruber-silent-night-tremolo-digits.txt")
    first = result.tabs[0]
    assert (len(result.tabs), first.line, first.bars[0].repeat_start) == (15, 13, True)
    g_string = [(p, f) for p, s, f, _, _ in bar_notes(first, 0) if s == 3]
    assert g_string[:6] == [(1, 2), (2, 2), (3, 2), (5, 2), (6, 2), (7, 2)]
    assert any(
        d.line == 15 and d.message == "'222' read as fret 2 repeated 3 times" for d in result.diagnostics
    )


def test_o_canada_line_too_long_is_a_diagnostic() -> None:
    result = read_file(FOLDER / "classtab-lavallee-o-canada-lyrics-counts.txt")
    assert len(result.tabs) == 28
    assert [(d.line, "longer" in d.message) for d in result.diagnostics] == [(189, True)]


def test_ave_maria_german_h_and_the_dgdgbe_version() -> None:
    tabs = read("classtab-schubert-ave-maria-german-h-latin1.txt")
    assert (tabs[0].line, tabs[0].tuning.name) == (18, "standard")
    assert {t.tuning.name for t in tabs} == {"standard", "dgdgbe"}


def test_negative_files_hold_no_staves() -> None:
    for name in ("nontab-chordsheet-house-of-rising-sun.txt", "nontab-drum-tab-push.txt"):
        assert read(name) == []
    with pytest.raises(TabgenError, match="broken encoding"):
        read_file(FOLDER / BROKEN)
