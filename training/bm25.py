"""Okapi BM25 over word tokens: the lexical baseline every benchmark reports beside the model."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from model.text import normalize

_WORD = re.compile(r"\w+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# One CJK ideograph a token, other words whole: a Chinese sentence is a single \w+ run.
_CJK_OR_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


def bm25_tokens(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def bm25_tokens_cjk(text: str) -> list[str]:
    """Like bm25_tokens, but Chinese (CJK ideographs) split into characters."""
    return _CJK_OR_WORD.findall(normalize(text))


class BM25:
    """Inverted index of `documents`; `scores(queries)` gives a dense (Q, N) float32 matrix."""

    def __init__(
        self,
        documents: Sequence[str],
        k1: float = 1.2,
        b: float = 0.75,
        tokenize: Callable[[str], list[str]] = bm25_tokens,
    ) -> None:
        self._tokenize = tokenize
        tokenized = [tokenize(d) for d in documents]
        self.n_docs = len(tokenized)
        lengths = np.array([len(t) for t in tokenized], dtype=np.float32)
        average = float(lengths.mean()) if self.n_docs else 1.0
        norm = k1 * (1 - b + b * lengths / max(average, 1e-9))  # (N,)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, tokens in enumerate(tokenized):
            for term, tf in Counter(tokens).items():
                docs, tfs = postings.setdefault(term, ([], []))
                docs.append(doc)
                tfs.append(tf)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (docs, tfs) in postings.items():
            doc_ids = np.asarray(docs, dtype=np.int64)
            tf = np.asarray(tfs, dtype=np.float32)
            df = len(docs)
            idf = np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))  # Lucene's non-negative idf
            self._postings[term] = (doc_ids, (idf * tf * (k1 + 1) / (tf + norm[doc_ids])))

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(queries), self.n_docs), dtype=np.float32)
        for row, query in enumerate(queries):
            for term in set(self._tokenize(query)):
                posting = self._postings.get(term)
                if posting is not None:
                    out[row, posting[0]] += posting[1]
        return out
