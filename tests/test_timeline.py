"""The timeline plays repeats out: `|: :|` sections and counts the right number of times."""

from __future__ import annotations

from fractions import Fraction

from tabgen.render.midi import tab_to_midi
from tabgen.render.timeline import played_bars, timeline
from tabgen.tab.parse import parse_text
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

STANDARD = Tuning.named("standard")


def bar(fret: int, start: bool = False, end: int = 0) -> Bar:
    return Bar(16, (Column(0, (Note(1, fret),)),), start, end)


def test_played_bars_repeats_sections():
    tab = Tab(STANDARD, (bar(0), bar(1, True), bar(2, end=3), bar(3), bar(4, end=2)), (4, 4))
    # bars 2-3 three times in all; then bar 4-5 twice (back to the bar after the last closing repeat)
    assert played_bars(tab) == [0, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4]
    assert played_bars(Tab(STANDARD, (bar(0), bar(1)))) == [0, 1]


def test_midi_plays_a_repeated_section_and_a_count():
    text = """\
e|--0--|:-1--|--3--:|--5--|
B|-----|:----|-----:|-----| x3
G|-----|-----|------|-----|
D|-----|-----|------|-----|
"""
    (tab,) = parse_text(text).tabs
    assert [(b.repeat_start, b.repeat_end) for b in tab.bars] == [
        (False, 0),
        (True, 0),
        (False, 2),
        (False, 3),
    ]
    events = timeline(tab)
    # 0, then 1 3 twice, then everything since the last closing repeat (5) three times in all
    assert [e.note.fret for e in events] == [0, 1, 3, 1, 3, 5, 5, 5]
    assert [e.start for e in events] == [Fraction(4 * k) for k in range(8)]
    midi = tab_to_midi(tab, 120)
    starts = sorted(n.start for i in midi.instruments for n in i.notes)
    assert starts == [2.0 * k for k in range(8)]  # a 4/4 bar is 2 s at 120 BPM
