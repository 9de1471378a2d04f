"""NumPy inference of one or a few sentences through the GRU encoder: the /ask hot path and
small FAQ writes.

For a single short question PyTorch's CPU GRU spends most of its time dispatching ~100 small
ops per time step (~0.9 ms for 8 words, biGRU 128). Here layer 0's input gates are cached per
position (a word's pieces), each time step runs BOTH directions in one batched matmul followed
by 10 ufunc calls into buffers allocated once per call, and max/mean pooling read the steps
in place. One /ask question (~11 positions, shipped bilingual biGRU 128, one thread) costs
~310 us against ~465 us before this layout; `encode_many` runs several texts through the
same calls per step (~220 us a text in batches of 8, was ~340). Weights are extracted once.
Bulk encoding (`SentenceEncoder.encode` past 128 texts) stays in PyTorch; tests check all
paths agree to 1e-5.

The recurrence itself runs in C when the optional extension `model._gru_scan` is built (the
install compiles it where a C compiler is found, setup.py): in NumPy a step is ~11 calls
whose fixed cost is most of it, and one /ask question's scan took ~290 us against ~115 us
in C on the 2-core machines. Without the extension the NumPy scan below runs, same vectors.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from model.encoder_config import EncoderConfig

try:
    from model import _gru_scan as native_scan
except ImportError:  # not built (no C compiler at install): the NumPy scan runs instead
    native_scan = None

# model/_gru_scan.c keeps one step's gates on the stack: 3H floats, H up to 1024.
_NATIVE_MAX_HIDDEN = 1024

# One member's tensors by PyTorch name (`embedding.weight`, `gru.weight_ih_l0`, ...), float32.
MemberState = dict[str, np.ndarray]

# A float32 scalar: a Python float costs ~0.2 us more per ufunc call (NEP 50 weak scalar).
_HALF = np.float32(0.5)


class _Layer(NamedTuple):
    """One GRU layer of every member and direction, gate order (r, z, n) as in PyTorch. The
    r and z rows of every weight and bias are halved (exact in float), so that a gate's
    sigmoid is 0.5 * tanh(pre-activation) + 0.5 with no scaling of the pre-activation."""

    w_in: np.ndarray  # (M, I, D·3H): input → gates, member m's directions side by side
    b_in: np.ndarray  # (M, 1, D·3H): bias_ih
    # (MD, H+1, 3H): state → gates, bias_hh as the last row. The state carries a constant 1
    # in column H, so the step matmul adds bias_hh (needed inside r * (W_hn h + b_hn)).
    w_hh: np.ndarray


class NumpyGru:
    """Frozen float32 GRU encoder (a `GruEncoder`, or an `EnsembleEncoder` given one state per
    member): piece ids → unit vectors. Needs no torch: the serving path builds it from the
    checkpoint file (model.numpy_encoder), SentenceEncoder from its network's tensors.

    An ensemble's members run side by side as extra "directions" of the same batched
    matmuls (member m's directions are rows m·D … m·D + D − 1), so a second member adds
    arithmetic but no NumPy calls.
    """

    def __init__(self, config: EncoderConfig, states: Sequence[MemberState]) -> None:
        if len(states) != config.members:
            raise ValueError(f"{config.members} member state(s) expected, got {len(states)}")
        self.members = len(states)
        self.pooling = config.pooling
        self.directions = 2 if config.bidirectional else 1
        self.hidden = config.hidden_size
        self.embeddings = [state["embedding.weight"] for state in states]  # M x (V, E)
        hidden, members, directions = self.hidden, self.members, self.directions
        half_rz = np.ones(3 * hidden, dtype=np.float32)
        half_rz[: 2 * hidden] = 0.5
        self.layers: list[_Layer] = []
        for layer in range(config.num_layers):
            suffixes = [f"_l{layer}", f"_l{layer}_reverse"][:directions]

            def stacked(name: str, suffixes: list[str] = suffixes) -> np.ndarray:
                """(M·D, 3H, ...), member-major, with the r and z rows halved."""
                rows = np.stack([st[f"gru.{name}{s}"] for st in states for s in suffixes])
                return rows * half_rz.reshape((1, -1) + (1,) * (rows.ndim - 2))

            w_ih = stacked("weight_ih")  # (MD, 3H, I)
            w_in = w_ih.reshape(members, directions * 3 * hidden, -1).transpose(0, 2, 1)
            b_in = stacked("bias_ih").reshape(members, 1, -1)
            w_hh = np.concatenate(
                [stacked("weight_hh").transpose(0, 2, 1), stacked("bias_hh")[:, None, :]], axis=1
            )
            self.layers.append(_Layer(np.ascontiguousarray(w_in), b_in, np.ascontiguousarray(w_hh)))
        # ~16 MB of positions' input gates (3 KB each for one member of biGRU 128).
        row_bytes = 4 * members * directions * 3 * hidden
        self._cached_gates = functools.lru_cache(maxsize=max(256, (16 << 20) // row_bytes))(
            self._position_gates
        )

    def _position_gates(self, pieces: tuple[int, ...]) -> np.ndarray:
        """(M, D·3H), read-only: layer 0's input gates for one position, from each member's
        mean embedding of its pieces (as GruEncoder.embed). Cached per position (__init__):
        a question's words mostly repeat, and this projection was a fifth of its cost."""
        ids = list(pieces)
        x = np.stack([table[ids].sum(0) for table in self.embeddings])  # (M, E)
        if len(ids) > 1:
            x /= np.float32(len(ids))
        layer = self.layers[0]
        gates = (x[:, None, :] @ layer.w_in + layer.b_in)[:, 0]
        gates.flags.writeable = False  # shared by every later text with this position
        return gates

    def _text_gates(self, positions: Sequence[Sequence[int]]) -> np.ndarray:
        """(T, M, D·3H): layer 0's input gates of one text, text order."""
        return np.stack([self._cached_gates(tuple(p)) for p in positions])

    def _unit_concat(self, pooled: np.ndarray) -> np.ndarray:
        """(M, B, member_dim) pooled → (B, M·member_dim): unit per member, / sqrt(M)."""
        norms = np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
        unit = pooled / (norms * np.sqrt(self.members))
        return unit.transpose(1, 0, 2).reshape(pooled.shape[1], -1).astype(np.float32)

    def _project(self, layer: _Layer, x: np.ndarray) -> np.ndarray:
        """Layer input x (M, B, T, I), text order → input gates (T, B, M, D, 3H) (layers past the
        first: their input depends on the whole text, so it is not cached)."""
        members, batch, steps = x.shape[:3]
        gates = x.reshape(members, batch * steps, -1) @ layer.w_in + layer.b_in
        return gates.reshape(members, batch, steps, self.directions, -1).transpose(2, 1, 0, 3, 4)

    def _scan(self, layer: _Layer, gates: np.ndarray, active: Sequence[int]) -> np.ndarray:
        """Run the recurrence over input gates (T, MD, B, 3H), in step order, with `active[t]`
        texts (a prefix) still running at step t. → states (T+1, MD, B, H+1): step t's state
        in [t + 1, ..., :H]; a finished text's rows stay as they were (zeros)."""
        steps, rows, batch = gates.shape[:3]
        hidden = self.hidden
        states = np.zeros((steps + 1, rows, batch, hidden + 1), dtype=np.float32)
        states[..., hidden] = 1.0  # multiplies the bias row of w_hh
        if native_scan is not None and hidden <= _NATIVE_MAX_HIDDEN:
            native_scan.scan(
                np.ascontiguousarray(gates),
                layer.w_hh,
                states,
                np.asarray(active, dtype=np.int64),
                rows,
                batch,
                hidden,
            )
            return states
        return self._numpy_scan(layer, gates, active, states)

    def _numpy_scan(
        self, layer: _Layer, gates: np.ndarray, active: Sequence[int], states: np.ndarray
    ) -> np.ndarray:
        """`_scan` in NumPy, into `states` as `_scan` prepared them."""
        steps, rows, batch = gates.shape[:3]
        hidden = self.hidden
        g_h = np.empty((rows, batch, 3 * hidden), dtype=np.float32)
        rz = np.empty((rows, batch, 2 * hidden), dtype=np.float32)
        n = np.empty((rows, batch, hidden), dtype=np.float32)
        d = np.empty((rows, batch, hidden), dtype=np.float32)
        # Views made once: slicing costs about as much as a small ufunc call. For one text they
        # drop the batch axis: a ufunc call on 2-D views costs less than on 3-D ones.
        one = 0 if batch == 1 else slice(None)
        g_rz, g_n = gates[:, :, one, : 2 * hidden], gates[:, :, one, 2 * hidden :]
        h = states[:, :, one, :hidden]
        full = (
            g_h,
            g_h[:, one, : 2 * hidden],
            g_h[:, one, 2 * hidden :],
            rz[:, one],
            rz[:, one, :hidden],
            rz[:, one, hidden:],
            n[:, one],
            d[:, one],
        )
        w_hh = layer.w_hh
        for t, k in enumerate(active):
            if k == batch:
                gh_, gh_rz, gh_n, rz_, r, z, n_, d_ = full
                h_in, h_prev, h_next, gi_rz, gi_n = states[t], h[t], h[t + 1], g_rz[t], g_n[t]
            else:  # only the first k texts are still running (batch > 1: 3-D views)
                gh_, gh_rz, gh_n, rz_, r, z, n_, d_ = (a[:, :k] for a in full)
                h_in, h_prev, h_next = states[t, :, :k], h[t, :, :k], h[t + 1, :, :k]
                gi_rz, gi_n = g_rz[t, :, :k], g_n[t, :, :k]
            np.matmul(h_in, w_hh, out=gh_)  # (MD, k, 3H), bias_hh included
            np.add(gi_rz, gh_rz, out=rz_)
            np.tanh(rz_, out=rz_)  # halved weights: sigmoid(a) = 0.5 * tanh(a / 2) + 0.5
            np.multiply(rz_, _HALF, out=rz_)
            np.add(rz_, _HALF, out=rz_)  # (r, z)
            np.multiply(r, gh_n, out=n_)
            np.add(n_, gi_n, out=n_)
            np.tanh(n_, out=n_)
            np.subtract(h_prev, n_, out=d_)
            np.multiply(d_, z, out=d_)
            np.add(n_, d_, out=h_next)  # h' = n + z * (h - n) = (1 - z) * n + z * h
        return states

    def _step_order(self, gates: np.ndarray, reversed_at: np.ndarray | None) -> np.ndarray:
        """Input gates (T, B, M, D, 3H), text order → (T, MD, B, 3H), the order each direction
        reads them: the backward direction at step t reads position reversed_at[b, t] (or
        T - 1 - t for a single text)."""
        steps, batch, members, directions, width = gates.shape
        by_step = gates.transpose(0, 2, 3, 1, 4)  # (T, M, D, B, 3H)
        out = np.empty(by_step.shape, dtype=np.float32)
        out[:, :, 0] = by_step[:, :, 0]
        if directions == 2:
            if reversed_at is None:
                out[:, :, 1] = by_step[::-1, :, 1]
            else:  # advanced indices first: (T, B, M, 3H)
                picked = gates[reversed_at.T, np.arange(batch)[None, :], :, 1]
                out[:, :, 1] = picked.transpose(0, 2, 1, 3)
        return out.reshape(steps, members * directions, batch, width)

    def _encode(self, texts: Sequence[Sequence[Sequence[int]]]) -> np.ndarray:
        """Texts' piece ids → unit vectors (B, dim), all texts in one pass over the steps.

        Texts are sorted longest first and zero-padded to the longest; at step t only the
        texts longer than t are computed (as in a packed sequence), so the work follows the
        total length, not B x the longest. Pooling only sees a text's own positions, and the
        backward direction reads each text's own positions reversed.
        """
        batch, hidden, directions, members = len(texts), self.hidden, self.directions, self.members
        width = directions * 3 * hidden
        if batch == 1:  # the /ask path: no sorting, masking or gathering
            order, lengths = np.zeros(1, dtype=np.int64), np.array([len(texts[0])])
            gates = self._text_gates(texts[0])[:, None]  # (T, 1, M, D·3H)
            active: Sequence[int] = [1] * len(texts[0])
            reversed_at = valid = None
        else:
            unsorted = np.fromiter((len(t) for t in texts), dtype=np.int64, count=batch)
            order = np.argsort(-unsorted, kind="stable")
            lengths = unsorted[order]
            gates = np.zeros((int(lengths[0]), batch, members, width), dtype=np.float32)
            for row, text_no in enumerate(order):
                gates[: lengths[row], row] = self._text_gates(texts[text_no])
            time_index = np.arange(int(lengths[0]))
            valid = time_index[None, :] < lengths[:, None]  # (B, T)
            # Texts still running at step t: lengths are descending, so always a prefix.
            active = (lengths[None, :] > time_index[:, None]).sum(1).tolist()
            # Padding stays in place, after the text; the permutation is its own inverse.
            reversed_at = np.where(valid, lengths[:, None] - 1 - time_index[None, :], time_index)
        steps = gates.shape[0]
        gates = gates.reshape(steps, batch, members, directions, 3 * hidden)
        for number, layer in enumerate(self.layers):
            states = self._scan(layer, self._step_order(gates, reversed_at), active)
            h = states[1:, ..., :hidden].reshape(steps, members, directions, batch, hidden)
            if number + 1 < len(self.layers):
                # The next layer's input (M, B, T, D·H), text order: as PyTorch lays it out.
                per_direction = [h[:, :, 0]]  # (T, M, B, H)
                if directions == 2:
                    if reversed_at is None:
                        per_direction.append(h[::-1, :, 1])
                    else:
                        back = h[:, :, 1][reversed_at.T, :, np.arange(batch)[None, :]]
                        per_direction.append(back.transpose(0, 2, 1, 3))
                x = np.concatenate(per_direction, axis=-1).transpose(1, 2, 0, 3)
                gates = self._project(self.layers[number + 1], x)
        if self.pooling == "last":  # final state of each direction: step = the text's length
            finals = states[lengths, :, np.arange(batch), :hidden]  # (B, MD, H)
            pooled = finals.reshape(batch, members, -1).transpose(1, 0, 2)
        else:  # over the text's steps, whose order (backward direction) does not matter
            mask = None if valid is None else valid.T[:, None, None, :, None]  # (T, 1, 1, B, 1)
            if self.pooling == "mean":
                summed = h.sum(0) if mask is None else np.where(mask, h, 0.0).sum(0)
                by_direction = summed / lengths[:, None].astype(np.float32)  # (M, D, B, H)
            else:
                by_direction = h.max(0) if mask is None else np.where(mask, h, -np.inf).max(0)
            pooled = by_direction.transpose(0, 2, 1, 3).reshape(members, batch, -1)
        if batch == 1:
            return self._unit_concat(pooled)
        result = np.empty((batch, members * pooled.shape[2]), dtype=np.float32)
        result[order] = self._unit_concat(pooled)  # back to the callers' order
        return result

    def __call__(self, positions: Sequence[Sequence[int]]) -> np.ndarray:
        """One text's piece ids per position → unit vector (dim,)."""
        return self._encode([positions])[0]

    def encode_many(self, texts: Sequence[Sequence[Sequence[int]]]) -> np.ndarray:
        """Several texts' piece ids → unit vectors (B, dim), in one pass over the time steps."""
        return self._encode(texts)
