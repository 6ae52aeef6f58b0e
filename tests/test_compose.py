"""compose: exact bars, best-of-K, repairs, novelty against the training text, the CLI and its files."""

from __future__ import annotations

from dataclasses import replace

import pretty_midi
import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.compose import compose, describe
from tabgen.formats import get_format
from tabgen.novelty import WINDOWS_FILE, TrainingText, window_digests
from tabgen.sources import read_file
from tabgen.tab.parse import join_staves
from tabgen.tab.validate import validate
from tabgen.tab.write import to_text
from tests.tiny_model import chord_bar, synthetic_tabs, tiny_run

runner = CliRunner()


@pytest.mark.parametrize("bars", [2, 9, 16])
def test_compose_gives_exactly_the_bars_asked_for_and_a_valid_tab(bars):
    result = compose(tiny_run(), bars=bars, seed=bars, candidates=3)
    assert len(result.tab.bars) == bars
    assert validate(result.tab) == []
    assert len(result.candidates) == 3
    assert result.candidates[result.chosen].score == max(c.score for c in result.candidates)
    assert get_format("time").decode(result.text).bars_total == bars


def test_training_windows_are_found_and_novel_ones_are_not():
    run = tiny_run()
    from tabgen.checkpoint import find_checkpoint, load_checkpoint
    from tabgen.tab.types import Tab, Tuning

    training = TrainingText.for_checkpoint(load_checkpoint(find_checkpoint(run)))
    assert training is not None
    assert not (training.path.parent / WINDOWS_FILE).exists()  # tiny_model writes none: computed here
    seen = synthetic_tabs(3, seed=1)[1]  # a training piece (train split: seed 1)
    odd = Tab(
        Tuning.named("standard"), tuple(chord_bar("D", (1, 1, 1, 1, 1, 1, 1, 1)) for _ in range(4)), (4, 4)
    )
    assert len(window_digests(odd)) == 1 and len(window_digests(seen)) >= 1
    assert all(training.copied(seen))
    assert training.copied(odd) == [False]
    # the same bars anywhere in a piece are the same window: a training piece's bars 2-5 inside a new piece
    inner = Tab(seen.tuning, odd.bars[:2] + seen.bars[:4] + odd.bars[:1], seen.meter)
    assert training.copied(inner) == [False, False, True, False]
    # every window of every training piece is found
    assert all(all(training.copied(t)) for t in training.tabs())


def test_candidates_are_scored_against_the_training_text():
    result = compose(tiny_run(), bars=6, seed=2, candidates=2)
    for c in result.candidates:
        assert c.copied_windows is not None and 0 <= c.copied_windows <= c.windows == 3
    lines = describe(result)
    assert lines[result.chosen].startswith("* candidate")


def test_cli_compose_prints_and_writes_the_same_piece(tmp_path):
    run = tiny_run()
    tab, mid = tmp_path / "out.txt", tmp_path / "out.mid"
    res = runner.invoke(app, ["compose", "--model", str(run), "--bars", "5", "--seed", "3", "--tab", str(tab),
                              "--midi", str(mid), "--candidates", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    text = tab.read_text()
    assert text in res.stdout
    parsed = join_staves(read_file(tab).tabs)
    assert len(parsed) == 1 and len(parsed[0].bars) == 5
    expected = compose(run, bars=5, seed=3, candidates=2).tab
    assert to_text(replace(expected, title=f"Composed by tabgen ({run.name}, seed 3)")) == text
    pm = pretty_midi.PrettyMIDI(str(mid))
    pitches = sorted(n.pitch for i in pm.instruments for n in i.notes)
    assert pitches == sorted(expected.pitch(n) for n in expected.notes if n.technique != "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid", "out.txt"]  # no temporary files left


def test_same_seed_same_files_byte_for_byte(tmp_path):
    run = tiny_run()
    outs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        paths = [tmp_path / f"{name}.txt", tmp_path / f"{name}.mid", tmp_path / f"{name}.musicxml"]
        args = ["compose", "--model", str(run), "--bars", "4", "--seed", str(seed), "--tab", str(paths[0])]
        args += ["--midi", str(paths[1]), "--musicxml", str(paths[2]), "--tempo", "90"]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        outs.append([p.read_bytes() for p in paths])
    assert outs[0] == outs[1]
    assert outs[0][0] != outs[2][0] and outs[0][1] != outs[2][1]


def test_cli_prime_tuning_and_verbose(tmp_path):
    run = tiny_run()
    from tabgen.tab.types import Tab, Tuning

    pattern = (3, 2, 1, 2, 3, 2, 1, 2)
    prime = Tab(Tuning.named("standard"), (chord_bar("C", pattern), chord_bar("G", pattern)), (4, 4))
    prime_file = tmp_path / "prime.txt"
    prime_file.write_text(to_text(prime))
    out = tmp_path / "out.txt"
    args = [
        "compose",
        "--model",
        str(run),
        "--bars",
        "4",
        "--prime",
        str(prime_file),
        "--tab",
        str(out),
        "-v",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    tab = join_staves(read_file(out).tabs)[0]
    assert len(tab.bars) == 4
    assert [c.notes for c in tab.bars[0].columns] == [c.notes for c in prime.bars[0].columns]
    assert [c.notes for c in tab.bars[1].columns] == [c.notes for c in prime.bars[1].columns]
    assert "* candidate" in res.stderr
    res = runner.invoke(app, ["compose", "--model", str(run), "--bars", "2", "--tuning", "dadgad"])
    assert res.exit_code == 0 and "Tuning: D2 A2 D3 G3 A3 D4" in res.stdout
    out3 = tmp_path / "waltz.txt"
    res = runner.invoke(
        app, ["compose", "--model", str(run), "--bars", "3", "--meter", "3/4", "--tab", str(out3)]
    )
    assert res.exit_code == 0 and "Meter: 3/4" in res.stdout
    waltz = join_staves(read_file(out3).tabs)[0]
    assert waltz.meter == (3, 4) and len(waltz.bars) == 3


def test_cli_errors_are_one_line(tmp_path, monkeypatch):
    res = runner.invoke(app, ["compose", "--model", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "no such checkpoint" in res.stderr and "Traceback" not in res.output
    monkeypatch.setattr("tabgen.checkpoint.bundled_model_path", lambda: tmp_path / "default.pt")
    res = runner.invoke(app, ["compose"])
    assert res.exit_code == 1 and "no bundled model" in res.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("no tab here\n")
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--prime", str(bad)])
    assert res.exit_code == 1 and "bad.txt" in res.stderr
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--tuning", "banjo"])
    assert res.exit_code == 1 and "unknown tuning" in res.stderr
    for bad in ("waltz", "3/5", "0/4"):
        res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--meter", bad])
        assert res.exit_code == 1 and "meter" in res.stderr and "Traceback" not in res.output
    midi = tmp_path / "dir.mid"
    midi.mkdir()
    res = runner.invoke(app, ["compose", "--model", str(tiny_run()), "--bars", "2", "--midi", str(midi)])
    assert res.exit_code == 1 and "folder" in res.stderr


def test_a_run_from_tabgen_train_composes(tmp_path, monkeypatch):
    from tests.tiny_model import synthetic_tabs

    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        "tabgen.train.plot_curves", lambda *a, **k: None
    )  # matplotlib: seconds, not tested here
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i, tab in enumerate(synthetic_tabs(12, seed=5)):
        (tabs / f"piece{i}.txt").write_text(to_text(tab))
    run = tmp_path / "run"
    args = ["train", str(tabs), "--out", str(run), "--steps", "12", "--size", "small", "--batch", "4"]
    args += ["--seq-len", "32", "--eval-interval", "6", "--device", "cpu"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = tmp_path / "piece.txt"
    res = runner.invoke(app, ["compose", "--model", str(run), "--bars", "3", "--tab", str(out), "-v"])
    assert res.exit_code == 0, res.output
    assert len(join_staves(read_file(out).tabs)[0].bars) == 3
    assert "copied 4-bar windows 0/0" in res.stderr  # the run's training text was found (3 bars: no window)


def test_the_best_candidate_has_no_empty_bar_and_no_copied_window():
    from tabgen.checkpoint import find_checkpoint, load_checkpoint
    from tabgen.compose import best_candidate, score_candidates
    from tabgen.tab.types import Bar, Tab, Tuning

    fmt = get_format("time")
    training = TrainingText.for_checkpoint(load_checkpoint(find_checkpoint(tiny_run())))
    seen = next(t for t in synthetic_tabs(20, seed=1) if len(t.bars) >= 4)  # a training piece
    seen = Tab(seen.tuning, seen.bars[:4], seen.meter)
    pattern = (1, 1, 1, 1, 1, 1, 1, 1)
    novel = Tab(Tuning.named("standard"), tuple(chord_bar("D", pattern) for _ in range(4)), (4, 4))
    empty = Tab(novel.tuning, (novel.bars[0], Bar(16), novel.bars[2], novel.bars[3]), (4, 4))
    texts = [fmt.encode(seen), fmt.encode(empty), fmt.encode(novel)]
    scored = score_candidates(fmt, texts, 4, 4, training)
    assert [c.empty_bars for c in scored] == [0, 1, 0]
    assert [c.copied_windows for c in scored] == [1, 0, 0]
    assert all(c.playable and not c.repairs and not c.problems for c in scored)
    assert best_candidate(scored) == 2
    assert best_candidate(score_candidates(fmt, texts[:2], 4, 4, None)) == 0  # no training text: no copy term


def test_compose_to_midi_does_not_import_music21(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tabgen.cli import app\n"
        f"r = CliRunner().invoke(app, ['compose', '--model', {str(tiny_run())!r}, '--bars', '2', "
        f"'--midi', {str(tmp_path / 'x.mid')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('music21', 'matplotlib', 'guitarpro')))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "x.mid").stat().st_size > 0


def test_the_bundled_model_composes_a_playable_piece_of_the_asked_length(tmp_path):
    # What a user meets right after install: no --model, no training.
    from tabgen.checkpoint import bundled_model_path

    assert bundled_model_path().is_file()
    out = tmp_path / "piece.txt"
    res = runner.invoke(app, ["compose", "--bars", "6", "--seed", "11", "--tab", str(out)])
    assert res.exit_code == 0, res.output
    (piece,) = join_staves(read_file(out).tabs)
    assert len(piece.bars) == 6 and piece.notes
    assert validate(piece) == []


def test_a_checkpoint_with_its_windows_beside_it_gets_the_copy_check(tmp_path):
    import shutil

    from tabgen.checkpoint import find_checkpoint, load_checkpoint
    from tabgen.novelty import checkpoint_windows_path, windows_for_checkpoint

    run = tiny_run()
    own = TrainingText.for_checkpoint(load_checkpoint(find_checkpoint(run)))
    lone = tmp_path / "model.pt"  # a checkpoint away from its run and data: no training config to follow
    shutil.copy(run / "best.pt", lone)
    assert windows_for_checkpoint(load_checkpoint(lone)) is None
    assert all(c.copied_windows is None for c in compose(lone, bars=5, seed=1, candidates=2).candidates)
    own.index.digests.tofile(checkpoint_windows_path(lone))
    index = windows_for_checkpoint(load_checkpoint(lone))
    seen = synthetic_tabs(3, seed=1)[1]
    assert index is not None and index.copied(seen) == own.copied(seen) and all(index.copied(seen))
    assert all(c.copied_windows is not None for c in compose(lone, bars=5, seed=1, candidates=2).candidates)
