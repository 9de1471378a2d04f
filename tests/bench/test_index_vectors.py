"""The real-vector source of `bench index`: held-out paraphrases, stored group-mates, top-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.index import BenchConfig, run_bench
from bench.index_vectors import phrasing_texts, real_phrasing_vectors


def write_sets(root: Path) -> None:
    (root / "hwu64_en").mkdir(parents=True)
    lines = [
        f"g{g}\t{text} number {g}"
        for g in range(30)
        for text in ("how do I reset my password", "password reset please", "forgot my login")
    ]
    (root / "hwu64_en" / "groups.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "sgd_user_en").mkdir()
    (root / "sgd_user_en" / "sentences.tsv").write_text(
        "Book a table for two tonight.\ttrain\nWhat's the weather in Paris?\tdev\n",
        encoding="utf-8",
    )


def test_queries_are_held_out_and_their_paraphrases_are_stored(tmp_path: Path) -> None:
    write_sets(tmp_path)
    texts, asked, source = phrasing_texts(60, 10, tmp_path, seed=3)
    assert len(texts) == len(set(texts)) == 60 and len(asked) == 10
    assert not set(asked) & set(texts)
    for question in asked:
        number = question.rsplit(" ", 1)[1]
        assert any(text.endswith(f" number {number}") for text in texts)
    assert "60 dataset sentences + 0 noisy copies" in source


def test_sizes_beyond_the_datasets_are_topped_up_with_distinct_noisy_copies(
    tmp_path: Path,
) -> None:
    write_sets(tmp_path)
    texts, asked, source = phrasing_texts(300, 5, tmp_path)
    assert len(set(texts)) == 300 and not set(asked) & set(texts)
    assert "87 dataset sentences + 213 noisy copies" in source  # 90 + 2 minus 5 held out
    with pytest.raises(FileNotFoundError):
        phrasing_texts(10, 2, tmp_path / "nothing here")


def test_real_vectors_are_encoded_cached_and_benched(
    tmp_path: Path, tiny_encoder, tiny_encoder_path: Path
) -> None:
    write_sets(tmp_path / "data")
    cache = tmp_path / "cache"
    first = real_phrasing_vectors(80, 8, tmp_path / "data", tiny_encoder, cache_dir=cache)
    assert first.vectors.shape == (80, tiny_encoder.dim) and first.queries.shape[0] == 8
    np.testing.assert_allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
    assert len(list(cache.iterdir())) == 1
    again = real_phrasing_vectors(80, 8, tmp_path / "data", tiny_encoder, cache_dir=cache)
    np.testing.assert_allclose(again.vectors, first.vectors, atol=2e-3)  # float16 on disk
    assert again.source == first.source
    config = BenchConfig(
        sizes=(80,), queries=8, nprobes=(64,), ef_searches=(64,), vectors="real",
        data_root=tmp_path / "data", model_path=tiny_encoder_path, cache_dir=cache,
    )
    assert [r.kind for r in run_bench(config)] == ["flat", "flat", "flat"]  # 80: too few
