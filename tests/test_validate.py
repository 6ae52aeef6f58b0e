"""The validator's rules and the repair of unplayable columns."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
from tabgen.tab.validate import Problem, is_playable, repair, validate

STANDARD = Tuning.named("standard")


def col(position, *notes):
    return Column(position, tuple(Note(s, f) for s, f in notes))


def tab_of(*bars, meter=(4, 4), tuning=STANDARD):
    return Tab(tuning, tuple(bars), meter)


def kinds(tab, **kw):
    return [(p.bar, p.position, p.string, p.kind) for p in validate(tab, **kw)]


def test_clean_tab_has_no_problems():
    bar = Bar(16, (col(0, (1, 0), (2, 1), (3, 0), (4, 2), (5, 3)), col(8, (1, 3))))  # open C, then G
    tab = tab_of(bar, bar)
    assert validate(tab) == [] and is_playable(tab)


def test_empty_piece():
    assert kinds(tab_of()) == [(-1, -1, -1, "empty")]
    assert kinds(tab_of(Bar(16), Bar(16))) == [(-1, -1, -1, "empty")]


def test_bar_widths_must_be_the_grid_or_a_fine_grid():
    bars = (Bar(16, (col(0, (1, 0)),)), Bar(12, (col(0, (1, 0)),)), Bar(32, (col(0, (1, 0)),)))
    assert kinds(tab_of(*bars)) == [(1, -1, -1, "bar-width")]
    # a parsed tab without a meter is not a grid tab: any widths
    assert validate(Tab(STANDARD, bars)) == []


def test_fret_range_is_configurable():
    tab = tab_of(Bar(16, (col(3, (2, 15)),)))
    assert validate(tab) == []
    assert kinds(tab, max_fret=12) == [(0, 3, 2, "fret-range")]


def test_two_notes_on_one_string():
    tab = tab_of(Bar(16, (col(5, (1, 3), (1, 5), (2, 0)),)))
    assert kinds(tab) == [(0, 5, 1, "same-string")]
    assert not is_playable(tab)


def test_span_excludes_open_strings_and_is_configurable():
    reach = tab_of(Bar(16, (col(0, (1, 0), (2, 9), (6, 5)),)))  # frets 5 and 9: 4 apart, open e
    assert validate(reach) == []
    assert kinds(reach, max_span=3) == [(0, 0, -1, "span")]
    far = tab_of(Bar(16, (col(4, (1, 12), (6, 3)),)))
    assert kinds(far) == [(0, 4, -1, "span")]
    assert "9 frets apart" in str(validate(far)[0])


def test_note_on_a_string_the_tuning_lacks():
    tab = tab_of(Bar(16, (col(0, (6, 3)),)))
    object.__setattr__(tab, "tuning", Tuning.named("bass-4"))  # as a careless caller might
    assert kinds(tab) == [(0, 0, 6, "no-string")]


def test_problem_reads_well():
    p = Problem(2, 7, 3, "fret-range", "fret 30 is above the highest fret 24")
    assert str(p) == "bar 3, column 7, string 3: fret 30 is above the highest fret 24"


def test_repair_refrets_a_stretch_keeping_pitches():
    # C4 on B1 with C3 on the low E's 8th fret: 7 frets apart; C3 belongs on A3
    tab = tab_of(Bar(16, (col(0, (2, 1), (6, 8)), col(4, (1, 0)))))
    fixed, messages = repair(tab)
    assert [(n.string, n.fret) for n in fixed.bars[0].columns[0].notes] == [(2, 1), (5, 3)]
    assert fixed.bars[0].columns[1] == tab.bars[0].columns[1]
    assert is_playable(fixed)
    assert messages == ["bar 1, column 0: re-fretted 2 note(s) within reach"]


def test_repair_splits_two_notes_on_one_string_onto_two_strings():
    tab = tab_of(Bar(16, (col(2, (1, 3), (1, 5)),)))  # G4 and A4 both on the top string
    fixed, _ = repair(tab)
    notes = fixed.bars[0].columns[0].notes
    assert sorted(fixed.pitch(n) for n in notes) == [67, 69]
    assert is_playable(fixed)


def test_repair_drops_and_reports_a_note_no_hand_can_play():
    # seven different pitches cannot sit on six strings
    tab = tab_of(Bar(16, (col(0, (1, 0), (1, 5), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)),)))
    fixed, messages = repair(tab)
    assert len(fixed.bars[0].columns[0].notes) == 6 and is_playable(fixed)
    assert any("dropped 1 note" in m for m in messages)


notes = st.builds(Note, st.integers(1, 6), st.integers(0, 24))


@st.composite
def tabs(draw):
    bars = []
    for _ in range(draw(st.integers(0, 3))):
        width = draw(st.sampled_from([12, 16, 20, 32]))
        positions = sorted(draw(st.sets(st.integers(0, width - 1), max_size=6)))
        chord = st.lists(notes, min_size=1, max_size=4)
        bars.append(Bar(width, tuple(Column(p, tuple(draw(chord))) for p in positions)))
    return Tab(STANDARD, tuple(bars), draw(st.sampled_from([None, (4, 4), (3, 4)])))


@settings(max_examples=150, deadline=None)
@given(tabs())
def test_validate_never_raises_and_repair_is_always_playable(tab):
    problems = validate(tab)
    assert all(p.kind in {"empty", "bar-width", "fret-range", "same-string", "span"} for p in problems)
    fixed, _ = repair(tab)
    assert is_playable(fixed)
    assert len(fixed.notes) <= len(tab.notes)
