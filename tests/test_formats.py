import numpy as np
import pytest
from formats_strategies import notes_of, parsed_tabs, tabs, tunings
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import TabValueError
from tabgen.formats import ALPHABET, DEFAULT_FORMAT, FORMATS, get_format
from tabgen.formats.base import FIRST_ALPHABET, TECH_CHARS, parse_header
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

FORMAT_NAMES = sorted(FORMATS)

# One bar of 3/4 (12 slots): top E open and low G together, then a hammer-on to fret 12 on B
# with fret 14 on G, then a dead note on the low E at the last slot.
BAR = Bar(
    12,
    (
        Column(0, (Note(1, 0), Note(6, 3))),
        Column(3, (Note(2, 12, "h"), Note(3, 14))),
        Column(11, (Note(6, 0, "x"),)),
    ),
)
TAB = Tab(Tuning.named("standard"), (BAR, BAR), meter=(3, 4), title="Two bars")


def test_registry_and_unknown_name():
    assert {"time", "line"} <= set(FORMATS)
    assert get_format(DEFAULT_FORMAT) is FORMATS[DEFAULT_FORMAT]
    with pytest.raises(TabValueError, match="known formats: line, time"):
        get_format("morse")


def test_alphabet_is_stable_and_holds_newline():
    for fmt in FORMATS.values():
        assert fmt.alphabet == ALPHABET
    assert ALPHABET.index("\n") == 0 and len(set(ALPHABET)) == len(ALPHABET) < 256
    # the ghost-note character is appended: the first 50 ids (the bundled model's) never move
    assert len(FIRST_ALPHABET) == 50 and ALPHABET == FIRST_ALPHABET + TECH_CHARS["()"]
    for name, version in [("time", 1), ("time", 2), ("line", 1)]:
        assert get_format(name, version).alphabet == FIRST_ALPHABET


GHOSTS = Tab(
    Tuning.named("standard"),
    (Bar(16, (Column(0, (Note(1, 5, "()"), Note(2, 6, "()"))), Column(4, (Note(1, 4, "p"),)))),),
    (4, 4),
)


@pytest.mark.parametrize(("name", "old"), [("time", 2), ("time", 1), ("line", 1)])
def test_ghost_notes_round_trip_and_are_plain_notes_in_the_first_alphabet(name, old):
    fmt = get_format(name)
    text = fmt.encode(GHOSTS)
    assert "5(" in text and "6(" in text
    assert notes_of(fmt.decode(text).tab) == notes_of(normalize(GHOSTS))
    grammar = fmt.grammar(GHOSTS.tuning, GHOSTS.meter, 1)
    grammar.feed(text)
    assert grammar.done
    older = get_format(name, old)
    old_text = older.encode(GHOSTS)
    assert "(" not in old_text
    assert old_text == older.encode(
        Tab(
            GHOSTS.tuning,
            (Bar(16, (Column(0, (Note(1, 5), Note(2, 6))), Column(4, (Note(1, 4, "p"),)))),),
            (4, 4),
        )
    )
    older.to_ids(old_text)  # every character in the first alphabet
    assert [n.technique for n in older.decode(old_text).tab.notes] == ["", "", "p"]
    with pytest.raises(TabValueError, match="'\\(' is not allowed"):
        older.grammar(GHOSTS.tuning, GHOSTS.meter, 1).feed(text)


def test_time_major_text_of_a_known_tab():
    bar = "0----3\n\n\n-cHe\n" + "\n" * 7 + "-----0X\n"
    # version 1: bars written out, plain bar lines
    text = get_format("time", 1).encode(TAB)
    assert text == "%E2A2D3G3B3E4 3/4\n" + bar + "|\n" + bar + "|\n$\n"
    # version 2: the bars to come on each bar line, the second bar a repeat of the first, a style
    text = get_format("time").encode(TAB, style="g")
    assert text == "%E2A2D3G3B3E4 3/4 g\n" + bar + "|1\n#1\n|0\n$\n"
    assert get_format("time").decode(text).tab.meta == (("style", "guitar"),)  # as a Style: line reads


def test_time_major_v2_repeats_the_nearest_equal_bar_and_writes_silent_bars_out():
    other = Bar(12, (Column(4, (Note(1, 5),)),))
    silent = Bar(12)
    tab = Tab(TAB.tuning, (BAR, other, BAR, silent, silent, other, BAR) + (other,) * 4, (3, 4))
    fmt = get_format("time")
    text = fmt.encode(tab)
    lines = [line for line in text.splitlines() if line and line[0] in "#|"]
    # bar 3 = bar 1 (2 back), bars 4-5 silent (written out), bar 6 = bar 2 (4 back), bar 7 = bar 3
    # (the nearest equal, 4 back), bars 8-11 = the bar before
    assert lines == ["|9", "|9", "#2", "|8", "|7", "|6", "#4", "|5", "#4", "|4"] + ["#2", "|3"] + [
        "#1",
        "|2",
        "#1",
        "|1",
        "#1",
        "|0",
    ]
    decoded = fmt.decode(text)
    assert decoded.problems == [] and decoded.tab.bars == tab.bars
    grammar = fmt.grammar(tab.tuning, tab.meter, len(tab.bars))
    grammar.feed(text)
    assert grammar.done


def test_time_major_v2_refuses_a_repeat_that_reaches_before_the_first_bar():
    fmt = get_format("time")
    text = fmt.encode(Tab(TAB.tuning, (BAR, BAR), (3, 4)))
    d = fmt.decode(text.replace("#1", "#2"))
    assert d.bars_valid == 1 and "bar 2: bad bar repeat '#2'" in d.problems
    grammar = fmt.grammar(TAB.tuning, (3, 4), 2)
    with pytest.raises(TabValueError, match="'2' is not allowed"):
        grammar.feed(text.replace("#1", "#2"))


def test_older_time_version_is_still_there_and_unknown_versions_are_refused():
    assert get_format("time", 1).version == 1 and get_format("time", 2).version == 2
    assert get_format("time").version == 3 and get_format("line").version == 2
    assert get_format("line", 1).version == 1
    with pytest.raises(TabValueError, match="no version 7"):
        get_format("time", 7)


def test_line_major_text_of_a_known_tab():
    text = get_format("line").encode(TAB)
    assert text.splitlines() == [
        "%E2A2D3G3B3E4 3/4",
        "e|0-----------|0-----------|",
        "B|---cH--------|---cH--------|",
        "G|---e--------|---e--------|",
        "D|------------|------------|",
        "A|------------|------------|",
        "E|3----------0X|3----------0X|",
        "$",
    ]


def test_line_major_wraps_four_bars_per_stave():
    tab = Tab(TAB.tuning, (BAR,) * 9, (3, 4))
    text = get_format("line").encode(tab)
    staves = text.split("\n\n")
    assert len(staves) == 3
    assert [s.splitlines()[-6 if i else -6].count("|") - 1 for i, s in enumerate(staves)] == [4, 4, 1]
    assert get_format("line").bars_in(text) == 9


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_known_tab_decodes_back_with_all_bars_valid(name):
    fmt = get_format(name)
    decoded = fmt.decode(fmt.encode(TAB))
    assert decoded.problems == []
    assert (decoded.bars_total, decoded.bars_valid) == (2, 2)
    assert decoded.tab.bars == TAB.bars
    assert decoded.tab.tuning == Tuning.named("standard")  # name restored from the pitches
    assert decoded.tab.meter == (3, 4)
    assert fmt.bars_in(fmt.encode(TAB) * 3) == 6


def test_header_reads_sharps_low_octaves_and_no_meter():
    tuning = Tuning((61, 56, 11, 0))
    assert get_format("time").header(tuning, None) == "%C-1B-1G#3C#4 -\n"
    assert parse_header("%C-1B-1G#3C#4 -") == (tuning, None, None)
    assert parse_header("%E2A2D3G3B3E4 12/8")[1] == (12, 8)
    assert parse_header("%E2A2D3G3B3E4 3/4 g")[1:] == ((3, 4), "g")
    bad_headers = ["%", "%H2 4/4", "%E2A2D3 4/4", "%E2A2D3G3B3E4 4/3", "%E2A2D3G3B3E4 x", "E2A2D3G3 4/4"]
    for bad in bad_headers + ["%E2A2D3G3B3E4 4/4 gg", "%E2A2D3G3B3E4 4/4 z"]:
        with pytest.raises(TabValueError):
            parse_header(bad)


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=60, deadline=None)
@given(tab=st.one_of(tabs(fine=True), parsed_tabs()))
def test_round_trip_gives_the_normalized_tab(name, tab):
    fmt = get_format(name)
    text = fmt.encode(tab)
    decoded = fmt.decode(text)
    want = normalize(tab)
    assert decoded.problems == []
    assert decoded.bars_total == decoded.bars_valid == len(want.bars) == fmt.bars_in(text)
    assert decoded.tab.tuning.pitches == want.tuning.pitches
    assert decoded.tab.meter == want.meter
    assert notes_of(decoded.tab) == notes_of(want)
    assert fmt.encode(decoded.tab) == text
    assert fmt.from_ids(fmt.to_ids(text)) == text


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(ALPHABET + "x\r\t|%é"), max_size=300))
def test_decode_never_raises_on_arbitrary_text(name, text):
    fmt = get_format(name)
    decoded = fmt.decode(text)
    assert 0 <= decoded.bars_valid <= decoded.bars_total
    assert decoded.bars_valid == 0 or decoded.tab is not None
    fmt.bars_in(text)


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=50, deadline=None)
@given(tab=tabs(max_bars=3), data=st.data())
def test_decode_survives_damage_and_counts_bad_bars(name, tab, data):
    fmt = get_format(name)
    text = fmt.encode(tab)
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.text(alphabet=st.sampled_from(ALPHABET), max_size=3))
    damaged = text[:at] + insert + text[at + cut :]
    decoded = fmt.decode(damaged)
    assert 0 <= decoded.bars_valid <= decoded.bars_total
    if decoded.problems == []:
        assert decoded.bars_valid == decoded.bars_total == len(decoded.tab.bars)
    else:
        assert decoded.tab is None or len(decoded.tab.bars) == decoded.bars_total


def test_decode_reports_what_is_wrong():
    time = get_format("time", 1)
    text = time.encode(TAB)
    broken = text.replace("-cHe\n", "-cHHe\n", 1)
    d = time.decode(broken)
    assert (d.bars_total, d.bars_valid) == (2, 1)
    assert any("bar 1 slot 4" in p and "technique" in p for p in d.problems)
    assert time.decode(text[:-2]).problems == ["no end marker line '$'"]
    unclosed = time.decode(text[: text.index("|\n$")])  # the last bar's slot lines, then nothing
    assert (unclosed.bars_total, unclosed.bars_valid) == (2, 1)
    assert unclosed.problems == ["no end marker line '$'", "bar 2: no closing '|' line"]
    d = time.decode("no header here\n|\n")
    assert d.tab is None and d.bars_total == 1 and d.bars_valid == 0
    line = get_format("line")
    broken = line.encode(TAB).replace("G|---e----", "G|---e---", 1)
    d = line.decode(broken)
    assert (d.bars_total, d.bars_valid) == (2, 1)
    assert any("bar 1 string 3: 11 slots, not 12" in p for p in d.problems)
    text = line.encode(TAB)
    cut = text[: text.rindex("0X|")]  # the low E line stops inside bar 2
    d = line.decode(cut)
    assert (d.bars_total, d.bars_valid) == (2, 1)
    assert "bar 2 string 6: missing, or no '|' after it" in d.problems
    d = line.decode(cut.replace("G|", "D|"))
    assert d.bars_valid == 0 and "stave 1 line 3: label 'D', not 'G'" in d.problems


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_decode_checks_span_only_when_asked(name):
    fmt = get_format(name)
    wide = Tab(TAB.tuning, (Bar(16, (Column(0, (Note(1, 1), Note(2, 9))),)),))
    text = fmt.encode(wide)
    assert fmt.decode(text).problems == []
    d = fmt.decode(text, max_span=4)
    assert d.bars_valid == 0 and "span more than 4" in d.problems[0]


def test_to_ids_refuses_characters_outside_the_alphabet():
    fmt = get_format("time")
    ids = fmt.to_ids("%E2\n")
    assert ids.dtype == np.uint8 and ids.tolist() == [ALPHABET.index(c) for c in "%E2\n"]
    with pytest.raises(TabValueError, match="outside"):
        fmt.to_ids("héllo")


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_fine_bars_keep_their_width(name):
    fmt = get_format(name)
    # 20 notes on the top string of one 4/4 bar: normalize puts the bar on a 32-slot grid
    busy = Bar(40, tuple(Column(2 * i, (Note(1, i % 5),)) for i in range(20)))
    tab = Tab(TAB.tuning, (busy, BAR), (4, 4))
    text = fmt.encode(tab)
    decoded = fmt.decode(text)
    assert decoded.problems == []
    assert [b.width for b in decoded.tab.bars] == [32, 16]
    assert decoded.tab.bars == normalize(tab).bars


def test_bar_of_a_width_off_the_grids_is_invalid():
    time = get_format("time", 1)
    text = time.encode(TAB)
    d = time.decode(text.replace("\n|\n", "\n\n|\n", 1))  # 13 slot lines in a 3/4 bar
    assert (d.bars_total, d.bars_valid) == (2, 1)
    assert "bar 1: 13 slot lines, not 12 (or 2, 4, ... times)" in d.problems


def test_package_docstring_example_runs():
    import doctest

    import tabgen.formats

    result = doctest.testmod(tabgen.formats)
    assert result.attempted >= 1 and result.failed == 0


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=100, deadline=None)
@given(tuning=tunings, body=st.text(alphabet=st.sampled_from(ALPHABET), max_size=400))
def test_decode_after_a_good_header_accounts_for_every_bar(name, tuning, body):
    fmt = get_format(name)
    decoded = fmt.decode(fmt.header(tuning, (3, 8)) + body, max_span=4)
    assert decoded.tab is not None and decoded.tab.tuning.pitches == tuning.pitches
    assert 0 <= decoded.bars_valid <= decoded.bars_total == len(decoded.tab.bars)
    assert (decoded.bars_valid == decoded.bars_total) or decoded.problems
