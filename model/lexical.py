"""The lexical half of a fine-tuned model's score: TF-IDF cosine over words and characters.

The fused score of a question and a stored phrasing is
    (1 - w) * cosine(encoder vectors) + w * cosine(TF-IDF vectors),
with `w` by the question's script. Both cosines lie in [-1, 1], so the fused score is
thresholded like a cosine. Measured on `bench faq` (docs/quality.md, "Lexical fusion"): on
the pair-derived Chinese sets the fine-tuned encoder alone lost to BM25 by 4-15 points of
top-1, because their paraphrases share most characters and the small encoder blurs which
ones; the fusion beats both. On hand-written paraphrases (the demo) it is neutral.

Terms: Chinese (CJK ideographs) as single characters and character bigrams; other words
whole and as boundary-marked character trigrams, which match inflections and typos. The IDF
table is fitted on the phrasings the model was fine-tuned on and frozen into the checkpoint
(its content hash covers it): scores do not drift as FAQs are added, and a retrain refreshes
it. A term never seen in fitting gets the highest IDF, that of a term seen once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.text import normalize

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_CJK}]+|[^\\W{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Prefix of trigram terms, so that the trigram "cat" and the word "cat" stay apart.
_TRIGRAM = "#"

SparseVector = dict[str, float]


def lexical_terms(text: str) -> list[str]:
    """Every term of `text` (with repeats): CJK characters and bigrams, words and trigrams."""
    terms: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if _CJK_CHAR.match(run):
            terms.extend(run)
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
            marked = f"<{run}>"
            terms.extend(_TRIGRAM + marked[i : i + 3] for i in range(len(marked) - 2))
    return terms


def is_cjk_text(text: str) -> bool:
    """True when CJK ideographs are at least half of the text's letters."""
    letters = sum(ch.isalpha() for ch in text)
    return letters > 0 and 2 * len(_CJK_CHAR.findall(text)) >= letters


@dataclass(frozen=True)
class LexicalModel:
    """A fitted IDF table and the fusion weights (see the module docstring)."""

    idf: dict[str, float]
    unknown_idf: float
    weight_cjk: float
    weight_latin: float

    @classmethod
    def fit(cls, phrasings: Iterable[str], weight_cjk: float, weight_latin: float) -> LexicalModel:
        """Smoothed IDF over `phrasings` (each counts a term once): log((n+1)/(df+1)) + 1."""
        document_frequency: Counter[str] = Counter()
        n = 0
        for text in phrasings:
            document_frequency.update(set(lexical_terms(text)))
            n += 1
        idf = {
            term: round(math.log((n + 1) / (df + 1)) + 1.0, 4)
            for term, df in document_frequency.items()
        }
        unknown = round(math.log((n + 1) / 2) + 1.0, 4)  # as rare as a term seen once
        return cls(idf, unknown, weight_cjk, weight_latin)

    def weight(self, question: str) -> float:
        """The lexical share of the fused score for `question`, by its script."""
        return self.weight_cjk if is_cjk_text(question) else self.weight_latin

    def vector(self, text: str) -> SparseVector:
        """Unit TF-IDF vector of `text` (sublinear term frequency); {} when it has no term."""
        counts = Counter(lexical_terms(text))
        weights = {
            term: (1.0 + math.log(count)) * self.idf.get(term, self.unknown_idf)
            for term, count in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {term: w / norm for term, w in weights.items()} if norm > 0 else {}

    def fuse(self, question: str, cosines: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """Fused scores of one question from its cosines and TF-IDF cosines (same shape)."""
        w = self.weight(question)
        return (1.0 - w) * cosines + w * lexical

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight_cjk": self.weight_cjk,
            "weight_latin": self.weight_latin,
            "unknown_idf": self.unknown_idf,
            "idf": self.idf,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LexicalModel:
        return cls(
            idf={str(k): float(v) for k, v in data["idf"].items()},
            unknown_idf=float(data["unknown_idf"]),
            weight_cjk=float(data["weight_cjk"]),
            weight_latin=float(data["weight_latin"]),
        )


def sparse_dot(query: SparseVector, document: SparseVector) -> float:
    if len(query) > len(document):
        query, document = document, query
    return sum(w * document.get(term, 0.0) for term, w in query.items())


class LexicalMatrix:
    """TF-IDF cosines of many questions with many phrasings, by an inverted index: the
    offline counterpart (evaluation, threshold tuning) of the searcher's per-candidate dots."""

    def __init__(self, model: LexicalModel, documents: Sequence[str]) -> None:
        self.model = model
        self.n_docs = len(documents)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for row, text in enumerate(documents):
            for term, w in model.vector(text).items():
                rows, weights = postings.setdefault(term, ([], []))
                rows.append(row)
                weights.append(w)
        self._postings = {
            term: (np.asarray(rows, dtype=np.int64), np.asarray(weights, dtype=np.float32))
            for term, (rows, weights) in postings.items()
        }

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        """(Q, N) float32 TF-IDF cosines."""
        out = np.zeros((len(questions), self.n_docs), dtype=np.float32)
        for row, question in enumerate(questions):
            for term, w in self.model.vector(question).items():
                posting = self._postings.get(term)
                if posting is not None:
                    out[row, posting[0]] += w * posting[1]
        return out

    def fused(self, questions: Sequence[str], cosines: np.ndarray) -> np.ndarray:
        """(Q, N) fused scores from the questions' (Q, N) cosines with the documents."""
        weights = np.array([self.model.weight(q) for q in questions], dtype=np.float32)
        return (1.0 - weights[:, None]) * cosines + weights[:, None] * self.scores(questions)


def _hashes(vector: SparseVector) -> np.ndarray:
    # Python's str hash: stable within a process, and nothing hashed is ever persisted.
    return np.fromiter((hash(term) for term in vector), dtype=np.int64, count=len(vector))


@dataclass(frozen=True)
class PackedVectors:
    """One FAQ's phrasings as TF-IDF vectors in three flat arrays (term hashes, weights and
    row offsets): a tenth of the memory of one dict per phrasing, which matters at 10^5
    phrasings."""

    terms: np.ndarray  # (total,) int64 term hashes, row after row
    weights: np.ndarray  # (total,) float32
    offsets: np.ndarray  # (rows + 1,) int64: row r is [offsets[r], offsets[r + 1])

    @classmethod
    def pack(cls, vectors: Sequence[SparseVector]) -> PackedVectors:
        terms = [_hashes(v) for v in vectors]
        weights = [np.fromiter(v.values(), dtype=np.float32, count=len(v)) for v in vectors]
        offsets = np.zeros(len(vectors) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(v) for v in vectors])
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float32)
        return cls(
            np.concatenate(terms) if terms else empty_i,
            np.concatenate(weights) if weights else empty_f,
            offsets,
        )


class PackedQuery:
    """A question's TF-IDF vector, ready to be dotted with packed phrasings."""

    def __init__(self, vector: SparseVector) -> None:
        hashes = _hashes(vector)
        order = np.argsort(hashes)
        self._terms = hashes[order]  # sorted, for searchsorted
        self._weights = np.fromiter(vector.values(), np.float32, len(vector))[order]

    def dots(self, rows: Sequence[tuple[PackedVectors, int]]) -> np.ndarray:
        """(len(rows),) TF-IDF cosines with the given (packed FAQ, phrasing number) rows."""
        out = np.zeros(len(rows), dtype=np.float32)
        if not len(self._terms) or not rows:
            return out
        spans = [(p, p.offsets[no], p.offsets[no + 1]) for p, no in rows]
        terms = np.concatenate([p.terms[start:end] for p, start, end in spans])
        weights = np.concatenate([p.weights[start:end] for p, start, end in spans])
        if not len(terms):
            return out
        where = np.searchsorted(self._terms, terms).clip(max=len(self._terms) - 1)
        products = np.where(self._terms[where] == terms, self._weights[where] * weights, 0.0)
        row_of = np.repeat(np.arange(len(rows)), [end - start for _, start, end in spans])
        np.add.at(out, row_of, products)
        return out
