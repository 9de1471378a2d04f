"""Index files on disk: crash-safe atomic saves with a JSON sidecar, and loads that verify it.

Layout of an index directory:

    faq_index.json                  the sidecar, written last: the commit point of a save
    faq_index-<sha256[:16]>.faiss   the CPU index the sidecar names (content-addressed)
    .lock                           flock'd while saving, so workers sharing the dir take turns

A save writes the index under a new content-addressed name (temp file, fsync, rename, fsync
the directory), then atomically replaces the sidecar, then deletes index files the sidecar no
longer names. A crash at any point leaves either the old sidecar with its old file or the new
sidecar with its new file, never a sidecar naming a half-written file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from index.faq_index import FaqIndex, IndexConfig
from store.files import atomic_write

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SIDECAR_NAME = "faq_index.json"
LOCK_NAME = ".lock"
INDEX_PREFIX = "faq_index-"
INDEX_SUFFIX = ".faiss"
METRIC = "inner_product"


@dataclass(frozen=True)
class IndexMeta:
    """The sidecar: what the index file holds and what it was built from."""

    format_version: int
    dimension: int
    metric: str
    kind: str
    count: int
    nlist: int
    encoder_hash: str
    store_id: str
    store_revision: int
    index_file: str
    sha256: str
    nbytes: int
    saved_at: str

    @classmethod
    def from_json(cls, text: str, where: Path) -> IndexMeta:
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise TypeError("not a JSON object")
            meta = cls(**raw)
        except (ValueError, TypeError) as error:
            raise IndexCorruptError(where, f"unreadable sidecar ({error})") from error
        if meta.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                where, f"format version {meta.format_version}, this code reads {FORMAT_VERSION}"
            )
        if meta.metric != METRIC:
            raise IndexCorruptError(where, f"metric {meta.metric!r}, expected {METRIC!r}")
        return meta


def save_index(
    index: FaqIndex, directory: Path, *, encoder_hash: str, store_id: str, store_revision: int
) -> IndexMeta:
    """Persist `index` (always its CPU form) and its sidecar atomically; returns the sidecar."""
    data = index.to_bytes()  # (nbytes,) uint8
    return save_index_bytes(
        data,
        directory,
        dimension=index.dim,
        kind=index.kind,
        count=index.ntotal,
        nlist=index.nlist,
        encoder_hash=encoder_hash,
        store_id=store_id,
        store_revision=store_revision,
    )


def save_index_bytes(
    data: np.ndarray,
    directory: Path,
    *,
    dimension: int,
    kind: str,
    count: int,
    nlist: int,
    encoder_hash: str,
    store_id: str,
    store_revision: int,
) -> IndexMeta:
    """Like `save_index` for an already serialised index (serialise under a lock, write after)."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    meta = IndexMeta(
        format_version=FORMAT_VERSION,
        dimension=dimension,
        metric=METRIC,
        kind=kind,
        count=count,
        nlist=nlist,
        encoder_hash=encoder_hash,
        store_id=store_id,
        store_revision=store_revision,
        index_file=f"{INDEX_PREFIX}{digest[:16]}{INDEX_SUFFIX}",
        sha256=digest,
        nbytes=int(data.nbytes),
        saved_at=datetime.now(UTC).isoformat(),
    )
    with _dir_lock(directory):
        _write_atomic(directory / meta.index_file, memoryview(data))
        sidecar = json.dumps(asdict(meta), indent=2).encode()
        _write_atomic(directory / SIDECAR_NAME, sidecar)  # the commit point
        _remove_unreferenced(directory, keep=meta.index_file)
    return meta


def read_meta(directory: Path) -> IndexMeta:
    """The sidecar of a saved index; raises IndexMissingError / IndexCorruptError."""
    path = directory / SIDECAR_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise IndexMissingError(directory, "no saved index (sidecar missing)") from error
    except (OSError, UnicodeDecodeError) as error:
        raise IndexCorruptError(path, f"sidecar unreadable ({error})") from error
    return IndexMeta.from_json(text, path)


def load_index(
    directory: Path, *, encoder_hash: str, dimension: int, config: IndexConfig | None = None
) -> tuple[FaqIndex, IndexMeta]:
    """Load and verify a saved index for this encoder.

    Checks, cheapest first: sidecar readable and of this format, same encoder hash and
    dimension, index file present with the recorded size and sha256, FAISS can read it, and its
    type, metric, dimension and count match the sidecar. Any failure raises an IndexFileError
    subclass whose message says to run `samesay index build`.
    """
    for attempt in range(2):
        meta = read_meta(directory)
        if meta.encoder_hash != encoder_hash:
            raise IndexMismatchError(
                directory,
                f"built for encoder {meta.encoder_hash[:12]}, the current one is "
                f"{encoder_hash[:12]}",
            )
        if meta.dimension != dimension:
            raise IndexMismatchError(
                directory, f"dimension {meta.dimension}, the encoder gives {dimension}"
            )
        path = directory / meta.index_file
        try:
            data = np.fromfile(path, dtype=np.uint8)  # (nbytes,)
        except FileNotFoundError as error:
            if attempt == 0:
                continue  # another worker may have just saved a newer one: re-read the sidecar
            raise IndexMissingError(path, "index file named by the sidecar is missing") from error
        break
    if data.nbytes != meta.nbytes:
        raise IndexCorruptError(path, f"{data.nbytes} bytes, the sidecar says {meta.nbytes}")
    if hashlib.sha256(data).hexdigest() != meta.sha256:
        raise IndexCorruptError(path, "checksum mismatch")
    index = FaqIndex.from_bytes(data, config)
    if index.dim != meta.dimension or index.ntotal != meta.count or index.kind != meta.kind:
        raise IndexCorruptError(
            path,
            f"holds {index.kind} d={index.dim} n={index.ntotal}, the sidecar says "
            f"{meta.kind} d={meta.dimension} n={meta.count}",
        )
    return index, meta


def _write_atomic(path: Path, data: bytes | memoryview) -> None:
    with atomic_write(path) as file:
        file.write(data)


@contextlib.contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    with open(directory / LOCK_NAME, "a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _remove_unreferenced(directory: Path, keep: str) -> None:
    """Delete index files the sidecar no longer names and temp files of crashed saves.

    Runs under the directory lock, so no other save is writing a temp file right now.
    """
    for path in directory.iterdir():
        stale_index = path.name.startswith(INDEX_PREFIX) and path.name.endswith(INDEX_SUFFIX)
        stale_temp = path.name.startswith(".") and path.name.endswith(".tmp")
        if (stale_index and path.name != keep) or stale_temp:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                log.debug("removed stale index file %s", path)
