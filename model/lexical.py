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

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.text import normalize

try:
    from model import _lexical_dots as native_dots
except ImportError:  # not built (no C compiler at install): dots_many runs in NumPy
    native_dots = None

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
        terms.extend(_run_terms(run))
    return terms


@functools.lru_cache(maxsize=1 << 14)
def _run_terms(run: str) -> tuple[str, ...]:
    """The terms of one run of word characters. Cached: a question's words mostly repeat, and
    building their trigrams was a third of `LexicalModel.vector`."""
    if _CJK_CHAR.match(run):
        return (*run, *(run[i : i + 2] for i in range(len(run) - 1)))
    marked = f"<{run}>"
    return (run, *(_TRIGRAM + marked[i : i + 3] for i in range(len(marked) - 2)))


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
        idf, unknown = self.idf, self.unknown_idf
        # Most terms occur once, where 1 + log(1) is exactly 1.0: skip the log.
        weights = {
            term: idf.get(term, unknown)
            if count == 1
            else (1.0 + math.log(count)) * idf.get(term, unknown)
            for term, count in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {term: w / norm for term, w in weights.items()} if norm > 0 else {}

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


class LexicalRows:
    """TF-IDF vectors of stored phrasings, addressed by (faq_id, phrasing number), in flat
    append-only arrays: a question's dots with its candidates are a handful of NumPy
    operations whatever their number (a slice per candidate cost ~10 us each), and the
    memory is a tenth of one dict per phrasing. Replaced FAQs leave garbage, compacted away
    once it outweighs the live rows. Not thread-safe: the searcher writes under its lock."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._terms = np.empty(0, dtype=np.int64)  # term hashes, row after row
        self._weights = np.empty(0, dtype=np.float32)
        self._used = 0  # filled length of _terms / _weights
        self._starts = np.empty(0, dtype=np.int64)  # per row slot: its run in _terms
        self._ends = np.empty(0, dtype=np.int64)
        self._rows = 0  # filled length of _starts / _ends
        self._faqs: dict[int, tuple[int, int]] = {}  # faq_id -> (first row slot, rows)
        self._live_terms = 0

    def __len__(self) -> int:
        return len(self._faqs)

    def put(self, faq_id: int, vectors: Sequence[SparseVector]) -> None:
        """Store (or replace) the phrasing vectors of one FAQ."""
        self.remove(faq_id)
        self._append(
            faq_id,
            [(_hashes(v), np.fromiter(v.values(), np.float32, len(v))) for v in vectors],
        )

    def remove(self, faq_id: int) -> None:
        placed = self._faqs.pop(faq_id, None)
        if placed is None:
            return
        rows = slice(placed[0], placed[0] + placed[1])
        self._live_terms -= int((self._ends[rows] - self._starts[rows]).sum())
        if self._used > 4096 and self._live_terms < self._used // 2:
            self._compact()

    def dots(self, query: PackedQuery, faq_ids: np.ndarray, phrasing_nos: np.ndarray) -> np.ndarray:
        """(n,) TF-IDF cosines of the query with the given stored phrasings: ~20 NumPy calls
        whatever n (with PackedQuery ~80 us for an /ask's 16 candidates on one core)."""
        return self.dots_many([query], faq_ids, phrasing_nos, [len(faq_ids)])

    def dots_many(
        self,
        queries: Sequence[PackedQuery],
        faq_ids: np.ndarray,
        phrasing_nos: np.ndarray,
        counts: Sequence[int],
    ) -> np.ndarray:
        """`dots` for several queries in one pass: query i's candidates are the next
        `counts[i]` of `faq_ids` / `phrasing_nos`. (n,) cosines in that order. Gathering the
        candidates' terms is shared; only the lookup in each query's terms is per query
        (4 NumPy calls), which is what a batch of asks saves over one `dots` each."""
        n = len(faq_ids)
        if not n:
            return np.zeros(0, dtype=np.float32)
        faqs = self._faqs
        rows = np.fromiter((faqs[i][0] for i in faq_ids.tolist()), np.int64, n) + phrasing_nos
        starts = self._starts[rows]
        if native_dots is not None:  # one C call per query (model/_lexical_dots.c), same bits
            ends, out = self._ends[rows], np.empty(n, dtype=np.float32)
            first = 0
            for query, count in zip(queries, counts, strict=True):
                last = first + count
                native_dots.dots(
                    query.terms,
                    query.weights,
                    self._terms,
                    self._weights,
                    starts[first:last],
                    ends[first:last],
                    out[first:last],
                )
                first = last
            return out
        lengths = self._ends[rows] - starts
        row_of = np.repeat(np.arange(n), lengths)  # (total,) candidate of each term
        # Each candidate's run of _terms, back to back: position i of run r is starts[r] + i.
        ends = np.cumsum(lengths)
        positions = np.repeat(starts - (ends - lengths), lengths)
        positions += np.arange(len(positions))
        terms = self._terms[positions]
        weights = self._weights[positions]
        products = np.zeros(len(terms), dtype=np.float64)
        # Where each query's candidates' terms start and end in `terms`.
        bounds = np.concatenate(([0], ends))[np.cumsum([0, *counts])].tolist()
        for query, first, last in zip(queries, bounds[:-1], bounds[1:], strict=True):
            if len(query.terms) == 1 or first == last:  # the query has no term (only the
                continue  # sentinel), or no candidate has any
            span = terms[first:last]
            where = np.searchsorted(query.terms, span)  # ≤ the sentinel's index: no clip
            matched = query.terms[where] == span
            found = query.weights[where] * weights[first:last]
            products[first:last] = np.where(matched, found, 0.0)
        return np.bincount(row_of, weights=products, minlength=n).astype(np.float32)

    def _append(self, faq_id: int, rows: list[tuple[np.ndarray, np.ndarray]]) -> None:
        total = sum(len(terms) for terms, _ in rows)
        if self._used + total > len(self._terms):
            size = max(2 * len(self._terms), self._used + total, 1024)
            self._terms = _grown(self._terms, size, self._used)
            self._weights = _grown(self._weights, size, self._used)
        if self._rows + len(rows) > len(self._starts):
            size = max(2 * len(self._starts), self._rows + len(rows), 256)
            self._starts = _grown(self._starts, size, self._rows)
            self._ends = _grown(self._ends, size, self._rows)
        self._faqs[faq_id] = (self._rows, len(rows))
        for terms, weights in rows:
            end = self._used + len(terms)
            self._terms[self._used : end] = terms
            self._weights[self._used : end] = weights
            self._starts[self._rows], self._ends[self._rows] = self._used, end
            self._used = end
            self._rows += 1
        self._live_terms += total

    def _compact(self) -> None:
        """Copy the live rows into fresh arrays, FAQ by FAQ."""
        terms, weights, starts, ends = self._terms, self._weights, self._starts, self._ends
        placed = self._faqs
        self._reset()
        for faq_id, (first, n) in placed.items():
            rows = range(first, first + n)
            self._append(
                faq_id,
                [(terms[starts[r] : ends[r]], weights[starts[r] : ends[r]]) for r in rows],
            )


def _grown(array: np.ndarray, size: int, used: int) -> np.ndarray:
    grown = np.empty(size, dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


class PackedQuery:
    """A question's TF-IDF vector as sorted term hashes and their weights, ending with a
    sentinel (the largest int64, weight 0) so that every `searchsorted` index is valid."""

    def __init__(self, vector: SparseVector) -> None:
        hashes = np.fromiter(
            (*(hash(term) for term in vector), _SENTINEL), dtype=np.int64, count=len(vector) + 1
        )
        order = np.argsort(hashes, kind="stable")  # the sentinel stays last, even on a tie
        self.terms = hashes[order]  # sorted, for searchsorted
        self.weights = np.fromiter((*vector.values(), 0.0), np.float32, len(vector) + 1)[order]


# A real term hashing to it sorts before it (stable sort), so searchsorted still finds it.
_SENTINEL = np.iinfo(np.int64).max
