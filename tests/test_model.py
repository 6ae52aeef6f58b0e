import math

import pytest
import torch
import torch.nn.functional as F

from tabgen.errors import TabValueError
from tabgen.model import SIZES, CharLSTM, ModelConfig, flops_per_char


def tiny(layers: int = 2, dropout: float = 0.0) -> CharLSTM:
    torch.manual_seed(0)
    return CharLSTM(ModelConfig(vocab_size=11, embed=6, hidden=20, layers=layers, dropout=dropout))


def test_carried_state_equals_one_long_sequence():
    model = tiny().eval()
    idx = torch.randint(0, 11, (2, 30), generator=torch.Generator().manual_seed(2))
    whole, _, _ = model(idx)
    first, _, state = model(idx[:, :12])
    second, _, _ = model(idx[:, 12:], state=state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, rtol=0, atol=1e-5)


def test_loss_is_mean_cross_entropy_and_starts_near_uniform():
    model = tiny().eval()
    idx = torch.randint(0, 11, (4, 16), generator=torch.Generator().manual_seed(3))
    logits, loss, _ = model(idx[:, :-1], idx[:, 1:])
    expected = F.cross_entropy(logits.reshape(-1, 11), idx[:, 1:].reshape(-1))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert abs(loss.item() - math.log(11)) < 0.3  # a fresh model is close to uniform


def test_init_state_shape():
    model = tiny(layers=3)
    h, c = model.init_state(5)
    assert h.shape == c.shape == (3, 5, 20) and not h.any()


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"vocab_size": 1}, "vocab_size"),
        ({"vocab_size": 300}, "vocab_size"),
        ({"vocab_size": 10, "hidden": 0}, "hidden"),
        ({"vocab_size": 10, "layers": 2.5}, "layers"),
        ({"vocab_size": 10, "dropout": 1.0}, "dropout"),
    ],
)
def test_config_checks_ranges(kwargs, word):
    with pytest.raises(TabValueError, match=word):
        ModelConfig(**kwargs)


def test_sizes_grow_and_unknown_size_is_refused():
    params = [CharLSTM(ModelConfig.for_size(s, 40)).num_params() for s in ("small", "base", "large")]
    assert params == sorted(params) and len(set(params)) == 3
    assert set(SIZES) == {"small", "base", "large"}
    with pytest.raises(TabValueError, match="small, base, large"):
        ModelConfig.for_size("huge", 40)


def test_flops_per_char_counts_gates_and_head():
    c = ModelConfig(vocab_size=10, embed=4, hidden=8, layers=2)
    # layer 0: 2*4*8*(4+8); layer 1: 2*4*8*(8+8); head 2*8*10; times 3 for forward + backward
    assert flops_per_char(c) == 3 * (2 * 4 * 8 * 12 + 2 * 4 * 8 * 16 + 2 * 8 * 10)


def test_free_threads_count_only_whole_cores_of_load(monkeypatch):
    from tabgen import device

    monkeypatch.setattr(device, "cpu_threads", lambda: 2)
    for load, threads in [(0.0, 2), (0.6, 2), (1.2, 1), (1.9, 1), (5.0, 1)]:
        monkeypatch.setattr(device.os, "getloadavg", lambda load=load: (load, load, load))
        assert device.free_cpu_threads() == threads
