import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tabgen.corpus import find_tab_files, prepare
from tabgen.errors import InputError
from tabgen.formats import ALPHABET, get_format
from tabgen.prepared import load_prepared
from tabgen.tab.types import Note

REALWORLD = Path(__file__).parents[2] / "shared" / "realworld-tabs"


def stave(title: str, top: str, low: str) -> str:
    """A titled 6-line stave of two 11-character bars; `top` and `low` are the e and E lines."""
    return f"""Title: {title}
e|{top}|
B|---1-------|-----------|
G|-0---------|-----------|
D|-----------|-----------|
A|-----------|-----------|
E|{low}|
"""


TUNES = {
    "a.txt": stave("Little tune", "-----0-----|-0---------", "-----------|-3---------"),
    "nested/deeper/b.tab": stave("Second tune", "-----2-----|-0---------", "-----------|-5---------"),
    "notes.md": "# My tab\n\n```\n"
    + stave("Third", "-----3-----|-1---------", "-----------|-0---------")
    + "```\n",
    "README": stave("Fourth", "-----5-----|-3---------", "-----------|-1---------"),
    "copy/a-again.txt": stave("Little tune", "-----0-----|-0---------", "-----------|-3---------"),
}
GZ_TUNE = stave("Zipped", "-----7-----|-5---------", "-----------|-0---------")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "tabs"
    for name, text in TUNES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "zipped.tab.gz").write_bytes(gzip.compress(GZ_TUNE.encode()))
    (root / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (root / "prose.txt").write_text("Just some words about guitars.\nNo stave here.\n")
    (root / "cover.png").write_bytes(b"\x89PNG\r\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD.txt").write_text(TUNES["a.txt"])
    return root


def pieces(path: Path) -> list[str]:
    text = "".join(ALPHABET[i] for i in np.fromfile(path, dtype=np.uint8))
    return [p + "$\n" for p in text.split("$\n") if p]


def test_find_tab_files_walks_recursively_and_sorts(folder):
    names = [p.relative_to(folder).as_posix() for p in find_tab_files([folder])]
    assert names == sorted(names)
    assert set(names) == set(TUNES) | {"zipped.tab.gz", "binary.txt", "prose.txt"}
    assert find_tab_files([folder / "cover.png"]) == [folder / "cover.png"]  # named directly: read it
    with pytest.raises(InputError, match="nowhere: no such file or folder"):
        find_tab_files([folder / "nowhere"])


def test_prepare_counts_skips_and_splits(folder, tmp_path):
    seen = []
    prepared = prepare(
        [folder], fmt="time", cache_dir=tmp_path / "cache", workers=1, progress=lambda *a: seen.append(a)
    )
    m = prepared.manifest
    assert not prepared.cached
    assert [(done, total) for done, total, _ in seen] == [(i, 8) for i in range(1, 9)]
    assert sorted(Path(f) for _, _, f in seen) == find_tab_files([folder])
    assert len(m["files"]["read"]) == 6
    reasons = {Path(s["path"]).name: s["reason"] for s in m["files"]["skipped"]}
    assert reasons.keys() == {"binary.txt", "prose.txt"}
    assert "binary" in reasons["binary.txt"] and reasons["prose.txt"] == "no stave found"
    assert [Path(i["path"]).name for i in m["files"]["ignored"]] == ["cover.png"]
    assert m["staves"] == 6 and m["pieces"]["total"] == 5 and m["pieces"]["duplicates"] == 1
    assert m["bars"]["total"] == 10  # five distinct pieces of two bars
    assert m["pieces"]["val"] >= 1 and m["pieces"]["train"] + m["pieces"]["val"] == 5
    assert m["bars"]["train"] + m["bars"]["val"] == 10
    assert m["chars"]["train"] + m["chars"]["val"] == m["chars"]["total"]
    assert os.path.getsize(prepared.train_bin) == m["chars"]["train"]
    assert os.path.getsize(prepared.val_bin) == m["chars"]["val"]
    assert m["tuning"] == [64, 59, 55, 50, 45, 40]
    train, val = ({k: m[k][side] for k in ("pieces", "bars", "chars")} for side in ("train", "val"))
    # every piece decodes cleanly, and no piece is on both sides
    fmt = get_format("time")
    train_pieces, val_pieces = pieces(prepared.train_bin), pieces(prepared.val_bin)
    assert len(train_pieces) == train["pieces"] and len(val_pieces) == val["pieces"]
    assert not set(train_pieces) & set(val_pieces)
    decoded = [fmt.decode(p) for p in train_pieces + val_pieces]
    assert all(d.problems == [] and d.bars_valid == 2 for d in decoded)
    first_notes = sorted(d.tab.bars[1].columns[0].notes for d in decoded)
    assert (Note(1, 7), Note(2, 1), Note(3, 0)) not in first_notes  # bar 1 of the zipped tune is not bar 2
    assert (Note(1, 5), Note(6, 0)) in first_notes  # bar 2 of the zipped tune: e 5 and E 0
    vocab = json.loads(prepared.vocab_path.read_text())
    # a user's folder: no piece has a style (no Style: line, not a shipped collection)
    assert vocab == {"format": "time", "format_version": fmt.version, "alphabet": ALPHABET, "styles": {}}
    assert json.loads(prepared.manifest_path.read_text()) == m
    summary = prepared.summary()
    assert (
        summary["files_read"] == 6 and len(summary["files_skipped"]) == 2 and summary["bars"]["total"] == 10
    )
    assert prepared.ids("train").shape == (train["chars"],)


def test_second_call_is_a_cache_hit_and_a_change_is_not(folder, tmp_path):
    cache = tmp_path / "cache"
    first = prepare([folder], cache_dir=cache, workers=1)
    second = prepare([folder], cache_dir=cache, workers=1)
    assert second.cached and second.dir == first.dir and second.manifest == first.manifest
    assert sorted(p.name for p in cache.iterdir()) == [first.path.name]  # no temp folder left behind
    moved = shutil.copytree(folder, tmp_path / "moved")
    elsewhere = prepare([moved], cache_dir=cache, workers=1)
    assert not elsewhere.cached and elsewhere.manifest["hash"] == first.manifest["hash"]  # same bytes
    assert prepare([moved], fmt="line", cache_dir=cache, workers=1).manifest["hash"] != first.manifest["hash"]
    (folder / "a.txt").write_text(TUNES["a.txt"] + "\n")
    third = prepare([folder], cache_dir=cache, workers=1)
    assert not third.cached and third.path != first.path
    assert third.manifest["hash"] != first.manifest["hash"]
    assert load_prepared(first.path).manifest == first.manifest


def test_split_is_deterministic_and_follows_the_seed(folder, tmp_path):
    a = prepare([folder], cache_dir=tmp_path / "c1", workers=1)
    b = prepare([folder], cache_dir=tmp_path / "c2", workers=2)  # worker processes: same bytes
    assert a.train_bin.read_bytes() == b.train_bin.read_bytes()
    assert a.val_bin.read_bytes() == b.val_bin.read_bytes()
    splits = {
        prepare([folder], cache_dir=tmp_path / f"s{s}", seed=s, workers=1).val_bin.read_bytes()
        for s in range(6)
    }
    assert len(splits) > 1


def test_same_title_stays_on_one_side(tmp_path):
    root = tmp_path / "tabs"
    root.mkdir()
    for i in range(12):  # two transcriptions of each of six tunes, in different files
        top = f"-----{i % 10}-----|-{i // 10}---------"
        (root / f"t{i:02}.txt").write_text(stave(f"Tune {i % 6}", top, "-----------|-3---------"))
    prepared = prepare([root], cache_dir=tmp_path / "cache", val_fraction=0.2, workers=1)
    fmt = get_format("time")
    tune_of = {}  # the first fret on the top string says which file a piece came from
    for split in ("train", "val"):
        for piece in pieces(prepared.dir / f"{split}.bin"):
            bar1, bar2 = fmt.decode(piece).tab.bars
            i = bar1.columns[-1].notes[0].fret + 10 * bar2.columns[0].notes[0].fret
            tune_of.setdefault(i % 6, set()).add(split)
    assert len(tune_of) == 6 and all(len(sides) == 1 for sides in tune_of.values())
    assert prepared.manifest["pieces"]["val"] == 4  # at least 20% of 12, whole tunes


def test_one_piece_is_cut_into_train_and_val_bars(tmp_path):
    root = tmp_path / "one"
    root.mkdir()
    (root / "song.txt").write_text(stave("Only", "-----0-----|-0---------", "-----------|-3---------"))
    prepared = prepare([root], fmt="line", cache_dir=tmp_path / "cache", workers=1)
    m = prepared.manifest
    assert m["bars"] == {"train": 1, "val": 1, "total": 2}
    line = get_format("line")
    (val_piece,) = pieces(prepared.val_bin)
    assert line.decode(val_piece).tab.bars[0].columns[0].notes == (Note(1, 0), Note(6, 3))
    assert json.loads(prepared.vocab_path.read_text())["format"] == "line"


def test_folders_without_usable_tab_are_one_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no tab files in .*empty"):
        prepare([empty], cache_dir=tmp_path / "cache")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("hello\n")
    (junk / "b.bin.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match=r"no usable tab in .*junk: 2 file\(s\) looked at") as e:
        prepare([junk], cache_dir=tmp_path / "cache")
    assert "\n" not in str(e.value)
    one_bar = tmp_path / "onebar"
    one_bar.mkdir()
    (one_bar / "a.txt").write_text("e|--0--|\nB|-----|\nG|-----|\nD|-----|\nA|-----|\nE|-----|\n")
    with pytest.raises(InputError, match="only one bar"):
        prepare([one_bar], cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written
    with pytest.raises(InputError, match="no such file or folder"):
        prepare([tmp_path / "missing"], cache_dir=tmp_path / "cache")
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(InputError, match="a-file: cannot write the prepared corpus there"):
        prepare([one_bar], cache_dir=tmp_path / "a-file")


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld-tabs not present")
def test_real_world_tabs_prepare_and_read_back_in_both_formats(tmp_path):
    prepared = prepare([REALWORLD], fmt="time", cache_dir=tmp_path, workers=1)
    m = prepared.manifest
    assert len(m["files"]["read"]) >= 20 and m["bars"]["total"] > 1000
    reasons = {Path(s["path"]).name: s["reason"] for s in m["files"]["skipped"]}
    assert reasons["nontab-chordsheet-house-of-rising-sun.txt"] == "no stave found"
    time, line = get_format("time"), get_format("line")
    val = pieces(prepared.val_bin)
    assert sum(time.bars_in(p) for p in val) == m["bars"]["val"]
    for piece in val:
        decoded = time.decode(piece)
        assert decoded.problems == []
        as_line = line.decode(line.encode(decoded.tab))
        assert as_line.problems == [] and as_line.tab.bars == decoded.tab.bars


def write_gp5(path: Path) -> None:
    """A two-bar Guitar Pro 5 file: quarter notes 0 2 3 5 on the top string, then a bar of rest."""
    import guitarpro as gp

    song = gp.Song()
    song.title = "GP tune"
    song.newMeasure()
    for measure, frets in zip(song.tracks[0].measures, [(0, 2, 3, 5), (7, 5, 3, 2)], strict=True):
        voice = measure.voices[0]
        for fret in frets:
            beat = gp.Beat(voice, duration=gp.Duration(value=4))
            beat.notes.append(gp.Note(beat, value=fret, string=1, type=gp.NoteType.normal))
            beat.status = gp.BeatStatus.normal
            voice.beats.append(beat)
    gp.write(song, str(path))


def test_guitar_pro_files_are_read_or_skipped_with_a_reason(tmp_path):
    root = tmp_path / "gp"
    root.mkdir()
    write_gp5(root / "song.gp5")
    (root / "a.txt").write_text(TUNES["a.txt"])
    prepared = prepare([root], cache_dir=tmp_path / "cache", workers=1)
    m = prepared.manifest
    assert m["files"]["skipped"] == [] and len(m["files"]["read"]) == 2
    assert m["bars"]["total"] == 4 and m["pieces"]["total"] == 2
    fmt = get_format("time")
    tabs = [fmt.decode(p).tab for p in pieces(prepared.train_bin) + pieces(prepared.val_bin)]
    gp_tab = next(t for t in tabs if t.meter == (4, 4))
    assert [n.fret for n in gp_tab.notes] == [0, 2, 3, 5, 7, 5, 3, 2]
    assert [c.position for c in gp_tab.bars[0].columns] == [0, 4, 8, 12]


def test_one_file_of_untitled_pieces_is_split_piece_by_piece(tmp_path):
    root = tmp_path / "tabs"
    root.mkdir()
    staves = [
        "e|--0--|--1--|\nB|-----|-----|\nG|-----|-----|\nD|-----|-----|\nA|-----|-----|\nE|-----|-----|\n",
        "e|--2--|--3--|\nB|-----|-----|\nG|-----|-----|\nD|-----|-----|\nA|-----|-----|\nD|-----|-----|\n",
        "G|--5--|--7--|\nD|-----|-----|\nA|-----|-----|\nE|-----|-----|\n",
    ]
    (root / "mixed.txt").write_text("\n".join(staves))  # three tunings: three pieces, no titles
    m = prepare([root], cache_dir=tmp_path / "cache", workers=1).manifest
    assert m["pieces"] == {"train": 2, "val": 1, "total": 3, "duplicates": 0}
    assert m["tuning"] == [64, 59, 55, 50, 45, 40]  # ties go to the first tuning met


def test_file_names_that_are_not_utf8_are_kept(tmp_path):
    root = tmp_path / "tabs"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9 tune.txt")  # a Latin-1 file name on a UTF-8 file system
    (root / name).write_text(TUNES["a.txt"])
    (root / "b.txt").write_text(TUNES["nested/deeper/b.tab"])
    prepared = prepare([root], cache_dir=tmp_path / "cache", workers=1)
    again = load_prepared(prepared.path)
    assert [Path(f["path"]).name for f in again.manifest["files"]["read"]] == ["b.txt", name]


def test_prepare_writes_the_train_windows_and_each_pieces_style(tmp_path):
    from tabgen.novelty import WINDOWS_FILE, TrainingText, digest_array, window_digests

    root = tmp_path / "tabs"
    root.mkdir()
    low = "|".join("-----------" for _ in range(6))
    for k, style in enumerate(["guitar", "folk", "", "jazz"]):
        header = f"Title: tune {k}\n" + (f"Style: {style}\n" if style else "")
        top = "|".join(f"--{k}--{i}-----" for i in range(6))  # six bars, none like another tune's
        rest = "".join(f"{s}|{low}|\n" for s in "BGDAE")
        (root / f"t{k}.txt").write_text(header + f"e|{top}|\n" + rest)
    prepared = prepare([root], fmt="time", cache_dir=tmp_path / "cache", workers=1)
    fmt = get_format("time")
    texts = pieces(prepared.train_bin) + pieces(prepared.val_bin)
    # the style letter ends the header; an unknown style (jazz) and none give no letter
    assert sorted(t.splitlines()[0][-2:] for t in texts) == [" -", " -", " f", " g"]  # no meter: -
    assert json.loads(prepared.vocab_path.read_text())["styles"] == {"guitar": 1, "folk": 1}
    # the windows file holds exactly the windows of the train split's pieces
    train_tabs = [fmt.decode(t).tab for t in pieces(prepared.train_bin)]
    stored = np.fromfile(prepared.dir / WINDOWS_FILE, dtype=np.uint64)
    assert stored.size and np.array_equal(
        stored, digest_array(d for t in train_tabs for d in window_digests(t))
    )
    training = TrainingText.from_prepared(prepared.dir, ALPHABET)
    assert all(all(training.copied(t)) for t in train_tabs)
    val_tab = fmt.decode(pieces(prepared.val_bin)[0]).tab
    assert not any(training.copied(val_tab))
