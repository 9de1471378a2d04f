"""Teacher sentence vectors precomputed from larger encoders (`../shared/data/teacher_vectors`).

Each teacher is three files: `<name>_int8.npy` (N, d) int8, `<name>_scale.npy` (N,) float32 and
`<name>_sentences.tsv` (`sentence<TAB>source folder`, row i = vector i). Row i of the unit
vector is `int8[i] * scale[i]`, re-normalised. Reading them needs no transformer: the teachers
themselves (the `teacher` extra) are only needed to compute new ones.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.errors import TrainingError

# The teachers of the shipped base model: English all-MiniLM-L6-v2 (384-d) and the bilingual
# Universal Sentence Encoder multilingual v3 (512-d) for Chinese.
TEACHERS = ("minilm_en", "use_zh")


@dataclass(frozen=True)
class TeacherVectors:
    name: str
    sentences: list[str]
    sources: list[str]
    vectors: np.ndarray  # (N, d) float32 unit rows

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def restricted(self, allowed_sources: set[str]) -> TeacherVectors:
        """Only the rows whose source folder is in `allowed_sources` (licence control)."""
        keep = [i for i, source in enumerate(self.sources) if source in allowed_sources]
        return TeacherVectors(
            self.name,
            [self.sentences[i] for i in keep],
            [self.sources[i] for i in keep],
            self.vectors[keep],
        )


def read_teacher(folder: Path, name: str) -> TeacherVectors:
    """Load one teacher's vectors; TrainingError when a file is missing or they disagree."""
    paths = [folder / f"{name}_{part}" for part in ("int8.npy", "scale.npy", "sentences.tsv")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise TrainingError(f"teacher {name!r}: missing {', '.join(missing)}")
    quantised = np.load(paths[0])
    scale = np.load(paths[1]).astype(np.float32)
    with paths[2].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not (len(rows) == len(scale) == len(quantised)) or any(len(r) != 2 for r in rows):
        raise TrainingError(
            f"teacher {name!r}: {len(quantised)} vectors, {len(scale)} scales and "
            f"{len(rows)} sentences (each `sentence<TAB>source`) must match"
        )
    vectors = quantised.astype(np.float32) * scale[:, None]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    return TeacherVectors(name, [r[0] for r in rows], [r[1] for r in rows], vectors)
