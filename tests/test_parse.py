"""The tab reader on inline fixtures: every feature with the exact notes it must give.

Each fixture is annotated with what a guitarist reads in it; `rows(tab)` lists the notes as
(bar, position, string, fret, pitch, technique) in reading order.
"""

from __future__ import annotations

from tabgen.tab.parse import parse_text
from tabgen.tab.types import Tab


def rows(tab: Tab) -> list[tuple[int, int, int, int, int, str]]:
    return [
        (j, col.position, n.string, n.fret, tab.pitch(n), n.technique)
        for j, bar in enumerate(tab.bars)
        for col in bar.columns
        for n in col.notes
    ]


def one(text: str) -> Tab:
    result = parse_text(text)
    assert len(result.tabs) == 1, result
    return result.tabs[0]


def messages(text: str) -> list[str]:
    return [d.message for d in parse_text(text).diagnostics]


# --- staves, labels, separators -------------------------------------------------------------

BASIC = """\
e|-----0---|--3------|
B|---1-----|---------|
G|-2-------|---------|
D|---------|---------|
A|-3-------|---------|
E|---------|-------10|
"""


def test_basic_labelled_stave_gives_bars_columns_and_pitches() -> None:
    tab = one(BASIC)
    assert tab.tuning.name == "standard" and tab.line == 1
    assert [b.width for b in tab.bars] == [9, 9]
    assert rows(tab) == [
        (0, 1, 3, 2, 57, ""),  # G string fret 2: A3
        (0, 1, 5, 3, 48, ""),  # A string fret 3: C3, struck with it
        (0, 3, 2, 1, 60, ""),  # B string fret 1: C4
        (0, 5, 1, 0, 64, ""),  # open high e
        (1, 2, 1, 3, 67, ""),
        (1, 7, 6, 10, 50, ""),  # two-digit fret on low E
    ]


def test_labels_any_case_separators_and_leading_spaces_give_the_same_notes() -> None:
    variants = [
        BASIC,
        BASIC.replace("e|", "E||")
        .replace("B|", "B||")
        .replace("G|", "G||")
        .replace("D|", "D||")
        .replace("A|", "A||")
        .replace("E|", "E||"),
        "\n".join("   " + line for line in BASIC.splitlines()),
        BASIC.replace("e|", "e:|")
        .replace("B|", "b:|")
        .replace("G|", "g:|")
        .replace("D|", "d:|")
        .replace("A|", "a:|")
        .replace("E|", "E:|"),
        BASIC.replace("e|", "e |")
        .replace("B|", "B |")
        .replace("G|", "G |")
        .replace("D|", "D |")
        .replace("A|", "A |")
        .replace("E|", "E |"),
    ]
    expected = rows(one(BASIC))
    for text in variants:
        assert rows(one(text)) == expected, text


def test_no_labels_and_no_leading_bar_line() -> None:
    text = """\
|-----0---|
|---1-----|
|-2-------|
|---------|
|-3-------|
|---------|
"""
    tab = one(text)
    assert tab.tuning.name == "standard"
    assert rows(tab) == [
        (0, 1, 3, 2, 57, ""),
        (0, 1, 5, 3, 48, ""),
        (0, 3, 2, 1, 60, ""),
        (0, 5, 1, 0, 64, ""),
    ]


def test_no_bar_lines_at_all_is_one_bar() -> None:
    text = """\
----------0-
------1-----
---2--------
------------
0-----------
------------
"""
    tab = one(text)
    assert [b.width for b in tab.bars] == [12]
    assert rows(tab) == [
        (0, 0, 5, 0, 45, ""),
        (0, 3, 3, 2, 57, ""),
        (0, 6, 2, 1, 60, ""),
        (0, 10, 1, 0, 64, ""),
    ]


def test_dash_separator_without_bar_line_bwv995_style() -> None:
    text = "E-----0-\nB-5-----\nG-------\nD-------\nA-------\nE-------\n"
    assert rows(one(text)) == [(0, 0, 2, 5, 64, ""), (0, 4, 1, 0, 64, "")]


# --- tunings -------------------------------------------------------------------------------------


def stave(labels: list[str], body: str = "-0--|") -> str:
    return "".join(f"{label}|{body}\n" for label in labels)


def test_tuning_from_labels() -> None:
    cases = {
        ("e", "B", "G", "D", "A", "E"): ("standard", (64, 59, 55, 50, 45, 40)),
        ("E", "B", "G", "D", "A", "D"): ("drop-d", (64, 59, 55, 50, 45, 38)),
        ("E", "H", "G", "D", "A", "E"): ("standard", (64, 59, 55, 50, 45, 40)),  # German H
        ("E", "B", "F#", "D", "A", "E"): ("vihuela", (64, 59, 54, 50, 45, 40)),  # two-character label
        ("E", "B", "G", "D", "G", "C"): ("cgdgbe", (64, 59, 55, 50, 43, 36)),
        ("D", "A", "G", "D", "A", "D"): ("dadgad", (62, 57, 55, 50, 45, 38)),
        ("Eb", "Bb", "Gb", "Db", "Ab", "Eb"): ("half-step-down", (63, 58, 54, 49, 44, 39)),
        ("G", "D", "A", "E"): ("bass-4", (43, 38, 33, 28)),
        ("G", "D", "A", "E", "B"): ("bass-5", (43, 38, 33, 28, 23)),
        ("e", "B", "G", "D", "A", "E", "B"): ("seven", (64, 59, 55, 50, 45, 40, 35)),  # low B is B1
        ("e", "B", "G", "D", "A", "E", "B", "F#"): ("eight", (64, 59, 55, 50, 45, 40, 35, 30)),
    }
    for labels, (name, pitches) in cases.items():
        tab = one(stave(list(labels)))
        assert (tab.tuning.name, tab.tuning.pitches) == (name, pitches), labels
        # every string's open note sits at position 1 with its open-string pitch
        assert [r[4] for r in rows(tab)] == list(pitches)


def test_unlabelled_stave_tuning_from_string_count_tuning_line_or_previous_stave() -> None:
    assert one(stave([""] * 4)).tuning.name == "bass-4"
    assert one(stave([""] * 7)).tuning.name == "seven"
    assert one("Tuning: drop-d\n\n" + stave([""] * 6)).tuning.name == "drop-d"
    assert one("Tuning: D A D G B E\n" + stave([""] * 6)).tuning.pitches == (64, 59, 55, 50, 45, 38)
    assert one("Tuning: C2 G2 D3 G3 B3 E4\n" + stave([""] * 6)).tuning.name == "cgdgbe"
    # labels only on the first stave: continuation staves keep its tuning
    tabs = parse_text(stave(["E", "B", "G", "D", "A", "D"]) + "\n" + stave([""] * 6)).tabs
    assert [t.tuning.name for t in tabs] == ["drop-d", "drop-d"]


def test_tuning_line_gives_octaves_the_labels_cannot() -> None:
    # open-string pitches an octave apart that the walk-down rule would not guess
    tab = one("Tuning: E2 A2 D3 G3 B3 E5\n" + stave(["E", "B", "G", "D", "A", "E"]))
    assert tab.tuning.pitches == (76, 59, 55, 50, 45, 40)


def test_labels_that_disagree_with_the_tuning_line_win_with_a_diagnostic() -> None:
    text = "Tuning: standard\n" + stave(["E", "B", "G", "D", "A", "D"])
    result = parse_text(text)
    assert result.tabs[0].tuning.name == "drop-d"
    assert any("disagree" in d.message for d in result.diagnostics)


# --- notes and techniques ------------------------------------------------------------------------


def test_connecting_techniques_go_on_the_note_reached() -> None:
    lines = [
        "e|-5h7p5-7b9r7-|",
        "B|-3/5-5\\3-3s5-|",
        "G|-5~---t12-x--|",
        "D|-------------|",
        "A|-------------|",
        "E|-------------|",
    ]
    tab = one("\n".join(lines))
    assert rows(tab) == [
        (0, 1, 1, 5, 69, ""),
        (0, 1, 2, 3, 62, ""),
        (0, 1, 3, 5, 60, "~"),  # vibrato
        (0, 3, 1, 7, 71, "h"),  # hammered on to 7
        (0, 3, 2, 5, 64, "/"),  # slid up to 5
        (0, 5, 1, 5, 69, "p"),  # pulled off to 5
        (0, 5, 2, 5, 64, ""),
        (0, 7, 1, 7, 71, ""),
        (0, 7, 2, 3, 62, "\\"),  # slid down to 3
        (0, 7, 3, 12, 67, "t"),  # tapped 12
        (0, 9, 1, 9, 73, "b"),  # bent up to the pitch of fret 9
        (0, 9, 2, 3, 62, ""),
        (0, 10, 3, 0, 55, "x"),  # dead note
        (0, 11, 1, 7, 71, "r"),  # released to 7
        (0, 11, 2, 5, 64, "s"),
    ]


def test_harmonics_and_grace_notes() -> None:
    text = "\n".join(
        [
            "e|-<12>--[7]--|",
            "B|------------|",
            "G|-2g0--------|",
            "D|------------|",
            "A|------------|",
            "E|------------|",
        ]
    )
    assert rows(one(text)) == [
        (0, 1, 3, 2, 57, "g"),  # grace note 2, then 0
        (0, 2, 1, 12, 76, "<>"),  # natural harmonic at 12: digits start at offset 2
        (0, 3, 3, 0, 55, ""),
        (0, 8, 1, 7, 71, "[]"),  # artificial harmonic
    ]


def test_ghost_notes_in_parentheses() -> None:
    text = "\n".join(
        [
            "e|-(5)p4--(12)-h(7)-|",
            "B|---------(10)-----|",
            "G|-(3-------8---(x)-|",
            "D|------------------|",
            "A|------------------|",
            "E|------------------|",
        ]
    )
    result = parse_text(text)
    assert not result.diagnostics
    assert rows(result.tabs[0]) == [
        (0, 2, 1, 5, 69, "()"),  # ghost note 5: digits start at offset 2, as in a harmonic
        (0, 2, 3, 3, 58, ""),  # "(3" unclosed: a plain note
        (0, 5, 1, 4, 68, "p"),  # pulled off from the ghost note
        (0, 9, 1, 12, 76, "()"),  # two digits, one ghost note
        (0, 10, 2, 10, 69, "()"),  # a ghost note in a chord with a plain 8
        (0, 10, 3, 8, 63, ""),
        (0, 15, 1, 7, 71, "()"),  # h before the parenthesis: a ghost note, the h not kept
        (0, 15, 3, 0, 55, "x"),  # (x): a dead note, as before
    ]
    beyond = parse_text(text.replace("(12)", "(30)"))
    assert [d.message for d in beyond.diagnostics] == ["ghost note at fret 30 is beyond fret 24; skipped"]


def test_grace_note_written_before_its_digits() -> None:
    text = "\n".join(["e|-g0h1--g12p10-|", *(f"{s}|--------------|" for s in "BGDAE")])
    assert rows(one(text)) == [
        (0, 2, 1, 0, 64, "g"),  # g0: a grace note 0, then the hammer-on to 1
        (0, 4, 1, 1, 65, "h"),
        (0, 8, 1, 12, 76, "g"),
        (0, 11, 1, 10, 74, "p"),
    ]


PM_ABOVE = """\
  PM-----
e|-0-0-0-3-|
B|---------|
G|---------|
D|---------|
A|---------|
E|-0-0-0-3-|
"""


def test_palm_mute_line_above_or_below_mutes_plain_notes_under_it() -> None:
    expected = [
        (0, 1, 1, 0, 64, "pm"),
        (0, 1, 6, 0, 40, "pm"),
        (0, 3, 1, 0, 64, "pm"),
        (0, 3, 6, 0, 40, "pm"),
        (0, 5, 1, 0, 64, "pm"),
        (0, 5, 6, 0, 40, "pm"),
        (0, 7, 1, 3, 67, ""),  # after the PM run: let ring
        (0, 7, 6, 3, 43, ""),
    ]
    assert rows(one(PM_ABOVE)) == expected
    below = "\n".join(PM_ABOVE.splitlines()[1:] + [PM_ABOVE.splitlines()[0]])
    assert rows(one(below)) == expected


def test_two_digit_frets_up_to_24() -> None:
    text = "e|-12-24-15p12-|\n" + "".join(f"{s}|{'-' * 13}|\n" for s in "BGDAE")
    assert rows(one(text)) == [
        (0, 1, 1, 12, 76, ""),
        (0, 4, 1, 24, 88, ""),
        (0, 7, 1, 15, 79, ""),
        (0, 10, 1, 12, 76, "p"),
    ]


def test_ambiguous_digit_runs_follow_the_documented_rule_with_diagnostics() -> None:
    text = "e|-222-101310-353-35-00-|\n" + "".join(f"{s}|{'-' * 22}|\n" for s in "BGDAE")
    result = parse_text(text)
    assert [(p, f) for _, p, s, f, _, _ in rows(result.tabs[0]) if s == 1] == [
        (1, 2), (2, 2), (3, 2),  # 222: fret 2 three times (tremolo)
        (5, 10), (7, 13), (9, 10),  # 101310: 10 13 10
        (12, 3), (13, 5), (14, 3),  # 353: 3 5 3
        (16, 3), (17, 5),  # 35 is no fret: 3 and 5
        (19, 0), (20, 0),  # 00: two open strings
    ]  # fmt: skip
    found = [d.message for d in result.diagnostics]
    assert found == [
        "'222' read as fret 2 repeated 3 times",
        "'101310' read as frets 10 13 10",
        "'353' read as frets 3 5 3",
        "'35' read as frets 3 and 5",
        "'00' read as frets 0 and 0",
    ]
    assert [d.column for d in result.diagnostics] == [4, 8, 15, 19, 22]


# --- bars and repeats --------------------------------------------------------------------------


def test_repeat_marks_are_recorded_and_not_part_of_the_bar() -> None:
    text = """\
e||:-0--:||-1--|
B||:----:||----|
G||:----:||----|
D||:----:||----|
A||:----:||----|
E||:----:||----|
"""
    tab = one(text)
    assert [(b.width, b.repeat_start, b.repeat_end) for b in tab.bars] == [(4, True, 2), (4, False, 0)]
    assert rows(tab) == [(0, 1, 1, 0, 64, ""), (1, 1, 1, 1, 65, "")]


def test_repeat_dots_on_the_middle_strings_and_repeat_counts() -> None:
    text = """\
                  x3
e||---0--|--1--||
B||------|-----||
G||o-----|----o||
D||o-----|----o||
A||------|-----||
E||------|-----||
"""
    tab = one(text)
    # the dots stand where a dash would: the widths stay those of the outer lines
    assert [(b.width, b.repeat_start, b.repeat_end) for b in tab.bars] == [(6, True, 0), (5, False, 3)]
    assert rows(tab) == [(0, 3, 1, 0, 64, ""), (1, 2, 1, 1, 65, "")]
    star = text.replace("o", "*").replace("                  x3\n", "")
    assert [(b.repeat_start, b.repeat_end) for b in one(star).bars] == [(True, 0), (False, 2)]
    trailing = "\n".join(line + ("  x2" if k == 0 else "") for k, line in enumerate(star.splitlines()))
    assert one(trailing).bars[1].repeat_end == 2


def test_a_count_at_a_closing_repeat_is_a_repeat_count_not_a_note() -> None:
    text = """\
e||:-0--1---4||--3--|
B||:--------*||-----|
G||*--------*||-----|
D||*--------*||-----|
A||:---------||-----|
E||:---------||-----|
"""
    tab = one(text)
    assert [(b.repeat_start, b.repeat_end) for b in tab.bars] == [(True, 4), (False, 0)]
    assert rows(tab) == [(0, 1, 1, 0, 64, ""), (0, 4, 1, 1, 65, ""), (1, 2, 1, 3, 67, "")]
    # without the closing repeat it is a note
    plain = "e||-0--1---4||--3--|\n" + "".join(f"{s}||---------||-----|\n" for s in "BGDAE")
    assert (0, 8, 1, 4, 68, "") in rows(one(plain))
    # (x3) above the closing bar line, or after it
    above = "           (x3)\n" + plain.replace("---4||", "----||")
    assert [b.repeat_end for b in one(above).bars] == [3, 0]
    after = plain.replace("--3--|\n", "--3--| (x3)\n", 1)
    assert [b.repeat_end for b in one(after).bars] == [0, 3]


def test_uneven_line_is_read_with_a_diagnostic() -> None:
    text = """\
e|--0----|---3---|
B|---1----|--0---|
G|-------|-------|
D|-------|-------|
A|-------|-------|
E|-------|-------|
"""
    result = parse_text(text)
    tab = result.tabs[0]
    assert [b.width for b in tab.bars] == [8, 7]
    assert rows(tab) == [
        (0, 2, 1, 0, 64, ""),
        (0, 3, 2, 1, 60, ""),
        (1, 2, 2, 0, 59, ""),
        (1, 3, 1, 3, 67, ""),
    ]
    assert [(d.line, d.message) for d in result.diagnostics] == [
        (2, "bar 1 is 1 character(s) longer on this line"),
        (2, "bar 2 is 1 character(s) shorter on this line"),
    ]


# --- what is not a stave ---------------------------------------------------------------------


AROUND = """\
Title: House by the river
Key: Am
Source: traditional

   Am          C        D
   There is a house in New Orleans
   1 & 2 & 3 & 4 &
   |   |   |   |
e|-0-------|-0-------|
B|---1-----|---1-----|
G|-----2---|-----0---|
D|---------|---------|
A|-0-------|---------|
E|---------|-3-------|
   p i m a   p i m a
   1 2 3 4   1 2 3 4
"""


def test_chord_names_lyrics_counts_rhythm_and_fingering_lines_are_not_notes() -> None:
    result = parse_text(AROUND)
    tab = result.tabs[0]
    assert tab.title == "House by the river"
    assert tab.meta == (("key", "Am"), ("source", "traditional"))
    assert tab.line == 9
    assert rows(tab) == [
        (0, 1, 1, 0, 64, ""),
        (0, 1, 5, 0, 45, ""),
        (0, 3, 2, 1, 60, ""),
        (0, 5, 3, 2, 57, ""),
        (1, 1, 1, 0, 64, ""),
        (1, 1, 6, 3, 43, ""),
        (1, 3, 2, 1, 60, ""),
        (1, 5, 3, 0, 55, ""),
    ]
    assert result.diagnostics == []


def test_look_alikes_are_not_staves() -> None:
    markdown_table = "| scale | notes |\n|:-----:|:-----:|\n| C | C D E |\n|:----:|:----:|\n"
    drums = "HH|x-x-x-x-x-x-x-x-|\nSD|----o-------o---|\nBD|o-------o-------|\n" + "CC|x-----------|\n"
    drums_single = "C |X---------X-|\nH |--x-x-x-x---|\nB |o-------o---|\nA |x-------x---|\n"
    chords = (
        "x32010\n022000\nBm7: X-2-0-2-0-2-X\nEm9: 0-2-0-0-0-2-0\n"
        + "Dmaj7: X-X-0-2-2-2-5\nF#maj7: 2-4-4-3-2-2-X-X\n"
    )
    prose = "Play it - slowly - and then - faster.\n" * 6
    for text in (markdown_table, drums, drums_single, chords, prose):
        assert parse_text(text).tabs == [], text


def test_a_stave_of_words_is_not_read() -> None:
    text = """\
E-|---Author:-Johann-Krieger--b.1651-d.1735--------|
B-|---Transcription-by:-Carlos-Cordero-------------|
G-|---E-Mail:-cachome@telcel.net.ve----------------|
D-|---Look-More-Classical-Guitar-Tabs-at:----------|
A-|---http://www.geocities.com/vienna/waltz/2067---|
E-|---Enjoy!---------------------------------------|
"""
    assert parse_text(text).tabs == []


# --- metadata and pieces -----------------------------------------------------------------------


def test_header_blocks_set_metadata_and_a_new_title_starts_a_new_piece() -> None:
    text = (
        "Title: One\nMeter: 3/4\nKey: G\nTuning: drop-d\n\n"
        + stave([""] * 6)
        + "\n"
        + stave([""] * 6)
        + "\nTitle: Two\nTime Signature: 6/8\nSource: book\n\n"
        + stave([""] * 6)
    )
    tabs = parse_text(text).tabs
    assert [(t.title, t.meter, t.meta, t.tuning.name) for t in tabs] == [
        ("One", (3, 4), (("key", "G"),), "drop-d"),
        ("One", (3, 4), (("key", "G"),), "drop-d"),
        ("Two", (6, 8), (("source", "book"),), "standard"),
    ]
    assert [t.line for t in tabs] == [6, 13, 24]


def test_two_header_fields_on_one_line() -> None:
    tab = one("Tuning: D A D G B E     Time: 3/4\n\n" + stave([""] * 6))
    assert (tab.tuning.name, tab.meter) == ("drop-d", (3, 4))


def test_eight_string_lines_in_a_row_without_labels_is_one_stave_and_twelve_are_two() -> None:
    assert [t.tuning.strings for t in parse_text(stave([""] * 8)).tabs] == [8]
    assert [t.tuning.strings for t in parse_text(stave([""] * 12)).tabs] == [6, 6]
    labelled = stave(["e", "B", "G", "D", "A", "E"]) * 2
    assert [t.line for t in parse_text(labelled).tabs] == [1, 7]


def test_tuning_line_values() -> None:
    from tabgen.tab.labels import parse_tuning

    assert parse_tuning("EADGBE (Standard)").name == "standard"
    assert parse_tuning("Drop D tuning").name == "drop-d"
    assert parse_tuning("DADGAD").name == "dadgad"
    assert parse_tuning("C G D G B E").name == "cgdgbe"
    assert parse_tuning("B1 E2 A2 D3 G3 B3 E4").name == "seven"
    result = parse_text("Tuning: banjo\n" + stave(["e", "B", "G", "D", "A", "E"]))
    assert result.tabs[0].tuning.name == "standard"
    assert [(d.line, d.message) for d in result.diagnostics] == [
        (1, "unknown tuning 'banjo'; the tuning comes from the stave labels")
    ]


def test_two_staves_without_a_blank_line_between_split_where_the_labels_repeat() -> None:
    upper = stave(["E", "B", "G", "D", "A", "E"])
    tabs = parse_text(upper * 2).tabs
    assert [(t.line, t.tuning.name) for t in tabs] == [(1, "standard"), (7, "standard")]
    assert [d.message for d in parse_text(upper * 2).diagnostics] == [
        "12 stave lines in a row; read as staves of 6/6 lines"
    ]


def test_prose_with_dashes_is_not_a_stave() -> None:
    changelog = "  * Release 17.0.13:\n" + "".join(f"    - CVE-2024-2120{k}\n" for k in range(4))
    assert parse_text(changelog).tabs == []
    remark = BASIC.replace("G|-2-------|---------|", "G|-2-------|---------|(repeat from line 3)")
    assert rows(one(remark)) == rows(one(BASIC))


def test_a_labelled_stave_of_dead_notes_is_guitar_not_drums() -> None:
    # Only x marks, but the labels spell standard tuning: a strummed mute, read as dead notes.
    text = "e|x---x---|\nB|x---x---|\nG|--------|\nD|--------|\nA|--------|\nE|--------|\n"
    (tab,) = parse_text(text).tabs
    assert [(n.string, n.fret, n.technique) for n in tab.notes] == [(1, 0, "x"), (2, 0, "x")] * 2
