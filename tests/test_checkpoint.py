import os

import pytest
import torch

from tabgen import checkpoint as ck
from tabgen.checkpoint import bundled_model_path, find_checkpoint, load_checkpoint, save_checkpoint
from tabgen.errors import CheckpointError
from tabgen.model import CharLSTM, ModelConfig

VOCAB = {"format": "time-major", "format_version": 2, "alphabet": "\n-0123|ab"}


def saved(tmp_path, name="m.pt", **kwargs):
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=len(VOCAB["alphabet"]), embed=4, hidden=8, layers=2, dropout=0.1)
    model = CharLSTM(config)
    opt = torch.optim.AdamW(model.parameters())
    path = tmp_path / name
    save_checkpoint(
        path,
        model,
        config,
        vocab=VOCAB,
        optimizer=opt,
        train_state={"step": 7, "hidden": [torch.ones(2, 1, 8), torch.ones(2, 1, 8)]},
        metrics={"val_bpc": 1.25},
        tuning=[64, 59, 55, 50, 45, 40],
        manifest_hash="abc",
        **kwargs,
    )
    return path, model


def test_round_trip_is_self_contained(tmp_path):
    path, model = saved(tmp_path)
    loaded = load_checkpoint(path)
    assert not loaded.model.training
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v)
    assert loaded.config == model.config
    assert loaded.vocab == VOCAB and loaded.format == "time-major" and loaded.format_version == 2
    assert loaded.tuning == [64, 59, 55, 50, 45, 40]
    assert loaded.metrics == {"val_bpc": 1.25} and loaded.manifest_hash == "abc"
    assert loaded.train_state["step"] == 7
    assert loaded.optimizer_state["param_groups"][0]["lr"] == 1e-3
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind


def test_plain_types_only_load_with_weights_only(tmp_path):
    path, _ = saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "tabgen-checkpoint" and payload["version"] == ck.VERSION


def test_overwrite_replaces_atomically(tmp_path):
    path, _ = saved(tmp_path)
    inode = os.stat(path).st_ino
    saved(tmp_path)
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one, not rewritten in place


class Foreign:
    pass


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(os.urandom(4096)), "not a tabgen checkpoint"),
        (lambda p: p.write_text("e|---0---|\nB|---1---|\n"), "not a tabgen checkpoint"),
        (lambda p: p.write_bytes(b""), "not a tabgen checkpoint"),
        (lambda p: torch.save({"model": {"w": torch.zeros(3)}}, p), "another kind"),
        (lambda p: torch.save([1, 2, 3], p), "another kind"),
        (lambda p: torch.save(Foreign(), p), "not a tabgen checkpoint"),
    ],
)
def test_foreign_files_are_refused(tmp_path, make, message):
    path = tmp_path / "x.pt"
    make(path)
    with pytest.raises(CheckpointError, match=message) as e:
        load_checkpoint(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_truncated_checkpoint_is_refused(tmp_path):
    path, _ = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a tabgen checkpoint"):
        load_checkpoint(path)


def test_other_version_is_refused(tmp_path):
    path, _ = saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["version"] = ck.VERSION + 1
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=f"version {ck.VERSION + 1} is not supported"):
        load_checkpoint(path)


def test_damaged_contents_are_refused(tmp_path):
    path, _ = saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    del payload["model_state"]["head.weight"]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


def test_find_checkpoint_in_run_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint in this folder"):
        find_checkpoint(tmp_path)
    last, _ = saved(tmp_path, "last.pt")
    assert find_checkpoint(tmp_path) == last
    best, _ = saved(tmp_path, "best.pt")
    assert find_checkpoint(tmp_path) == best
    assert find_checkpoint(last) == last
    with pytest.raises(CheckpointError):
        find_checkpoint(tmp_path / "missing")


def test_bundled_model_path_is_inside_the_package():
    assert bundled_model_path().parts[-3:] == ("tabgen", "models", "default.pt")
