"""Real phrasing vectors for `samesay bench index --vectors real`.

Synthetic clusters set how hard nearest-neighbour search is by a formula; real sentence
vectors have the multi-scale structure (near-duplicates, paraphrases, topics, languages)
that IVF and HNSW exploit. So this source encodes the shared datasets' sentences, English
and Chinese, with the shipped base encoder, and where a size needs more phrasings than the
datasets hold, adds noisy copies of them (typos, dropped words, synonyms: what alternates
and customers' spellings look like). Queries are real paraphrases: one sentence of each of
`queries` paraphrase groups, kept out of the index while the rest of its group is in it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.config import GROUP_SETS
from index.searcher import Encoder
from training.augment import AugmentConfig, noisy_copy
from training.readers import read_group_tsv

UNLABELLED_SETS = ("sgd_user_en", "crosswoz_user_zh", "kdconv_zh")
ENCODE_CHUNK = 20_000  # sentences per progress step


@dataclass(frozen=True)
class PhrasingVectors:
    vectors: np.ndarray  # (size, d) float32 unit rows: what the index holds
    queries: np.ndarray  # (queries, d) float32 unit rows: held-out paraphrases
    source: str


def real_phrasing_vectors(
    size: int,
    queries: int,
    data_root: Path,
    encoder: Encoder,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> PhrasingVectors:
    """`size` phrasing vectors and `queries` query vectors from the shared datasets.

    Encoding 1M sentences takes minutes on 2 cores: with `cache_dir` the vectors are kept
    there (float16, keyed by encoder, size and seed) for the next run.
    """
    cache = None
    if cache_dir is not None:
        key = f"{encoder.content_hash[:16]}-{size}-{queries}-{seed}"
        cache = cache_dir / f"bench-index-{key}.npz"
        if cache.is_file():
            with np.load(cache) as saved:
                return PhrasingVectors(
                    _unit(saved["vectors"]), _unit(saved["queries"]), f"{saved['source']}"
                )
    texts, asked, source = phrasing_texts(size, queries, data_root, seed)
    vectors = _encode(encoder, texts)
    asked_vectors = encoder.encode(asked, batch_size=512)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache, vectors=vectors.astype(np.float16), queries=asked_vectors.astype(np.float16),
            source=np.array(source),
        )
    return PhrasingVectors(vectors, asked_vectors, source)


def phrasing_texts(
    size: int, queries: int, data_root: Path, seed: int = 0
) -> tuple[list[str], list[str], str]:
    """(`size` distinct phrasings, `queries` held-out paraphrases of some of them, source)."""
    rng = random.Random(seed)
    groups = [
        group
        for name in GROUP_SETS
        if (data_root / name / "groups.tsv").is_file()
        for group in read_group_tsv(data_root / name / "groups.tsv").groups().values()
    ]
    unlabelled = [
        line.split("\t", 1)[0].strip()
        for name in UNLABELLED_SETS
        if (data_root / name / "sentences.tsv").is_file()
        for line in (data_root / name / "sentences.tsv").read_text(encoding="utf-8").splitlines()
    ]
    if not groups:
        raise FileNotFoundError(f"no paraphrase groups under {data_root} (need {GROUP_SETS})")
    rng.shuffle(groups)
    asked: list[str] = []
    # The asked groups' other members go in first, so every query has its paraphrases stored.
    stored: dict[str, None] = {}
    for group in groups:
        distinct = list(dict.fromkeys(text.strip() for text in group if text.strip()))
        if len(asked) < queries and len(distinct) >= 2:
            asked.append(distinct[0])
            stored.update(dict.fromkeys(distinct[1:]))
    held_out = set(asked)
    rest = [text.strip() for group in groups for text in group] + unlabelled
    rng.shuffle(rest)
    for text in rest:
        if len(stored) >= size:
            break
        if text and text not in held_out:
            stored.setdefault(text)
    originals = len(stored)
    pool = list(stored)
    augment = AugmentConfig()
    attempts = 0
    while len(stored) < size and attempts < 20 * size:
        attempts += 1
        variant = noisy_copy(rng.choice(pool), augment, rng).strip()
        if variant and variant not in held_out:
            stored.setdefault(variant)
    if len(stored) < size:
        raise ValueError(f"could not make {size} distinct phrasings from {data_root}")
    texts = list(stored)[:size]
    source = (
        f"{min(originals, size):,} dataset sentences + {max(0, size - originals):,} noisy "
        f"copies; {len(asked)} held-out paraphrases as queries"
    )
    return texts, asked, source


def _encode(encoder: Encoder, texts: list[str]) -> np.ndarray:
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    with tqdm(total=len(texts), desc="encoding phrasings", unit="phrasing") as bar:
        for start in range(0, len(texts), ENCODE_CHUNK):
            chunk = texts[start : start + ENCODE_CHUNK]
            out[start : start + len(chunk)] = encoder.encode(chunk, batch_size=512)
            bar.update(len(chunk))
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
