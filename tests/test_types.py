import pytest

from tabgen.errors import TabgenError
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, slots_per_bar
from tabgen.tab.write import to_text


def test_named_tunings_have_expected_low_strings():
    assert Tuning.named("standard").pitches == (64, 59, 55, 50, 45, 40)
    assert Tuning.named("drop-d").pitches[-1] == 38
    assert Tuning.named("bass-4").pitches == (43, 38, 33, 28)
    assert Tuning.named("seven").pitches[-1] == 35  # B1
    assert Tuning.for_strings(8).strings == 8
    with pytest.raises(TabgenError, match="unknown tuning"):
        Tuning.named("banjo")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Note(0, 3),
        lambda: Note(1, 25),
        lambda: Note(1, 3, "q"),
        lambda: Tuning((64, 59, 55)),
        lambda: Bar(4, (Column(5, (Note(1, 0),)),)),
        lambda: Tab(Tuning.named("bass-4"), (Bar(4, (Column(0, (Note(6, 0),)),)),)),
    ],
)
def test_invariants_raise_tabgen_errors(make):
    with pytest.raises(TabgenError):
        make()


def test_pitch_follows_tuning():
    t = Tab(Tuning.named("drop-d"), ())
    assert t.pitch(Note(6, 0)) == 38
    assert t.pitch(Note(1, 12)) == 76


def test_slots_per_bar():
    assert slots_per_bar((4, 4)) == 16
    assert slots_per_bar((3, 4)) == 12
    assert slots_per_bar((6, 8)) == 12
    assert slots_per_bar(None) == 16


def test_grid_tab_writes_cells_and_normalizes_back():
    bar = Bar(12, (Column(0, (Note(1, 0), Note(6, 3))), Column(2, (Note(5, 12, "h"),))))
    tab = Tab(Tuning.named("standard"), (bar,), meter=(3, 4))
    text = to_text(tab, header=False)
    lines = text.splitlines()
    assert lines[0].startswith("e|0-") and lines[5].startswith("E|3-")
    assert "h12" in lines[4]
    assert len({len(line) for line in lines[:6]}) == 1
    assert normalize(tab) == tab
