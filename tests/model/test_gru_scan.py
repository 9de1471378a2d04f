"""The C GRU recurrence (model/_gru_scan.c) against the NumPy scan it replaces.

The serving encoder runs the C scan when the extension is built; model's other tests then
compare it with PyTorch's GRU. These check it on its own: shapes the models do not have
(hidden sizes off its 64-column blocks, batches whose texts end at different steps, more
rows), its tanh, its input checks, and the NumPy fallback where it is not built.
"""

import numpy as np
import pytest

from model import fast_path
from model.encoder_config import EncoderConfig
from model.fast_path import NumpyGru
from tests.model.native import built


@pytest.fixture
def native():
    return built(fast_path.native_scan, "_gru_scan")


def _gru(hidden: int, members: int = 1, layers: int = 1, seed: int = 0) -> NumpyGru:
    rng = np.random.default_rng(seed)
    config = EncoderConfig(
        vocab_size=50,
        embedding_dim=12,
        hidden_size=hidden,
        num_layers=layers,
        bidirectional=True,
        pooling="mean",
        members=members,
    )
    states = []
    for _ in range(members):
        state = {"embedding.weight": rng.normal(0, 1, (50, 12)).astype(np.float32)}
        for layer in range(layers):
            inputs = 12 if layer == 0 else 2 * hidden
            for suffix in (f"_l{layer}", f"_l{layer}_reverse"):
                shapes = {
                    "weight_ih": (3 * hidden, inputs),
                    "weight_hh": (3 * hidden, hidden),
                    "bias_ih": (3 * hidden,),
                    "bias_hh": (3 * hidden,),
                }
                for name, shape in shapes.items():
                    weights = rng.normal(0, 0.4, shape).astype(np.float32)
                    state[f"gru.{name}{suffix}"] = weights
        states.append(state)
    return NumpyGru(config, states)


def _texts(seed: int, count: int) -> list[list[list[int]]]:
    rng = np.random.default_rng(seed)
    return [
        [list(rng.integers(0, 50, rng.integers(1, 4))) for _ in range(rng.integers(1, 14))]
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    ("hidden", "members", "layers"), [(8, 1, 1), (64, 1, 1), (70, 2, 1), (24, 1, 2)]
)
def test_c_and_numpy_scans_give_the_same_vectors(native, monkeypatch, hidden, members, layers):
    gru = _gru(hidden, members, layers)
    texts = _texts(hidden, 9)  # lengths 1-13: texts drop out of the batch at different steps
    calls = []

    class Counted:
        def scan(self, *args):
            calls.append(args[-3:])
            return native.scan(*args)

    monkeypatch.setattr(fast_path, "native_scan", Counted())
    fast_one = np.stack([gru(text) for text in texts])
    fast_many = gru.encode_many(texts)
    assert len(calls) == (len(texts) + 1) * layers  # every scan ran in C
    monkeypatch.setattr(fast_path, "native_scan", None)
    slow_one = np.stack([gru(text) for text in texts])
    slow_many = gru.encode_many(texts)
    np.testing.assert_allclose(fast_one, slow_one, atol=1e-5)
    np.testing.assert_allclose(fast_many, slow_many, atol=1e-5)
    np.testing.assert_allclose(fast_many, fast_one, atol=1e-5)


def test_the_scans_states_match_step_by_step(native):
    gru = _gru(70, members=2)
    rng = np.random.default_rng(1)
    gates = rng.normal(0, 2, (6, 4, 3, 3 * 70)).astype(np.float32)  # T, rows, batch, 3H
    active = [3, 3, 2, 2, 1, 0]
    got = gru._scan(gru.layers[0], gates, active)
    states = np.zeros_like(got)
    states[..., 70] = 1.0
    expected = gru._numpy_scan(gru.layers[0], gates, active, states)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not got[6, :, :, :70].any()  # the last step ran no text: its states stay zero
    assert got[3, :, 1, :70].any() and not got[3, :, 2, :70].any()


def test_tanh_is_within_two_tenths_of_a_millionth(native):
    grid = np.linspace(-12, 12, 400_001, dtype=np.float32)
    tiny = np.float32(10.0) ** np.arange(-38, 0, 0.01, dtype=np.float32)
    x = np.concatenate([grid, tiny, -tiny, [0.0, -0.0, 9.0, -9.0, 1e30, -1e30]]).astype(np.float32)
    out = np.empty_like(x)
    native.tanh(x, out)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(out - exact).max() < 2e-7
    relative = np.abs(out - exact) / np.maximum(np.abs(exact), np.finfo(np.float32).tiny)
    assert relative.max() < 2e-7
    assert np.signbit(out[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()
    special = np.array([np.inf, -np.inf, np.nan], dtype=np.float32)
    native.tanh(special, out[:3])
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2])


def test_bad_buffers_are_value_errors_not_crashes(native):
    hidden, rows, batch, steps = 8, 2, 1, 3
    gates = np.zeros((steps, rows, batch, 3 * hidden), np.float32)
    w_hh = np.zeros((rows, hidden + 1, 3 * hidden), np.float32)
    states = np.zeros((steps + 1, rows, batch, hidden + 1), np.float32)
    active = np.ones(steps, np.int64)
    native.scan(gates, w_hh, states, active, rows, batch, hidden)  # the right shapes run
    bad_calls = {
        "gates": (gates[:2], w_hh, states, active, rows, batch, hidden),
        "w_hh": (gates, w_hh.astype(np.float64), states, active, rows, batch, hidden),
        "states": (gates, w_hh, states[:3], active, rows, batch, hidden),
        r"active\[": (gates, w_hh, states, np.array([1, 2, 1], np.int64), rows, batch, hidden),
        "unsupported": (gates, w_hh, states, active, rows, batch, 0),
    }
    for expected, args in bad_calls.items():
        with pytest.raises(ValueError, match=expected):
            native.scan(*args)
    with pytest.raises(TypeError):  # a read-only states buffer cannot be written
        native.scan(gates, w_hh, np.frombuffer(states.tobytes(), np.float32), active, 2, 1, 8)
