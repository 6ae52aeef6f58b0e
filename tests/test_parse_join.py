"""join_staves: consecutive staves of one piece become one Tab, bars in reading order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.tab.parse import join_staves, parse_text
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning


def stave(fret: int, label_low: str = "E") -> str:
    """One 6-line stave with one bar whose only note is `fret` on the high e string."""
    return f"e|-{fret}-|\nB|---|\nG|---|\nD|---|\nA|---|\n{label_low}|---|\n\n"


def test_a_long_piece_joins_into_one_tab_with_every_bar_in_order() -> None:
    frets = [k % 25 for k in range(300)]
    tabs = parse_text("Title: Long\n\n" + "".join(stave(f) for f in frets)).tabs
    assert len(tabs) == 300
    (piece,) = join_staves(tabs)
    assert piece.title == "Long" and piece.line == 3 and piece.tuning.name == "standard"
    assert [(n.string, n.fret) for b in piece.bars for c in b.columns for n in c.notes] == [
        (1, f) for f in frets
    ]
    assert [piece.pitch(b.columns[0].notes[0]) for b in piece.bars[:3]] == [64, 65, 66]


def test_pieces_split_where_tuning_or_title_changes_and_keep_their_first_line() -> None:
    text = (
        "Title: A\n\n"
        + stave(1) * 3
        + stave(2, "D") * 2
        + "Title: B\n\n"
        + stave(3) * 2
        + "Meter: 3/4\n\n"
        + stave(4)
    )
    tabs = parse_text(text).tabs
    pieces = join_staves(tabs)
    summary = [
        (p.title, p.tuning.name, p.meter, [b.columns[0].notes[0].fret for b in p.bars], p.line)
        for p in pieces
    ]
    assert summary == [
        ("A", "standard", None, [1, 1, 1], 3),
        ("A", "drop-d", None, [2, 2], 24),
        ("B", "standard", None, [3, 3], 40),
        ("B", "standard", (3, 4), [4], 56),
    ]
    assert pieces[-1] is tabs[-1]  # a piece of one stave is that stave
    assert join_staves([]) == []


def _pairwise(tabs: list[Tab]) -> list[Tab]:
    """The definition: fold each stave into the previous piece when tuning, title, meter and meta agree."""
    joined: list[Tab] = []
    for tab in tabs:
        last = joined[-1] if joined else None
        if last is not None and (last.tuning, last.title, last.meter, last.meta) == (
            tab.tuning,
            tab.title,
            tab.meter,
            tab.meta,
        ):
            joined[-1] = Tab(last.tuning, last.bars + tab.bars, last.meter, last.title, last.meta, last.line)
        else:
            joined.append(tab)
    return joined


STAVES = st.builds(
    lambda tuning, title, meter, meta, fret, line: Tab(
        Tuning.named(tuning), (Bar(4, (Column(1, (Note(1, fret),)),)),), meter, title, meta, line
    ),
    st.sampled_from(["standard", "drop-d"]),
    st.sampled_from(["", "A"]),
    st.sampled_from([None, (3, 4)]),
    st.sampled_from([(), (("key", "G"),)]),
    st.integers(0, 24),
    st.integers(1, 999),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(STAVES, max_size=12))
def test_join_staves_agrees_with_the_pairwise_definition(tabs: list[Tab]) -> None:
    assert join_staves(tabs) == _pairwise(tabs)
