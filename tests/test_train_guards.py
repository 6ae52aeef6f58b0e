"""Training's promises under attack: resume refuses another format or size, one training per run folder,
one-line errors for a bad --out, no empty run folder after a failure, a small corpus still trains."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tabgen.errors import TabgenError, TrainingError
from tabgen.model import ModelConfig
from tabgen.train import LOCK_NAME, TrainConfig, train
from tests.tiny_corpus import make_prepared, tab_text

TINY = ModelConfig(vocab_size=2, embed=8, hidden=16, layers=1, dropout=0.0)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_prepared(tmp_path_factory.mktemp("corpus"))


def config(data, out, **kw):
    base = dict(data=data, out_dir=out, steps=4, model=TINY, batch=4, seq_len=16, lr=1e-2, warmup=2,
                eval_interval=100, eval_chars=500, log_interval=1, threads=1, seed=3)  # fmt: skip
    return TrainConfig(**{**base, **kw})


def test_resume_refuses_another_size(data, tmp_path):
    run = tmp_path / "run"
    train(config(data, run, model=None, size="small", steps=2))
    with pytest.raises(TrainingError, match=r"trained at --size small.*not large"):
        train(config(data, run, model=None, size="large", resume=True, steps=4))
    # no --size on resume: the run's own
    assert train(config(data, run, model=None, size=None, resume=True, steps=3))["steps"] == 3


def test_resume_refuses_another_format(data, tmp_path):
    run = tmp_path / "run"
    train(config(data, run, steps=2))
    other = make_prepared(tmp_path / "other", fmt="time")  # the same alphabet, another format
    with pytest.raises(TrainingError, match=r"trained on format 'line-major'.*not 'time'"):
        train(config(other, run, resume=True, steps=4))


def test_a_second_training_into_the_same_folder_is_refused(data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with open(run / LOCK_NAME, "w") as held:  # what a running training holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        with pytest.raises(TrainingError, match=r"another training \(pid 4242\) is using this run folder"):
            train(config(data, run))
    assert not (run / "last.pt").exists()


def test_a_stale_lock_from_a_killed_training_does_not_block(data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    lock = str(run / LOCK_NAME)
    code = f"import fcntl, os; f = open({lock!r}, 'w'); fcntl.flock(f, fcntl.LOCK_EX); os._exit(9)"
    subprocess.run([sys.executable, "-c", code], check=False)
    assert (run / LOCK_NAME).exists()
    assert train(config(data, run))["steps"] == 4
    assert not (run / LOCK_NAME).exists()  # removed when the training ends


def test_out_that_is_a_file_is_one_clear_error(data, tmp_path):
    out = tmp_path / "afile"
    out.write_text("x")
    with pytest.raises(TrainingError, match=r"afile: exists and is not a folder"):
        train(config(data, out))
    assert out.read_text() == "x"


def test_a_read_only_run_folder_is_one_clear_error(data, tmp_path, monkeypatch):
    real_open = os.open

    def read_only(path, *args, **kwargs):  # what a read-only folder gives (root ignores chmod)
        if str(path).endswith(LOCK_NAME):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(TrainingError, match=r"run: cannot write in the run folder \(Permission denied\)"):
        train(config(data, tmp_path / "run"))


def test_a_failed_training_leaves_no_empty_run_folder(data, tmp_path):
    with pytest.raises(TabgenError):
        train(config(data, tmp_path / "new" / "run", lr=50.0, warmup=1, clip=0.0, steps=30))
    assert not (tmp_path / "new" / "run").exists()


def test_disk_full_during_a_checkpoint_is_one_line(data, tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(TabgenError, match=r"cannot write .*(best|last)\.pt: No space left on device"):
        train(config(data, tmp_path / "run"))


def test_a_small_corpus_trains_with_the_batch_shrunk_to_fit(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tabgen import cli

    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tabgen.train.ModelConfig.for_size", lambda size, v: ModelConfig(v, 8, 16, 1, 0.0))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i in range(6):
        (tabs / f"t{i}.txt").write_text(tab_text(1, seed=i))
    run = tmp_path / "run"
    done = CliRunner().invoke(
        # from scratch (the tiny model above; a fine-tune's replayed pieces would make the text long enough)
        cli.app,
        ["train", str(tabs), "--out", str(run), "--steps", "3", "--device", "cpu", "--from", "none"],
    )
    assert done.exit_code == 0, done.output
    assert "note: the training text" in done.output and "too short for 32 sequences of 128" in done.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 3 and metrics["batch"] * (metrics["seq_len"] + 1) <= metrics["train_chars"]


def test_resume_without_format_or_size_continues_the_runs_own(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tabgen import cli
    from tabgen.checkpoint import load_checkpoint

    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i in range(8):
        (tabs / f"t{i}.txt").write_text(tab_text(6, seed=i))
    run = tmp_path / "run"
    args = ["train", str(tabs), "--out", str(run), "--batch", "2", "--seq-len", "16", "--device", "cpu"]
    runner = CliRunner()
    done = runner.invoke(cli.app, [*args, "--steps", "2", "--size", "small", "--format", "line"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli.app, [*args, "--steps", "3", "--resume"])
    assert done.exit_code == 0, done.output
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt.format == "line" and ckpt.config.hidden == 128 and ckpt.train_state["step"] == 3
    done = runner.invoke(cli.app, [*args, "--steps", "4", "--resume", "--format", "time"])
    assert done.exit_code == 1
    assert [ln for ln in done.output.splitlines() if ln.startswith("error:")] == [
        f"error: {run / 'last.pt'}: the run was trained on format 'line', not 'time'; resume without "
        "--format (or with --format line), or train a new run in another --out"
    ]
