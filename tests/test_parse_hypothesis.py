"""Properties: the reader never crashes, and stave text written by to_text reads back as the tab."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tabgen.errors import TabgenError
from tabgen.tab.decode import decode_bytes
from tabgen.tab.normalize import normalize
from tabgen.tab.parse import join_staves, parse_text
from tabgen.tab.types import NAMED_TUNINGS, TECHNIQUES, Bar, Column, Note, Tab, slots_per_bar
from tabgen.tab.write import _fits_at_offsets, to_text

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(SETTINGS, max_examples=80)
PLAYED = sorted(set(TECHNIQUES) - {"pm"})  # palm mute is given per column, as the PM line does
STAVE_ALPHABET = "-|0123456789hpbr/\\s~xtg<>[]():*o eEBGDAH#PM.x\n"
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFG0123456789", min_size=1, max_size=12).map(
    str.strip
)


@st.composite
def columns(draw: st.DrawFn, position: int, strings: int) -> Column:
    chosen = draw(st.lists(st.integers(1, strings), min_size=1, max_size=strings, unique=True))
    muted = draw(st.booleans())
    notes = []
    for s in chosen:
        technique = draw(st.sampled_from(PLAYED))
        fret = 0 if technique == "x" else draw(st.integers(0, 24))
        if muted and technique == "":
            technique = "pm"
        notes.append(Note(s, fret, technique))
    return Column(position, tuple(sorted(notes)))


@st.composite
def tabs(draw: st.DrawFn, grid: bool, spaced: bool = True) -> Tab:
    tuning = draw(st.sampled_from(list(NAMED_TUNINGS.values())))
    meter = draw(st.sampled_from([None, (4, 4), (3, 4), (6, 8), (2, 4)]))
    bars = []
    for _ in range(draw(st.integers(1, 6))):
        if grid:
            width = slots_per_bar(meter)
            positions = sorted(draw(st.sets(st.integers(0, width - 1), max_size=width)))
        elif spaced:  # columns far enough apart to be written at their own offsets
            gaps = draw(st.lists(st.integers(5, 9), max_size=8))
            positions = [1 + sum(gaps[:k]) for k in range(len(gaps))]
            width = (positions[-1] if positions else 0) + draw(st.integers(5, 9))
        else:
            width = draw(st.integers(1, 40))
            positions = sorted(draw(st.sets(st.integers(0, width - 1), max_size=8)))
        cols = tuple(draw(columns(p, tuning.strings)) for p in positions)
        bars.append(Bar(width, cols, draw(st.booleans()), draw(st.sampled_from([0, 2, 3, 4]))))
    title = draw(st.one_of(st.just(""), WORD))
    meta = draw(
        st.lists(
            st.tuples(st.sampled_from(["key", "source"]), WORD.filter(bool)),
            max_size=2,
            unique_by=lambda kv: kv[0],
        )
    )
    return Tab(tuning, tuple(bars), meter, title, tuple(meta))


def read_back(tab: Tab) -> Tab:
    result = parse_text(to_text(tab))
    pieces = join_staves(result.tabs)
    assert len(pieces) == 1, to_text(tab)
    return replace(pieces[0], line=0)


@ROUND_TRIP
@given(tabs(grid=False))
def test_tabs_written_at_their_offsets_read_back_exactly(tab: Tab) -> None:
    assume(all(_fits_at_offsets(b, tab.tuning.strings) for b in tab.bars))
    back = read_back(tab)
    assert back.tuning == tab.tuning and back.meter == tab.meter and back.title == tab.title
    assert back.meta == tab.meta
    assert back.bars == tab.bars
    assert back == tab


@ROUND_TRIP
@given(tabs(grid=True))
def test_grid_tabs_read_back_to_the_same_canonical_tab(tab: Tab) -> None:
    assert normalize(read_back(tab)) == normalize(tab)


@ROUND_TRIP
@given(tabs(grid=False, spaced=False))
def test_normalize_is_idempotent(tab: Tab) -> None:
    once = normalize(tab)
    assert normalize(once) == once
    assert len(once.notes) == len(tab.notes)


@SETTINGS
@given(st.text(max_size=600))
def test_any_text_is_read_without_an_exception(text: str) -> None:
    result = parse_text(text)
    assert all(t.tuning.strings >= 4 for t in result.tabs)


@SETTINGS
@given(st.lists(st.text(alphabet=STAVE_ALPHABET, max_size=40), max_size=14).map("\n".join))
def test_stave_like_text_is_read_without_an_exception(text: str) -> None:
    for tab in parse_text(text).tabs:
        for bar in tab.bars:
            assert all(0 <= c.position < bar.width for c in bar.columns)


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes_decode_and_read_or_raise_tabgen_error(data: bytes) -> None:
    try:
        text = decode_bytes(data, "x.txt")
    except TabgenError as e:
        assert str(e).startswith("x.txt: ")
        return
    assert "\r" not in text
    parse_text(text, "x.txt")
