"""Hypothesis strategies shared by the format and grammar tests: tabs built in code."""

from __future__ import annotations

from hypothesis import strategies as st

from tabgen.tab.types import NAMED_TUNINGS, TECHNIQUES, Bar, Column, Note, Tab, Tuning, slots_per_bar

METERS = [None, (4, 4), (3, 4), (2, 4), (6, 8), (3, 8), (5, 4), (12, 8)]
SMALL_METERS = [(2, 4), (3, 8), (3, 4), None]  # short bars, for the slower grammar walks

tunings = st.one_of(
    st.sampled_from(list(NAMED_TUNINGS.values())),
    st.lists(st.integers(0, 127), min_size=4, max_size=8).map(lambda p: Tuning(tuple(p))),
)


@st.composite
def columns(draw, strings: int, playable: bool, max_span: int = 4) -> tuple[Note, ...]:
    chosen = draw(st.sets(st.integers(1, strings), min_size=1, max_size=strings))
    base = draw(st.integers(1, 24 - max_span))
    frets = st.one_of(st.just(0), st.integers(base, base + max_span)) if playable else st.integers(0, 24)
    return tuple(Note(s, draw(frets), draw(st.sampled_from(sorted(TECHNIQUES)))) for s in sorted(chosen))


@st.composite
def fine_bar(draw, slots: int, times: int, playable: bool) -> Bar:
    """A bar on normalize's finer grid: more notes on the top string than half its slots."""
    width = slots * times
    positions = sorted(draw(st.sets(st.integers(0, width - 1), min_size=width // 2 + 1, max_size=width)))
    frets = st.sampled_from([0, 5, 7]) if playable else st.integers(0, 24)
    return Bar(width, tuple(Column(p, (Note(1, draw(frets)),)) for p in positions))


@st.composite
def tabs(
    draw, playable: bool = False, meters=METERS, max_bars: int = 5, max_span: int = 4, fine: bool = False
) -> Tab:
    tuning = draw(tunings)
    meter = draw(st.sampled_from(meters))
    slots = slots_per_bar(meter)
    bars = []
    for _ in range(draw(st.integers(0 if not playable else 1, max_bars))):
        if fine and draw(st.integers(0, 3)) == 0:
            bars.append(draw(fine_bar(slots, draw(st.sampled_from([2, 4])), playable)))
            continue
        positions = draw(st.sets(st.integers(0, slots - 1), max_size=slots))
        cols = tuple(Column(p, draw(columns(tuning.strings, playable, max_span))) for p in sorted(positions))
        bars.append(Bar(slots, cols))
    return Tab(tuning, tuple(bars), meter, title=draw(st.sampled_from(["", "A tune"])))


def notes_of(tab: Tab) -> list[tuple[int, int, Note]]:
    return [(b, c.position, n) for b, bar in enumerate(tab.bars) for c in bar.columns for n in c.notes]


@st.composite
def parsed_tabs(draw) -> Tab:
    """Tabs as the parser makes them: bars of any character width, not yet on the grid."""
    tuning = draw(tunings)
    bars = []
    for _ in range(draw(st.integers(1, 3))):
        width = draw(st.integers(1, 40))
        positions = draw(st.sets(st.integers(0, width - 1), max_size=6))  # fits the 6 slots of 3/8
        cols = tuple(Column(p, draw(columns(tuning.strings, False))) for p in sorted(positions))
        bars.append(Bar(width, cols))
    return Tab(tuning, tuple(bars), draw(st.sampled_from(METERS)))
