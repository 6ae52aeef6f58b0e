"""Which pieces a fine-tune replays: the shipped pieces most like the user's tabs (tabgen.likeness)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tabgen.corpus import prepare
from tabgen.form import form_figures
from tabgen.formats import get_format
from tabgen.likeness import Target, distance, profile
from tabgen.sources import load_pieces
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Tab
from tabgen.tab.write import to_text
from tests.tab_fixtures import make_tab

ROOT = Path(__file__).resolve().parent.parent
GUITAR = ROOT / "corpora" / "mutopia-guitar.tab.gz"
REALWORLD = ROOT.parent / "shared" / "realworld-tabs"

CHORD = [(1, 0), (2, 1), (3, 0)]  # a C chord's top three strings


def waltz(bars: int, fret: int = 0) -> Tab:
    """3/4 bars of a bass note then two chords: two of three onsets chords."""
    bar = [(0, [(5, 3 + fret)]), (4, [(1, fret), (2, 1 + fret), (3, fret)]), (8, CHORD)]
    return make_tab([bar] * bars, meter=(3, 4), width=12)


def quavers(bars: int, fret: int = 0) -> Tab:
    """4/4 bars of eight single notes: no chords."""
    bar = [(2 * i, [(1 + i % 3, fret + i % 4)]) for i in range(8)]
    return make_tab([bar] * bars, meter=(4, 4))


def test_profile_counts_notes_onsets_and_chords_as_form_does():
    tab = make_tab(
        [[(0, [(5, 3)]), (4, [(1, 0), (2, 1), (6, 0, "x")]), (8, [(6, 0, "x"), (5, 0, "x")])]] * 2,
        meter=(3, 4),
        width=12,
    )
    p = profile(tab)
    # a dead note does not sound: the last column is no onset, the second a two-note chord
    assert (p.meter, p.bars, p.quarters, p.notes, p.onsets, p.chords) == ((3, 4), 2, 6.0, 6, 4, 2)
    assert p.chord_share == pytest.approx(form_figures([tab]).chord_share) == 0.5
    assert p.notes_per_quarter == 1.0 and p.tuning == (64, 59, 55, 50, 45, 40)


def test_the_target_pools_the_folders_pieces_by_bars():
    target = Target.of([profile(waltz(6)), profile(quavers(2))])
    assert target.meters == {(3, 4): 0.75, (4, 4): 0.25}
    # onsets: 6 bars x 3 (2 chords each) and 2 bars x 8 (none)
    assert target.chord_share == pytest.approx(12 / (18 + 16))
    # notes: 6 x 7 and 2 x 8 over 6 x 3 + 2 x 4 quarters
    assert target.notes_per_quarter == pytest.approx((42 + 16) / 26)
    # a piece like the folder's main part is nearer than one like its minor part, and a piece just
    # like the whole folder is nearer than either
    assert distance(profile(waltz(3)), target) < distance(profile(quavers(3)), target)
    same = Target.of([profile(waltz(6))])
    assert distance(profile(waltz(2, fret=2)), same) == pytest.approx(0.0)


def replayed_texts(prepared) -> list[str]:
    text = get_format("time").from_ids(np.fromfile(prepared.dir / "train.bin", dtype=np.uint8))
    return [p for p in text.split("$\n") if p]


@pytest.mark.parametrize("own", [6, 1], ids=["six pieces", "one piece, split in two"])
def test_replay_takes_the_pieces_most_like_the_users_first(tmp_path, monkeypatch, own):
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    user, pool = tmp_path / "mine", tmp_path / "pool"
    user.mkdir(), pool.mkdir()
    for i in range(own):  # a lone piece: its last bars become validation, the rest is the target
        (user / f"waltz{i}.txt").write_text(to_text(waltz(48 // own, fret=i)))
    for i in range(8):  # half like the user's, half not, each as long
        (pool / f"a-waltz{i}.txt").write_text(to_text(waltz(8, fret=i + 6)))
        (pool / f"b-quavers{i}.txt").write_text(to_text(quavers(6, fret=i + 1)))
    prepared = prepare([user], "time", replay=[pool], replay_share=0.3, style="mine", style_letter="a")
    account = prepared.manifest["replay"]
    assert account["order"] == "likeness" and 0 < account["pieces"] < 8
    # every replayed piece is a waltz: the quavers come after all eight waltzes
    assert account["chord_share"]["replayed"] == pytest.approx(account["chord_share"]["user"])
    assert account["notes_per_quarter"]["replayed"] == pytest.approx(account["notes_per_quarter"]["user"])
    headers = [p.split("\n")[0] for p in replayed_texts(prepared)]
    assert all("3/4" in h for h in headers)


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld-tabs is not here")
def test_on_real_tabs_the_replayed_guitar_pieces_are_nearer_the_folder_than_the_collection(
    tmp_path, monkeypatch
):
    """Chordal pieces in 3/4 from classtab: the replayed Mutopia pieces are in 3/4 and closer to
    their chord share than the collection as a whole."""
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tabs"
    folder.mkdir()
    for name in (
        "albeniz-celebre-lowercase-bends",
        "bach-minuet-anh116-nolabels",
        "granados-vals4-powertab-export-pm",
    ):
        (folder / f"{name}.txt").symlink_to(REALWORLD / f"classtab-{name}.txt")
    prepared = prepare([folder], "time", replay=[GUITAR], replay_share=0.4, style="mine", style_letter="a")
    account = prepared.manifest["replay"]
    assert account["pieces"] > 0
    headers = [p.split("\n")[0] for p in replayed_texts(prepared)]
    replayed = [h for h in headers if h.endswith(" g")]  # the guitar collection's letter
    assert len(replayed) == account["pieces"] and all(" 3/4 " in h for h in replayed)
    whole = Target.of(profile(normalize(t)) for t in load_pieces(GUITAR))
    user = account["chord_share"]["user"]
    assert abs(account["chord_share"]["replayed"] - user) < abs(whole.chord_share - user) / 2
