"""Two CPU processes with gloo: the ranks read different lanes, DDP averages the gradients, so the weights
must end bit-identical on both ranks, and only rank 0 writes files.

The two processes get the environment torchrun gives its workers (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT, OMP_NUM_THREADS=1), started directly: the launcher's own torch import would add seconds."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tabgen.checkpoint import load_checkpoint
from tests.tiny_corpus import make_prepared

RANK_SCRIPT = """
import json, os, sys
from tabgen.model import ModelConfig
from tabgen.train import TrainConfig, train
cfg = TrainConfig(data=sys.argv[1], out_dir=sys.argv[2], steps=6, batch=3, seq_len=24, lr=1e-2, warmup=2,
                  eval_interval=3, eval_chars=1000, log_interval=1,
                  model=ModelConfig(vocab_size=2, embed=8, hidden=16, layers=2, dropout=0.1))
m = train(cfg)
with open(os.path.join(sys.argv[3], "rank%s.json" % os.environ["RANK"]), "w") as f:
    json.dump({"weights": m["weights_sha256"], "world": m["world_size"], "chars": m["train_chars"],
               "loss": m["history"]["train"], "val": m["val_bpc"]}, f)
"""


def test_two_ranks_stay_in_sync(tmp_path):
    data = make_prepared(tmp_path / "data")
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    repo = Path(__file__).resolve().parents[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in (0, 1):
        env = {
            **os.environ,
            "PYTHONPATH": str(repo),
            "OMP_NUM_THREADS": "1",
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        cmd = [sys.executable, str(script), str(data), str(tmp_path / "run"), str(tmp_path)]
        procs.append(subprocess.Popen(cmd, env=env, cwd=repo, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0["world"] == r1["world"] == 2
    assert r0["chars"] == 6 * 3 * 24 * 2  # both ranks' lanes count
    assert r0["weights"] == r1["weights"]  # parameters identical on both ranks
    assert r0["loss"] == r1["loss"] and r0["val"] == r1["val"]  # the all-reduced loss and validation agree
    # rank 0 alone wrote the run folder, and its checkpoint holds the synced weights and both ranks' state
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt.train_state["step"] == 6 and len(ckpt.train_state["rng"]) == 2
    assert ckpt.train_state["hidden"][0].shape == (2, 6, 16)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["world_size"] == 2
    assert not list((tmp_path / "run").glob("*.tmp"))
