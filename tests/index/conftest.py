"""Index test helpers: FAQ drafts from the fixture paraphrase groups, a second encoder."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from index.searcher import FaqSearcher, SearcherConfig
from store.entries import FaqDraft
from store.faq_store import FaqStore


def drafts_from_groups(groups: dict[str, list[str]]) -> list[FaqDraft]:
    """One FAQ per group: sentence 0 the question, 1-2 alternates, tagged by group parity."""
    return [
        FaqDraft(
            question=sentences[0],
            answer=f"answer for {group_id}",
            alternates=tuple(sentences[1:3]),
            tags=("even" if position % 2 == 0 else "odd", group_id),
        )
        for position, (group_id, sentences) in enumerate(groups.items())
    ]


def held_out_queries(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """group id -> the sentences not stored as phrasings (paraphrase queries)."""
    return {group_id: sentences[3:] for group_id, sentences in groups.items()}


class RotatedEncoder:
    """The tiny trained encoder followed by a fixed random rotation.

    A different embedding space (as after a retrain: vectors from the old index are
    meaningless to it) with the same retrieval quality, without paying for a second training
    run on the shared 2-core machine.
    """

    def __init__(self, base, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        rotation, _ = np.linalg.qr(rng.standard_normal((base.dim, base.dim)))
        self._rotation = rotation.astype(np.float32)  # (dim, dim) orthogonal: keeps unit norm
        self._base = base
        self.dim = base.dim
        self.lexical = base.lexical  # the same lexical half: only the vectors rotate
        self.faq_scoring = base.faq_scoring
        tag = f"{base.content_hash}:rotated:{seed}".encode()
        self.content_hash = hashlib.sha256(tag).hexdigest()

    def encode(self, texts, batch_size: int = 256) -> np.ndarray:
        return self._base.encode(texts, batch_size) @ self._rotation  # (n, dim)

    def encode_one(self, text: str) -> np.ndarray:
        return self._base.encode_one(text) @ self._rotation  # (dim,)


@pytest.fixture(scope="session")
def second_encoder(tiny_encoder) -> RotatedEncoder:
    return RotatedEncoder(tiny_encoder)


@pytest.fixture
def make_searcher(
    tmp_path: Path, tiny_encoder
) -> Iterator[Callable[..., FaqSearcher]]:
    """Build searchers over a store, by default into tmp_path/index with the tiny encoder."""

    def make(
        store: FaqStore,
        encoder=None,
        index_dir: Path | None = None,
        config: SearcherConfig | None = None,
    ) -> FaqSearcher:
        return FaqSearcher(
            store, encoder or tiny_encoder, index_dir or tmp_path / "index", config
        )

    yield make
