import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tabgen.checkpoint import find_checkpoint, load_checkpoint
from tabgen.errors import InputError, TrainingError
from tabgen.model import ModelConfig
from tabgen.train import TrainConfig, lr_at, train
from tests.tiny_corpus import ALPHABET, make_prepared, tab_text

TINY = ModelConfig(vocab_size=2, embed=8, hidden=24, layers=2, dropout=0.1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_prepared(tmp_path_factory.mktemp("corpus"))


def config(data, out, **kw):
    base = dict(
        data=data,
        out_dir=out,
        steps=24,
        model=TINY,
        batch=4,
        seq_len=32,
        lr=1e-2,
        warmup=4,
        eval_interval=8,
        eval_chars=2000,
        log_interval=1,
        threads=1,
        seed=3,
    )
    return TrainConfig(**{**base, **kw})


def test_tiny_run_end_to_end(data, tmp_path):
    events = []
    m = train(config(data, tmp_path / "run", steps=40), on_progress=events.append)
    run = tmp_path / "run"
    written = json.loads((run / "metrics.json").read_text())
    assert written["steps"] == m["steps"] == 40
    assert written["train_chars"] == 40 * 4 * 32
    assert written["stop_reason"] == "steps" and not written["interrupted"]
    for key in ("val_bpc", "val_bits_per_bar", "chars_per_sec", "seconds"):
        assert written[key] > 0
    # bits per bar = bits per char x chars per bar of the validation split (40 bars in the fixture)
    chars_per_bar = (data / "val.bin").stat().st_size / 40
    assert written["val_bits_per_bar"] == pytest.approx(written["val_bpc"] * chars_per_bar)
    # it learned: validation is well below a uniform guess over the alphabet, train loss fell
    assert written["val_bpc"] < 0.75 * math.log2(len(ALPHABET))
    train_losses = [h[1] for h in written["history"]["train"]]
    assert len(train_losses) == 40 and sum(train_losses[-5:]) < sum(train_losses[:5])
    assert [v[0] for v in written["history"]["val"]] == [8, 16, 24, 32, 40]
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {e["event"] for e in events} == {"start", "step", "eval", "done"}
    # the checkpoint compose will find is self-contained and loads
    best = load_checkpoint(find_checkpoint(run))
    assert find_checkpoint(run).name == "best.pt"
    assert best.vocab["alphabet"] == ALPHABET and best.format == "line-major"
    assert best.config.hidden == 24 and best.config.vocab_size == len(ALPHABET)
    assert best.metrics["val_bpc"] == pytest.approx(min(v[1] for v in written["history"]["val"]))
    assert load_checkpoint(run / "last.pt").train_state["step"] == 40


class StopAt:
    def __init__(self, step):
        self.step = step

    def __call__(self, event):
        if event["event"] == "step" and event["step"] == self.step:
            raise KeyboardInterrupt


def test_interrupted_then_resumed_equals_uninterrupted(data, tmp_path):
    whole = train(config(data, tmp_path / "a"))
    part = train(config(data, tmp_path / "b"), on_progress=StopAt(11))
    assert part["interrupted"] and part["steps"] == 11
    assert load_checkpoint(tmp_path / "b" / "last.pt").train_state["step"] == 11
    resumed = train(config(data, tmp_path / "b", resume=True))
    assert resumed["steps"] == 24
    # the same loss at every step (bit for bit on CPU with fixed threads), the same validations, same weights
    assert resumed["history"]["train"] == whole["history"]["train"]
    assert resumed["history"]["val"] == whole["history"]["val"]
    assert resumed["weights_sha256"] == whole["weights_sha256"]


def test_existing_run_needs_resume_and_resume_needs_a_run(data, tmp_path):
    train(config(data, tmp_path / "run", steps=2, eval_interval=100))
    with pytest.raises(TrainingError, match="--resume"):
        train(config(data, tmp_path / "run", steps=2))
    with pytest.raises(TrainingError, match="nothing to resume"):
        train(config(data, tmp_path / "empty", resume=True))


def test_divergence_aborts_with_a_clear_message(data, tmp_path):
    with pytest.raises(TrainingError, match="diverged"):
        train(config(data, tmp_path / "run", lr=50.0, warmup=1, clip=0.0, steps=30))


def test_bad_inputs(data, tmp_path):
    with pytest.raises(InputError, match="not a prepared corpus"):
        train(config(tmp_path, tmp_path / "run"))
    with pytest.raises(InputError, match="not 'time-major'"):
        train(config(data, tmp_path / "run", format="time-major"))
    # more than the data holds: the batch shrinks to fit, with a note (tests/test_train_guards.py)
    m = train(config(data, tmp_path / "fit", batch=4000, seq_len=64, steps=1, eval_interval=100))
    assert m["batch"] * 65 <= (data / "train.bin").stat().st_size and "too short" in m["notes"][0]
    with pytest.raises(InputError, match="not both"):
        config(data, tmp_path, steps=5, minutes=1.0)


def test_minutes_budget_stops_on_time(data, tmp_path):
    m = train(config(data, tmp_path / "run", steps=None, minutes=0.01, eval_interval=10_000))
    assert m["stop_reason"] == "minutes" and m["steps"] >= 1
    assert 0.4 <= m["seconds"] < 3.0
    # the schedule length was estimated from the speed, so the cosine ran its course within the budget
    assert m["steps"] > 10 and m["history"]["train"][-1][2] < 0.3 * 1e-2


def test_schedule_warms_up_then_decays_to_min_lr(data, tmp_path):
    cfg = config(data, tmp_path, lr=1.0, min_lr=0.1, warmup=10, steps=110)
    assert lr_at(0, 110, cfg) == pytest.approx(0.1)
    assert lr_at(9, 110, cfg) == pytest.approx(1.0)
    assert lr_at(60, 110, cfg) == pytest.approx(0.55)  # half way through the cosine
    assert lr_at(110, 110, cfg) == pytest.approx(0.1)
    assert lr_at(50, None, cfg) == 1.0  # --minutes before the length is known


SIGNAL_SCRIPT = """
import sys
import tabgen.train
from tabgen import cli
from tabgen.model import ModelConfig

tabs, run = sys.argv[1], sys.argv[2]
tabgen.train.ModelConfig.for_size = lambda size, v: ModelConfig(v, 8, 24, 2, 0.1)
tabgen.train.plot_curves = lambda *a, **k: None
real_train = tabgen.train.train

def train(cfg, on_progress):
    def report(event):
        on_progress(event)
        if event["event"] == "step" and event["step"] == 10:  # past rich's redirect of sys.stdout
            sys.__stdout__.write("running\\n")
            sys.__stdout__.flush()
    return real_train(cfg, on_progress=report)

tabgen.train.train = train
cli.app([
    "train", tabs, "--out", run, "--steps", "100000", "--batch", "4", "--seq-len", "32", "--threads", "1",
    "--device", "cpu", "--eval-interval", "100000",
])
"""


def test_sigterm_between_steps_stops_after_the_step_and_saves(data, tmp_path):
    def kill_at_5(event):
        if event["event"] == "step" and event["step"] == 5:
            os.kill(os.getpid(), signal.SIGTERM)

    m = train(config(data, tmp_path / "run"), on_progress=kill_at_5)
    assert m["stop_reason"] == "SIGTERM" and m["interrupted"] and m["steps"] == 5
    assert load_checkpoint(tmp_path / "run" / "last.pt").train_state["step"] == 5
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is removed again


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_in_a_real_process_saves_a_checkpoint_and_exits_128_plus_the_signal(
    tmp_path, sig, code
):
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i in range(6):
        (tabs / f"piece{i}.txt").write_text(tab_text(8, seed=i))
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "TABGEN_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_SCRIPT, str(tabs), str(tmp_path / "run")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=repo,
    )
    for line in proc.stdout:  # the corpus summary and progress come first
        if line.strip() == "running":
            break
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == code, out
    assert "interrupted: checkpoint saved. resume with:" in out
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["interrupted"] and metrics["stop_reason"] == sig.name
    assert ckpt.train_state["step"] == metrics["steps"] >= 3
    assert torch.isfinite(ckpt.model.head.weight).all()


@pytest.fixture()
def tab_folder(tmp_path, monkeypatch):
    """Real tab files for `tabgen train` (through tabgen.corpus.prepare), plus one it must skip."""
    monkeypatch.setenv("TABGEN_CACHE", str(tmp_path / "cache"))
    tabs = tmp_path / "tabs"
    tabs.mkdir()
    for i in range(12):
        (tabs / f"piece{i}.txt").write_text(tab_text(8, seed=i))
    (tabs / "notes.txt").write_text("just some words, no stave here\n")
    return tabs


def test_cli_train_prints_summary_and_metrics_and_how_to_resume(tab_folder, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tabgen import cli

    monkeypatch.setattr("tabgen.train.ModelConfig.for_size", lambda size, v: ModelConfig(v, 8, 16, 1, 0.0))
    monkeypatch.setattr("tabgen.train.plot_curves", lambda *a, **k: None)  # matplotlib: tested above
    runner = CliRunner()
    run = tmp_path / "run"
    args = ["train", str(tab_folder), "--out", str(run), "--steps", "6", "--batch", "4", "--seq-len", "16",
            "--eval-interval", "3", "--device", "cpu"]  # fmt: skip
    done = runner.invoke(cli.app, args)
    assert done.exit_code == 0, done.output
    assert "12 files read, 1 skipped" in done.output and "notes.txt: no stave found" in done.output
    assert "96 bars" in done.output and "steps 6" in done.output and "val bits/bar" in done.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["format"] == "time" and metrics["val_bits_per_bar"] > 0
    ckpt = load_checkpoint(find_checkpoint(run))
    assert ckpt.format == "time" and ckpt.format_version >= 1 and ckpt.manifest_hash

    def stop_at_first_report(self, event):  # progress reports come every 10 steps
        if event["event"] == "step":
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._TrainProgress, "__call__", stop_at_first_report)
    r2 = tmp_path / "r2"
    args = ["train", str(tab_folder), "--out", str(r2), "--steps", "60", "--batch", "4", "--seq-len", "16",
            "--seed", "1337", "--eval-interval", "50"]  # fmt: skip
    done = runner.invoke(cli.app, args)
    assert done.exit_code == 130, done.output  # interrupted: not the exit code of a finished run
    # the options that shape the run, read from the command's own definition: a default (--seed 1337) is
    # left out, --eval-interval (which the old copy of the defaults forgot) is kept
    expected = (
        f"resume with: tabgen train {tab_folder} --out {r2} --steps 60 --batch 4 --seq-len 16 "
        "--eval-interval 50 --resume"
    )
    assert expected in done.output.replace("\n", "")
    assert load_checkpoint(r2 / "last.pt").train_state["step"] == 10


def test_the_first_prepared_layout_is_read_too(data, tmp_path):
    # corpus.py first wrote vocab "version" and manifest "content_hash" / "splits"; train read both layouts
    # and novelty another mix: load_prepared is now the one reader, and reads both the same
    from tabgen.prepared import load_prepared

    old = tmp_path / "old"
    old.mkdir()
    for name in ("train.bin", "val.bin"):
        (old / name).write_bytes((data / name).read_bytes())
    (old / "vocab.json").write_text(json.dumps({"format": "line-major", "version": 1, "alphabet": ALPHABET}))
    splits = {"train": {"bars": 400}, "val": {"bars": 40}}
    (old / "manifest.json").write_text(json.dumps({"content_hash": "tiny-400-40", "splits": splits}))
    first, now = load_prepared(old), load_prepared(data)
    assert first.vocab == now.vocab == {"format": "line-major", "format_version": 1, "alphabet": ALPHABET}
    assert (first.content_hash, first.val_bars) == (now.content_hash, now.val_bars) == ("tiny-400-40", 40)
    a = train(config(old, tmp_path / "a", steps=2, eval_interval=2))
    b = train(config(data, tmp_path / "b", steps=2, eval_interval=2))
    assert a["manifest_hash"] == b["manifest_hash"] and a["val_bits_per_bar"] == b["val_bits_per_bar"]


@pytest.mark.parametrize("missing", ["train.bin", "val.bin", "vocab.json", "manifest.json"])
def test_a_prepared_folder_missing_a_file_is_refused_alike_by_train_eval_and_novelty(data, tmp_path, missing):
    # train read a folder without manifest.json, novelty one without val.bin, corpus.load_prepared one
    # without train.bin: the four files prepare writes are now all required; each reader names the missing one
    import shutil

    from tabgen.evaluate import find_training
    from tabgen.novelty import TrainingText

    folder = tmp_path / "data"
    shutil.copytree(data, folder)
    (folder / missing).unlink()
    with pytest.raises(InputError, match=f"not a prepared corpus folder \\(no {missing}\\)"):
        train(config(folder, tmp_path / "run"))
    assert TrainingText.from_prepared(folder, ALPHABET) is None
    if missing != "train.bin":  # a folder without train.bin is tab files to prepare, for eval
        ckpt = load_checkpoint(_tiny_checkpoint(data, tmp_path))
        with pytest.raises(InputError, match=f"no {missing}"):
            find_training(ckpt, folder)


def _tiny_checkpoint(data, tmp_path):
    train(config(data, tmp_path / "tiny", steps=1, eval_interval=1))
    return tmp_path / "tiny" / "last.pt"


def test_empty_validation_split_is_refused(data, tmp_path):
    import shutil

    folder = tmp_path / "data"
    shutil.copytree(data, folder)
    (folder / "val.bin").write_bytes(b"")
    with pytest.raises(TrainingError, match="no validation text"):
        train(config(folder, tmp_path / "run"))
