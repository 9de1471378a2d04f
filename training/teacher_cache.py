"""Teacher vectors of sentences made at build time (training.synthetic_requests), computed
once with the teacher itself (the `teacher` extra) and cached as float16 under a build
folder: MiniLM takes minutes for 100k sentences on two cores, a rebuild of the base with
the same sentences should not."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from training.errors import TrainingError
from training.teacher_encoders import MiniLm, UseM3, unit_rows

Encode = Callable[[Sequence[str]], np.ndarray]


def cache_key(sentences: Sequence[str], teacher: str) -> str:
    digest = hashlib.sha256(teacher.encode())
    for sentence in sentences:
        digest.update(b"\0" + sentence.encode("utf-8"))
    return digest.hexdigest()[:20]


def cached_teacher_vectors(
    sentences: Sequence[str],
    teacher: str,
    cache_dir: Path,
    encode: Encode | None = None,
    chunk: int = 4096,
) -> np.ndarray:
    """(len(sentences), d) float32 unit rows: from `cache_dir` when these exact sentences
    were embedded by `teacher` before, else computed (with a progress bar) and saved."""
    path = Path(cache_dir) / f"{teacher}_{cache_key(sentences, teacher)}.npy"
    if path.is_file():
        vectors = np.load(path).astype(np.float32)
        if len(vectors) == len(sentences):
            return unit_rows(vectors)
    encode = encode or _teacher_encoder(teacher)
    parts = [
        encode(sentences[i : i + chunk])
        for i in tqdm(range(0, len(sentences), chunk), desc=f"{teacher} vectors", unit="chunk")
    ]
    vectors = unit_rows(np.concatenate(parts)) if parts else np.zeros((0, 1), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npy")
    np.save(partial, vectors.astype(np.float16))
    os.replace(partial, path)  # a killed build leaves no half-written cache behind
    return vectors


_ENCODERS: dict[str, Callable[[], Encode]] = {
    "minilm_en": MiniLm,
    "use_zh": lambda: UseM3(threads=os.cpu_count() or 1),
}


def _teacher_encoder(teacher: str) -> Encode:
    if teacher not in _ENCODERS:
        known = ", ".join(_ENCODERS)
        raise TrainingError(f"no encoder for teacher {teacher!r} (known: {known})")
    try:
        return _ENCODERS[teacher]()
    except ImportError as error:
        raise TrainingError(
            f"teacher {teacher!r} needs pip install -e '.[teacher]' ({error})"
        ) from error
