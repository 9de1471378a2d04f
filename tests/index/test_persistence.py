"""Saved index files: round trip, and every kind of damage is detected with a typed error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from index import persistence
from index.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from index.faq_index import FaqIndex, IndexConfig, vector_ids
from index.persistence import SIDECAR_NAME, load_index, read_meta, save_index
from store import files as store_files

DIM = 16
HASH = "a" * 64


def sample_index(n_faqs: int = 60, kind: str = "flat") -> tuple[FaqIndex, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = np.concatenate([vector_ids(faq, 3) for faq in range(1, n_faqs + 1)])
    vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    config = IndexConfig(kind=kind, min_ivf_vectors=100, nprobe=4096)
    return FaqIndex.build(vectors, ids, config), vectors


def save(index: FaqIndex, directory: Path, revision: int = 7):
    return save_index(
        index, directory, encoder_hash=HASH, store_id="store-1", store_revision=revision
    )


def load(directory: Path, encoder_hash: str = HASH, dimension: int = DIM):
    return load_index(directory, encoder_hash=encoder_hash, dimension=dimension)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_round_trip_keeps_vectors_and_sidecar(tmp_path: Path, kind: str) -> None:
    index, vectors = sample_index(kind=kind)
    meta = save(index, tmp_path)
    loaded, loaded_meta = load(tmp_path)
    assert loaded_meta == meta == read_meta(tmp_path)
    assert (meta.kind, meta.count, meta.dimension, meta.metric) == (kind, 180, DIM, "inner_product")
    assert (meta.encoder_hash, meta.store_id, meta.store_revision) == (HASH, "store-1", 7)
    assert loaded.search(vectors[4], 3) == index.search(vectors[4], 3)
    # only the sidecar, the lock file and the one index file it names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [SIDECAR_NAME, ".lock", meta.index_file]
    )


def test_a_newer_save_replaces_the_old_files(tmp_path: Path) -> None:
    index, vectors = sample_index()
    first = save(index, tmp_path, revision=1)
    index.remove_faqs([1])
    second = save(index, tmp_path, revision=2)
    assert first.index_file != second.index_file
    assert not (tmp_path / first.index_file).exists()
    loaded, meta = load(tmp_path)
    assert meta.store_revision == 2 and loaded.ntotal == 177


def test_missing_index_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="samesay index build"):
        load(tmp_path)
    meta = save(sample_index()[0], tmp_path)
    (tmp_path / meta.index_file).unlink()
    with pytest.raises(IndexMissingError, match="samesay index build"):
        load(tmp_path)


@pytest.mark.parametrize("cut", [0, 1, 100, -1])
def test_truncated_index_file_is_corrupt(tmp_path: Path, cut: int) -> None:
    meta = save(sample_index()[0], tmp_path)
    path = tmp_path / meta.index_file
    data = path.read_bytes()
    path.write_bytes(data[: cut if cut >= 0 else len(data) + cut])
    with pytest.raises(IndexCorruptError, match="samesay index build"):
        load(tmp_path)


def test_flipped_byte_fails_the_checksum(tmp_path: Path) -> None:
    meta = save(sample_index()[0], tmp_path)
    path = tmp_path / meta.index_file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        load(tmp_path)


def test_a_valid_checksum_over_garbage_is_still_rejected(tmp_path: Path) -> None:
    """A file FAISS cannot parse, with a sidecar that matches it byte for byte."""
    meta = save(sample_index()[0], tmp_path)
    garbage = np.frombuffer(os.urandom(4096), dtype=np.uint8)
    persistence.save_index_bytes(
        garbage, tmp_path, dimension=DIM, kind="flat", count=180, nlist=0,
        encoder_hash=HASH, store_id="store-1", store_revision=meta.store_revision,
    )
    with pytest.raises(IndexCorruptError):
        load(tmp_path)


@pytest.mark.parametrize(
    "sidecar", ["", "{not json", "[]", '{"format_version": 1}', "\xff\xfe"]
)
def test_unreadable_sidecar_is_corrupt(tmp_path: Path, sidecar: str) -> None:
    save(sample_index()[0], tmp_path)
    (tmp_path / SIDECAR_NAME).write_text(sidecar, encoding="latin-1")
    with pytest.raises(IndexCorruptError, match="samesay index build"):
        load(tmp_path)


def test_sidecar_from_another_model_or_dimension_is_a_mismatch(tmp_path: Path) -> None:
    save(sample_index()[0], tmp_path)
    with pytest.raises(IndexMismatchError, match="encoder"):
        load(tmp_path, encoder_hash="b" * 64)
    with pytest.raises(IndexMismatchError, match="dimension"):
        load(tmp_path, dimension=DIM * 2)
    raw = json.loads((tmp_path / SIDECAR_NAME).read_text())
    raw["format_version"] = 99
    (tmp_path / SIDECAR_NAME).write_text(json.dumps(raw))
    with pytest.raises(IndexMismatchError, match="format version"):
        load(tmp_path)


def test_sidecar_count_that_disagrees_with_the_file_is_corrupt(tmp_path: Path) -> None:
    index, _ = sample_index()
    data = index.to_bytes()
    persistence.save_index_bytes(
        data, tmp_path, dimension=DIM, kind="flat", count=999, nlist=0,
        encoder_hash=HASH, store_id="s", store_revision=1,
    )
    with pytest.raises(IndexCorruptError, match="n=180"):
        load(tmp_path)


def test_a_crash_before_the_sidecar_commit_leaves_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _ = sample_index()
    old = save(index, tmp_path, revision=1)
    index.remove_faqs([1, 2])
    real_replace = os.replace

    def crash_on_sidecar(src, dst):  # the index file lands, then "power is lost"
        if str(dst).endswith(SIDECAR_NAME):
            raise OSError("simulated crash")
        return real_replace(src, dst)

    # index files are written through store.files.atomic_write
    monkeypatch.setattr(store_files.os, "replace", crash_on_sidecar)
    with pytest.raises(OSError, match="simulated"):
        save(index, tmp_path, revision=2)
    monkeypatch.undo()
    loaded, meta = load(tmp_path)
    assert meta == old and loaded.ntotal == 180
    # the next successful save removes the orphaned new index file
    new = save(index, tmp_path, revision=2)
    assert {p.name for p in tmp_path.glob("faq_index-*")} == {new.index_file}
