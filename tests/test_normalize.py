"""The grid normalizer: slots, merged columns, fine bars for crowded strings, idempotence."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.tab.normalize import grid_width, normalize, normalize_bar
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
from tabgen.tab.validate import validate
from tabgen.tab.write import to_text

STANDARD = Tuning.named("standard")


def tab_of(*bars, meter=(4, 4)):
    return Tab(STANDARD, tuple(bars), meter)


def string_sequence(tab, string):
    return [n.fret for b in tab.bars for c in b.columns for n in c.notes if n.string == string]


def test_character_offsets_scale_onto_sixteen_slots():
    # a parsed 4/4 bar 32 characters wide: offsets 0, 8, 16, 30 -> slots 0, 4, 8, 15
    bar = Bar(32, tuple(Column(p, (Note(1, f),)) for p, f in [(0, 0), (8, 3), (16, 5), (30, 7)]))
    out = normalize(tab_of(bar))
    assert out.bars[0].width == 16
    assert [(c.position, c.notes[0].fret) for c in out.bars[0].columns] == [(0, 0), (4, 3), (8, 5), (15, 7)]


def test_collision_moves_the_later_note_to_the_next_free_slot():
    # the scaling fallback (where no grid fits): offsets 0 and 1 of a 32-wide bar both floor to
    # slot 0 on string 2
    bar = Bar(32, (Column(0, (Note(2, 1),)), Column(1, (Note(2, 3), Note(5, 3)))))
    out = normalize_bar(bar, 16)
    assert [(c.position, [(n.string, n.fret) for n in c.notes]) for c in out.columns] == [
        (0, [(2, 1), (5, 3)]),
        (1, [(2, 3)]),
    ]


def test_crowded_string_doubles_the_grid_instead_of_dropping_notes():
    # 20 notes on the top string of one 4/4 bar (40 characters): 16 slots cannot hold them
    frets = [i % 13 for i in range(20)]
    bar = Bar(40, tuple(Column(2 * i, (Note(1, f),)) for i, f in enumerate(frets)))
    out = normalize(tab_of(bar))
    assert out.bars[0].width == 32
    assert string_sequence(out, 1) == frets
    assert validate(out) == []
    assert normalize(out) == out


def test_forty_notes_need_sixty_four_slots_and_end_of_bar_crowding_looks_back():
    # 40 notes crammed into the last few characters of a 100-wide bar
    bar = Bar(100, tuple(Column(60 + i, (Note(3, i % 10),)) for i in range(40)))
    out = normalize(tab_of(bar))
    assert out.bars[0].width == 64
    assert sorted(string_sequence(out, 3)) == sorted(i % 10 for i in range(40))
    assert len(out.bars[0].columns) == 40


def test_grid_width():
    bar = Bar(20, tuple(Column(i, (Note(1, 0),)) for i in range(17)))
    assert grid_width(bar, 16) == 32 and grid_width(bar, 12) == 24
    assert grid_width(Bar(5), 12) == 12


def test_canonical_text_has_header_and_staves():
    text = to_text(normalize(Tab(STANDARD, (Bar(24, (Column(6, (Note(6, 3),)),)),), (3, 4), "Waltz")))
    lines = text.splitlines()
    assert lines[:2] == ["Title: Waltz", "Meter: 3/4"]
    e_low = next(line for line in lines if line.startswith("E|"))
    assert "3" in e_low


notes = st.builds(Note, st.integers(1, 6), st.integers(0, 24))


@st.composite
def bars(draw):
    width = draw(st.integers(1, 120))
    positions = sorted(draw(st.sets(st.integers(0, width - 1), max_size=min(width, 60))))
    cols = tuple(Column(p, tuple(draw(st.lists(notes, min_size=1, max_size=3)))) for p in positions)
    return Bar(width, cols)


@settings(max_examples=150, deadline=None)
@given(st.lists(bars(), min_size=1, max_size=4), st.sampled_from([(4, 4), (3, 4), (6, 8), (2, 2)]))
def test_normalize_is_idempotent_and_keeps_every_note(bar_list, meter):
    tab = tab_of(*bar_list, meter=meter)
    once = normalize(tab)
    assert normalize(once) == once
    for before, after in zip(tab.bars, once.bars, strict=True):
        assert sorted(before.notes) == sorted(after.notes)
    assert not [p for p in validate(once) if p.kind == "bar-width"]
