"""NumPy inference of one or a few sentences through the GRU encoder: the /ask hot path and
small FAQ writes.

For a single short question PyTorch's CPU GRU spends most of its time dispatching ~100 small
ops per time step (~0.9 ms for 8 words, biGRU 128). Here the input projections are one
matmul per layer and direction, and each time step runs BOTH directions in one batched
matmul, so a question costs ~10 NumPy calls per word. `encode_many` runs several texts
through the same ~10 calls per step (0.17-0.18 ms a text in batches of 8-32, against 0.30 ms
one by one). Weights are extracted once. Bulk encoding (`SentenceEncoder.encode` past 128
texts) stays in PyTorch; tests check all paths agree to 1e-5.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.encoder import EncoderNetwork, member_networks


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1/(1+e^-x), no overflow warnings


def _gru_step(
    g_in: np.ndarray, h: np.ndarray, w_hh_t: np.ndarray, b_hh: np.ndarray, hidden: int
) -> np.ndarray:
    """One GRU time step, PyTorch's gate order (r, z, n): input gates g_in (MD, b, 3H) and
    state h (MD, b, H) → the next state (MD, b, H)."""
    g_h = h @ w_hh_t + b_hh  # (MD, b, 3H)
    rz = _sigmoid(g_in[..., : 2 * hidden] + g_h[..., : 2 * hidden])
    r, z = rz[..., :hidden], rz[..., hidden:]
    n = np.tanh(g_in[..., 2 * hidden :] + r * g_h[..., 2 * hidden :])
    return (1.0 - z) * n + z * h


class NumpyGru:
    """Frozen float32 copy of a `GruEncoder` or `EnsembleEncoder`: piece ids → unit vectors.

    An ensemble's members run side by side as extra "directions" of the same batched
    matmuls (member m's directions are rows m·D … m·D + D − 1), so a second member adds
    arithmetic but no NumPy calls.
    """

    def __init__(self, network: EncoderNetwork) -> None:
        config = network.config
        members = member_networks(network)
        self.members = len(members)
        self.pooling = config.pooling
        self.directions = 2 if config.bidirectional else 1
        self.hidden = config.hidden_size
        states = [
            {k: v.detach().float().cpu().numpy() for k, v in m.state_dict().items()}
            for m in members
        ]
        self.embeddings = [state["embedding.weight"] for state in states]  # M x (V, E)
        self.layers = []
        for layer in range(config.num_layers):
            suffixes = [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

            def stacked(name: str, suffixes: list[str] = suffixes) -> np.ndarray:
                """(M·D, ...), member-major: member m's directions are rows m·D …"""
                return np.stack([st[f"gru.{name}{s}"] for st in states for s in suffixes])

            w_ih = stacked("weight_ih")  # (MD, 3H, I)
            b_ih = stacked("bias_ih")  # (MD, 3H)
            # (MD, H, 3H): hidden → gates, ready for h (MD, 1, H) @ w
            w_hh_t = np.ascontiguousarray(stacked("weight_hh").transpose(0, 2, 1))
            b_hh = stacked("bias_hh")[:, None, :]  # (MD, 1, 3H)
            self.layers.append((np.ascontiguousarray(w_ih.transpose(0, 2, 1)), b_ih, w_hh_t, b_hh))

    def embed(self, positions: Sequence[Sequence[int]]) -> np.ndarray:
        """(M, T, E): each member's mean embedding of each position's pieces (the same as
        GruEncoder.embed)."""
        counts = np.fromiter((len(p) for p in positions), dtype=np.int64, count=len(positions))
        flat = np.fromiter((i for p in positions for i in p), dtype=np.int64, count=counts.sum())
        rows = np.stack([table[flat] for table in self.embeddings])  # (M, N, E)
        if len(flat) == len(positions):
            return rows
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return np.add.reduceat(rows, starts, axis=1) / counts[:, None].astype(np.float32)

    def _unit_concat(self, pooled: np.ndarray) -> np.ndarray:
        """(M, B, member_dim) pooled → (B, M·member_dim): unit per member, / sqrt(M)."""
        norms = np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
        unit = pooled / (norms * np.sqrt(self.members))
        return unit.transpose(1, 0, 2).reshape(pooled.shape[1], -1).astype(np.float32)

    def __call__(self, positions: Sequence[Sequence[int]]) -> np.ndarray:
        """One text's piece ids per position → unit vector (dim,)."""
        x = self.embed(positions)  # (M, T, E)
        steps, hidden, directions = x.shape[1], self.hidden, self.directions
        rows = self.members * directions
        finals = None
        for w_ih_t, b_ih, w_hh_t, b_hh in self.layers:
            x_rows = np.repeat(x, directions, axis=0) if directions > 1 else x  # (MD, T, I)
            gates_in = x_rows @ w_ih_t + b_ih[:, None, :]  # (MD, T, 3H)
            if directions == 2:
                gates_in[1::2] = gates_in[1::2, ::-1]  # backward directions read it reversed
            h = np.zeros((rows, 1, hidden), dtype=np.float32)
            out = np.empty((rows, steps, hidden), dtype=np.float32)
            for t in range(steps):
                h = _gru_step(gates_in[:, t : t + 1, :], h, w_hh_t, b_hh, hidden)  # (MD, 1, H)
                out[:, t] = h[:, 0]
            finals = h[:, 0]  # (MD, H): final state of each direction
            if directions == 2:
                out[1::2] = out[1::2, ::-1]  # back to text order
            # (M, T, D·H): each member's directions side by side, as PyTorch lays them out
            x = (
                out.reshape(self.members, directions, steps, hidden)
                .transpose(0, 2, 1, 3)
                .reshape(self.members, steps, directions * hidden)
            )
        if self.pooling == "last":
            pooled = finals.reshape(self.members, -1)
        elif self.pooling == "mean":
            pooled = x.mean(1)
        else:
            pooled = x.max(1)
        return self._unit_concat(pooled[:, None, :])[0]

    def encode_many(self, texts: Sequence[Sequence[Sequence[int]]]) -> np.ndarray:
        """Several texts' piece ids → unit vectors (B, dim), in one pass over the time steps.

        Texts are sorted longest first and zero-padded to the longest; at step t only the
        texts longer than t are computed (as in a packed sequence), so the work follows the
        total length, not B x the longest. Pooling only sees a text's own positions, and the
        backward direction reads each text's own positions reversed.
        """
        if len(texts) == 1:
            return self(texts[0])[None, :]
        batch, hidden, directions = len(texts), self.hidden, self.directions
        members, rows_md = self.members, self.members * self.directions
        unsorted_lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=batch)
        order = np.argsort(-unsorted_lengths, kind="stable")
        lengths = unsorted_lengths[order]
        steps = int(lengths[0])
        x = np.zeros((members, batch, steps, self.embeddings[0].shape[1]), dtype=np.float32)
        for row, text_no in enumerate(order):
            x[:, row, : lengths[row]] = self.embed(texts[text_no])
        time_index = np.arange(steps)
        valid = time_index[None, :] < lengths[:, None]  # (B, T)
        # Texts still running at step t: lengths are descending, so always a prefix.
        active = (lengths[None, :] > time_index[:, None]).sum(1)  # (T,)
        # reversed_at[b, t]: the position the backward direction reads at step t (padding stays
        # in place, after the text). The permutation is its own inverse.
        reversed_at = np.where(valid, lengths[:, None] - 1 - time_index[None, :], time_index)
        rows = np.arange(batch)[:, None]
        for w_ih_t, b_ih, w_hh_t, b_hh in self.layers:
            x_rows = np.repeat(x, directions, axis=0) if directions > 1 else x  # (MD, B, T, I)
            gates_in = x_rows @ w_ih_t[:, None] + b_ih[:, None, None, :]  # (MD, B, T, 3H)
            if directions == 2:
                gates_in[1::2] = gates_in[1::2][:, rows, reversed_at]
            h = np.zeros((rows_md, batch, hidden), dtype=np.float32)
            out = np.zeros((rows_md, batch, steps, hidden), dtype=np.float32)
            for t in range(steps):
                n_active = active[t]
                # Finished texts (rows past n_active) keep their final state in h.
                h[:, :n_active] = _gru_step(
                    gates_in[:, :n_active, t], h[:, :n_active], w_hh_t, b_hh, hidden
                )
                out[:, :n_active, t] = h[:, :n_active]
            if directions == 2:
                out[1::2] = out[1::2][:, rows, reversed_at]  # back to text order
            x = (
                out.reshape(members, directions, batch, steps, hidden)
                .transpose(0, 2, 3, 1, 4)
                .reshape(members, batch, steps, directions * hidden)
            )
        if self.pooling == "last":  # final state of each direction
            pooled = (
                h.reshape(members, directions, batch, hidden)
                .transpose(0, 2, 1, 3)
                .reshape(members, batch, -1)
            )
        elif self.pooling == "mean":
            pooled = (x * valid[None, :, :, None]).sum(2) / lengths[:, None].astype(np.float32)
        else:
            pooled = np.where(valid[None, :, :, None], x, -np.inf).max(2)
        result = np.empty((batch, pooled.shape[0] * pooled.shape[2]), dtype=np.float32)
        result[order] = self._unit_concat(pooled)  # back to the callers' order
        return result
