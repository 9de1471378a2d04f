"""The FAISS layer: unit vectors of FAQ phrasings in, best phrasing per FAQ out.

Vector ids pack the FAQ id and the phrasing number: ``faq_id * 128 + phrasing_no`` (phrasing 0
is the question, 1..100 the alternates), so the FAQ id of a hit is ``id >> 7`` with no lookup.

Three kinds, all inner product over L2-normalised float32 vectors (scores are cosines):

- ``flat`` (default): ``IndexIDMap2(IndexFlatIP)``, exact.
- ``ivf``: ``IndexIVFFlat`` (inner product) storing the ids itself, with a hash-table direct
  map so vectors can be reconstructed by id. Not wrapped in ``IndexIDMap2``: IDMap's
  ``remove_ids`` assumes the sub-index renumbers its vectors after a removal, which IVF does
  not, and the wrapped index returns wrong ids after the first delete (checked on faiss 1.15).
- ``hnsw``: ``IndexIDMap2(IndexHNSWFlat)``, for 100k+ phrasings, where IVF needs to scan a
  large share of the lists for recall 0.95 (``samesay bench index``). HNSW cannot remove a
  node, so a removed vector is a tombstone: its id-map entry becomes ``DEAD_ID`` (a phrasing
  slot no FAQ uses), searches skip it by an IDSelector while the graph still routes through
  it, and the searcher rebuilds the index once tombstones pass ``hnsw_max_dead_fraction``.
  The tombstones live in the id map, so they survive serialisation with no extra file.

All mutation methods need external mutual exclusion with searches (the searcher holds a
lock); FAISS itself gives none.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import faiss
import numpy as np

from index.errors import IndexCorruptError, IndexInputError
from model.faq_scoring import blend
from store.entries import MAX_FAQ_ID

log = logging.getLogger(__name__)

PHRASING_BITS = 7
PHRASING_SLOTS = 1 << PHRASING_BITS  # 128 vector ids reserved per FAQ
MAX_PHRASINGS = 101  # the question + at most 100 alternates (store validation)
# faq_id * 128 must stay a positive int64: the store's id limit is chosen for that.
assert MAX_FAQ_ID == (1 << (63 - PHRASING_BITS)) - 1

IndexKind = Literal["flat", "ivf", "hnsw"]
# What the settings may ask for: a kind, or "auto" (flat, then IVF, then HNSW as it grows).
KindSetting = Literal["flat", "ivf", "hnsw", "auto"]
# The id a removed HNSW vector gets: slot 127 of FAQ 0, and no FAQ has more than 101 slots.
DEAD_ID = PHRASING_SLOTS - 1
Device = Literal["auto", "cpu", "gpu"]


@dataclass(frozen=True)
class IndexConfig:
    # Exact search by default: FAQ sets are usually small enough for a flat scan. The
    # searcher resolves "auto" by size (`wanted_kind`); an index itself is one of three kinds.
    kind: KindSetting = "flat"
    # IVF lists; None = round(4 sqrt(n)) up to `max_auto_nlist`. Smaller lists scan fewer
    # vectors for the same recall: on 26k real phrasing vectors (10k FAQs), recall@10 against
    # exact search was 0.985 scanning 32 of sqrt(n) = 162 lists (539 us) and 0.984 scanning
    # 64 of 4 sqrt(n) = 647 lists (211 us). The cap keeps k-means cheap on 2 cores at 1M
    # vectors, where sqrt(n) lists already hold ~1,000 vectors each.
    nlist: int | None = None
    max_auto_nlist: int = 1024
    # Lists scanned per IVF query: the recall/speed knob (measured by `samesay bench index`).
    nprobe: int = 16
    # Below this many vectors IVF buys nothing and k-means has too little data: use flat.
    min_ivf_vectors: int = 2_000
    # k-means training sample per list: faiss warns below 39; more costs time, not recall.
    train_points_per_list: int = 64
    # "auto" uses a GPU when faiss was built with CUDA and one is visible.
    device: Device = "cpu"
    # Hits fetched per wanted FAQ before dedup; widened automatically when not enough.
    overfetch: int = 4
    # "auto" uses HNSW from here on (flat below min_ivf_vectors, IVF in between). HNSW is
    # faster on spread-out phrasings (26k real vectors, one thread: efSearch 64 recall@10
    # 0.987 in 0.085 ms, IVF nprobe 64 0.983 in 0.185 ms; at 100k synthetic vectors IVF
    # needed 5 ms for 0.945, HNSW 0.4 ms for 0.95), but a graph loses answers where
    # thousands of phrasings are nearly alike (a templated catalogue: with 3,000 FAQs of one
    # template beside the demo's 90, 41 of the demo's 190 right held-out answers were lost
    # at efSearch 64 and 12 at 256; IVF at nprobe 64 lost none; docs/benchmarks.md). So IVF
    # up to 100k, where its scan still costs a fraction of a millisecond.
    hnsw_min_vectors: int = 100_000
    # Graph degree: 32 is FAISS's usual choice for 256-d; memory is 2*M int32 per vector.
    hnsw_m: int = 32
    # Candidate list while building: 64 builds 1M vectors in minutes on 2 cores; recall comes
    # from ef_search at query time.
    hnsw_ef_construction: int = 64
    # Candidate list per query: the recall/speed knob, like nprobe. None = by size
    # (auto_ef_search): on 1M real phrasing vectors 128 gave recall@10 0.962 in p50 0.44 /
    # p99 0.72 ms, 256 gave 0.978 in 0.83 / 1.34 ms (IVF: 0.971 needed nprobe 16, 1.27 / 1.98
    # ms); at 26k-50k, 64 gives 0.987-0.990 where 256 would cost 3x the time.
    hnsw_ef_search: int | None = None
    # Rebuild once this share of the graph's nodes are tombstones (removed or replaced).
    hnsw_max_dead_fraction: float = 0.25


# New scores for fetched phrasings: (scores (n,) float32, vector ids (n,) int64) -> (n,).
Rescore = Callable[[np.ndarray, np.ndarray], np.ndarray]
# `search_many`'s rescoring: (query numbers, their fetched cosines, their vector ids) → the
# new scores of each, in one call for the whole batch.
RescoreMany = Callable[[Sequence[int], list[np.ndarray], list[np.ndarray]], list[np.ndarray]]
# The share of an FAQ's second best phrasing in its score, by FAQ id (model.faq_scoring);
# an FAQ not in it, or None, scores as its best phrasing.
SecondWeights = Mapping[int, float]


class Hit(NamedTuple):
    faq_id: int
    phrasing_no: int
    score: float


def vector_ids(faq_id: int, n_phrasings: int) -> np.ndarray:
    """The ids of an FAQ's phrasing vectors. (n_phrasings,) int64."""
    if not 0 <= faq_id <= MAX_FAQ_ID:
        raise IndexInputError(f"FAQ id {faq_id} is outside 0..{MAX_FAQ_ID}")
    if not 1 <= n_phrasings <= MAX_PHRASINGS:
        raise IndexInputError(
            f"FAQ {faq_id} has {n_phrasings} phrasings; 1..{MAX_PHRASINGS} are indexable"
        )
    return faq_id * PHRASING_SLOTS + np.arange(n_phrasings, dtype=np.int64)


def all_slot_ids(faq_ids: np.ndarray) -> np.ndarray:
    """Every id an FAQ may own (all 128 slots), to remove an FAQ without knowing its size."""
    faq_ids = np.asarray(faq_ids, dtype=np.int64)
    return (faq_ids[:, None] * PHRASING_SLOTS + np.arange(PHRASING_SLOTS)).ravel()


def gpu_available() -> bool:
    """True only when this faiss build has CUDA support and sees at least one GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def set_threads(threads: int) -> None:
    """Set FAISS's OpenMP threads for searches issued from the CALLING thread.

    OpenMP keeps this setting per thread (new threads start from OMP_NUM_THREADS), so the
    service calls it on the thread that runs searches, not only where the index was opened.
    One thread is the default on purpose: a single query is too small to split, and on a busy
    2-core machine two threads measured ~16 ms against ~0.5 ms for one (15k vectors).
    """
    faiss.omp_set_num_threads(max(1, int(threads)))


def wanted_kind(n_vectors: int, config: IndexConfig) -> IndexKind:
    """The kind of index `config` calls for at n vectors: small sets are always flat."""
    if config.kind == "flat" or not choose_nlist(n_vectors, config):
        return "flat"
    if config.kind == "hnsw" or (config.kind == "auto" and n_vectors >= config.hnsw_min_vectors):
        return "hnsw"
    return "ivf"


def auto_ef_search(n_vectors: int) -> int:
    """HNSW efSearch for an index of n vectors: recall@10 >= 0.95 at every measured size
    (IndexConfig.hnsw_ef_search), without paying 1M's candidate list at 30k."""
    if n_vectors < 100_000:
        return 64
    if n_vectors < 500_000:
        return 128
    return 256


def choose_nlist(n_vectors: int, config: IndexConfig) -> int:
    """IVF list count for n vectors, or 0 when IVF would not pay off (use flat)."""
    if n_vectors < config.min_ivf_vectors:
        return 0
    nlist = config.nlist or max(1, min(round(4 * math.sqrt(n_vectors)), config.max_auto_nlist))
    # k-means needs ~39 points per centroid to mean anything.
    nlist = min(nlist, n_vectors // 39)
    return nlist if nlist >= 2 else 0


class FaqIndex:
    """An inner-product FAISS index of FAQ phrasing vectors; search dedups per FAQ."""

    def __init__(self, cpu_index: faiss.Index, config: IndexConfig) -> None:
        check_structure(cpu_index, where="in memory")
        self._cpu = cpu_index
        self._config = config
        self.dim: int = cpu_index.d
        self.kind: IndexKind = _kind_of(cpu_index)
        self._dead = 0  # tombstones (hnsw only)
        if self.kind == "ivf":
            cpu_index.nprobe = config.nprobe
        elif self.kind == "hnsw":
            self._apply_ef_search()
            self._dead = int(np.count_nonzero(self._id_map_view() == DEAD_ID))
        # Everything but DEAD_ID; the range selector is kept alive beside its negation.
        self._dead_range = faiss.IDSelectorRange(DEAD_ID, DEAD_ID + 1)
        self._alive = faiss.IDSelectorNot(self._dead_range)
        self._gpu_resources = None
        self._search_index = cpu_index
        # FAISS's GPU indexes have no HNSW: an HNSW index is searched on the CPU.
        self._use_gpu = _wants_gpu(config.device) and self.kind != "hnsw"
        if self._use_gpu:
            self._refresh_gpu_copy()

    # construction ---------------------------------------------------------------------------

    @classmethod
    def empty(cls, dim: int, config: IndexConfig | None = None) -> FaqIndex:
        """An empty exact index (IVF needs vectors to train on; see `build`)."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), config or IndexConfig())

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ids: np.ndarray,
        config: IndexConfig | None = None,
        dim: int | None = None,
    ) -> FaqIndex:
        """An index holding `vectors` (n, d) under `ids` (n,), trained on them when IVF."""
        config = config or IndexConfig()
        dim = dim if dim is not None else vectors.shape[1]
        vectors = _as_matrix(vectors, dim)
        kind = wanted_kind(len(vectors), config)
        if kind == "flat" and config.kind != "flat":
            log.info("%d vectors: too few for IVF or HNSW, building an exact (flat) index",
                     len(vectors))
        if kind == "ivf":
            index = cls(_trained_ivf(vectors, choose_nlist(len(vectors), config), config), config)
        elif kind == "hnsw":
            index = cls(_empty_hnsw(dim, config), config)
        else:
            index = cls.empty(dim, config)
        index.add(vectors, ids)
        return index

    # mutation (caller holds the write lock) ---------------------------------------------------

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add vectors (n, d) float32 unit rows under int64 ids (n,) not already present. A
        zero row (a text the model reads nothing in: model.tokenizer) scores 0 with all."""
        vectors = _as_matrix(vectors, self.dim)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if ids.shape != (len(vectors),):
            raise IndexInputError(f"{len(vectors)} vectors but ids of shape {ids.shape}")
        if len(ids) == 0:
            return
        if ids.min() < 0:
            raise IndexInputError("vector ids must be non-negative")
        norms = np.einsum("ij,ij->i", vectors, vectors)  # (n,)
        if not np.all((np.abs(norms - 1.0) < 1e-3) | (norms == 0.0)):
            raise IndexInputError("vectors must be L2-normalised (unit rows) for cosine scores")
        self._cpu.add_with_ids(vectors, ids)
        if self._use_gpu:
            self._search_index.add_with_ids(vectors, ids)
        self._apply_ef_search()

    def remove_faqs(self, faq_ids: np.ndarray | list[int]) -> int:
        """Remove every vector of these FAQs (all phrasing slots); returns how many went."""
        faq_ids = np.asarray(list(faq_ids) if not isinstance(faq_ids, np.ndarray) else faq_ids)
        if faq_ids.size == 0 or self._cpu.ntotal == 0:
            return 0
        if self.kind == "hnsw":
            return self._bury(faq_ids)
        removed = int(self._cpu.remove_ids(all_slot_ids(faq_ids)))
        if removed and self._use_gpu:
            self._refresh_gpu_copy()  # GPU indexes cannot remove; re-copy from the CPU one
        return removed

    def _bury(self, faq_ids: np.ndarray) -> int:
        """Tombstone these FAQs' vectors in an HNSW index (the graph keeps the nodes)."""
        id_map = self._id_map_view()
        doomed = np.isin(id_map >> PHRASING_BITS, faq_ids.astype(np.int64)) & (id_map != DEAD_ID)
        buried = int(np.count_nonzero(doomed))
        if buried:
            id_map[doomed] = DEAD_ID
            self._dead += buried
            # Drop the buried ids from the reverse map, so reconstruct() and a later add of
            # the same id see them gone. O(n), like the scan above: fine next to an edit.
            self._cpu.construct_rev_map()
        return buried

    def _id_map_view(self) -> np.ndarray:
        """The IDMap2's internal-position -> id array, as a writable view. (n_nodes,) int64."""
        id_map = self._cpu.id_map
        return faiss.rev_swig_ptr(id_map.data(), id_map.size()) if id_map.size() else (
            np.empty(0, np.int64)
        )

    # reading --------------------------------------------------------------------------------

    @property
    def ntotal(self) -> int:
        """Vectors that searches can return (tombstones excluded)."""
        return int(self._cpu.ntotal) - self._dead

    @property
    def dead_fraction(self) -> float:
        """Share of an HNSW graph's nodes that are tombstones (0 for the other kinds)."""
        nodes = int(self._cpu.ntotal)
        return self._dead / nodes if nodes else 0.0

    @property
    def nlist(self) -> int:
        return int(self._cpu.nlist) if self.kind == "ivf" else 0

    def set_nprobe(self, nprobe: int) -> None:
        """IVF lists scanned per query (no effect on a flat index)."""
        if self.kind == "ivf":
            self._cpu.nprobe = nprobe
            self._config = replace(self._config, nprobe=nprobe)
            if self._use_gpu:
                self._refresh_gpu_copy()

    def set_ef_search(self, ef_search: int | None) -> None:
        """HNSW candidate list per query, None = by size (no effect on the other kinds)."""
        if self.kind == "hnsw":
            self._config = replace(self._config, hnsw_ef_search=ef_search)
            self._apply_ef_search()

    @property
    def ef_search(self) -> int | None:
        """The HNSW candidate list per query now (None for the other kinds)."""
        if self.kind != "hnsw":
            return None
        return self._config.hnsw_ef_search or auto_ef_search(self._cpu.ntotal)

    def _apply_ef_search(self) -> None:
        """Keep the graph's own efSearch (used when no tombstones need skipping) in step
        with the size: called on load and after every add."""
        if self.kind == "hnsw":
            _hnsw_of(self._cpu).hnsw.efSearch = self.ef_search

    @property
    def on_gpu(self) -> bool:
        return self._use_gpu

    def search(
        self,
        vector: np.ndarray,
        k: int,
        accept: Callable[[int], bool] | None = None,
        rescore: Rescore | None = None,
        min_fetch: int = 0,
        second_weights: SecondWeights | None = None,
        include: Sequence[int] = (),
    ) -> list[Hit]:
        """The best `k` FAQs for a unit query vector (d,): one hit per FAQ, best first.

        `accept(faq_id)` filters FAQs (e.g. by tag); the fetch widens until `k` accepted FAQs
        are found or the index has nothing more to give. `rescore(scores, vector_ids)` gives
        the fetched phrasings new scores (the lexical fusion) before the best per FAQ is
        kept; `min_fetch` phrasings are fetched at least, so that it has candidates to reorder.
        `second_weights[faq_id]`: that share of the FAQ's score is its second best fetched
        phrasing's (model.faq_scoring), and the FAQs are ranked by the blend. `include`:
        vector ids scored beside what the search fetched, whether it found them or not
        (the phrasings a question repeats word for word: an approximate index can miss them).
        """
        many = None
        if rescore is not None:

            def many(
                numbers: Sequence[int], cosines: list[np.ndarray], ids: list[np.ndarray]
            ) -> list[np.ndarray]:  # the RescoreMany of a batch of one
                return [rescore(cosines[0], ids[0])]

        return self.search_many(
            vector.reshape(1, -1), [k], [accept], many, min_fetch, second_weights,
            [include] if include else None,
        )[0]

    def search_many(
        self,
        vectors: np.ndarray,
        ks: Sequence[int],
        accepts: Sequence[Callable[[int], bool] | None],
        rescore: RescoreMany | None = None,
        min_fetch: int = 0,
        second_weights: SecondWeights | None = None,
        includes: Sequence[Sequence[int]] | None = None,
    ) -> list[list[Hit]]:
        """`search` for several unit query rows (B, d) at once, the same hits for each: the
        queries that fetch as many phrasings share one FAISS call and one `rescore` call;
        one left short of its `k` FAQs (a tag filter) widens alone. `includes[b]`: query
        b's `include`."""
        if any(k < 1 for k in ks):
            raise IndexInputError(f"k must be at least 1, got {min(ks)}")
        queries = _as_matrix(vectors, self.dim).astype(np.float32, copy=False)
        total = self._cpu.ntotal
        results: list[list[Hit]] = [[] for _ in ks]
        if total == 0:
            return results
        by_fetch: dict[int, list[int]] = {}
        for number, k in enumerate(ks):
            fetch = min(total, max(k * self._config.overfetch, min_fetch))
            by_fetch.setdefault(fetch, []).append(number)
        for first_fetch, numbers in by_fetch.items():
            short = []
            for number, (hits, done) in zip(
                numbers,
                self._fetch_hits(
                    queries, numbers, first_fetch, ks, accepts, rescore, second_weights, includes
                ),
                strict=True,
            ):
                results[number] = hits
                if not done:
                    short.append(number)
            for number in short:  # widen until k accepted FAQs or nothing more to give
                fetch, done = first_fetch, False
                while not done:
                    fetch = min(total, fetch * 4)
                    [(results[number], done)] = self._fetch_hits(
                        queries, [number], fetch, ks, accepts, rescore, second_weights, includes
                    )
        return results

    def _fetch_hits(
        self,
        queries: np.ndarray,
        numbers: list[int],
        fetch: int,
        ks: Sequence[int],
        accepts: Sequence[Callable[[int], bool] | None],
        rescore: RescoreMany | None,
        second_weights: SecondWeights | None = None,
        includes: Sequence[Sequence[int]] | None = None,
    ) -> list[tuple[list[Hit], bool]]:
        """One FAISS call of `fetch` phrasings for the query rows `numbers`: each one's best
        hit per FAQ, and whether that is final (k found, or nothing more to fetch)."""
        if self._dead:
            scores, ids = self._cpu.search(queries[numbers], fetch, params=self._skip_dead())
        else:
            scores, ids = self._search_index.search(queries[numbers], fetch)
        valid = [row >= 0 for row in ids]  # FAISS pads with -1
        found_ids = [row[mask] for row, mask in zip(ids, valid, strict=True)]
        found_scores = [row[mask] for row, mask in zip(scores, valid, strict=True)]
        returned = [len(row) for row in found_ids]  # what the index gave, before includes
        if includes is not None:
            for row, number in enumerate(numbers):
                found_scores[row], found_ids[row] = self._with_included(
                    found_scores[row], found_ids[row], includes[number]
                )
        if rescore is not None:
            found_scores = rescore(numbers, found_scores, found_ids)
            orders = [np.argsort(-row, kind="stable") for row in found_scores]
            found_scores = [row[o] for row, o in zip(found_scores, orders, strict=True)]
            found_ids = [row[o] for row, o in zip(found_ids, orders, strict=True)]
        fetched = []
        for row, number in enumerate(numbers):
            k = ks[number]
            hits, _ = _best_per_faq(
                found_scores[row].tolist(),
                found_ids[row].tolist(),
                k,
                accepts[number],
                second_weights,
            )
            # Final when enough FAQs, or the index gave fewer than asked (IVF's probed lists
            # exhausted), or it already gave everything.
            final = len(hits) >= k or returned[row] < fetch or fetch >= self._cpu.ntotal
            fetched.append((hits, final))
        return fetched

    def _with_included(
        self, scores: np.ndarray, ids: np.ndarray, include: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fetched (scores, ids) with the `include` ids, best first. Each repeats the
        question word for word, so its cosine is 1: also for a text the model reads nothing
        in, whose vector is zero (model.tokenizer). An id no longer indexed is left out."""
        missed = [i for i in include if i not in ids and self._indexed(i)]
        ids = np.concatenate([ids, np.array(missed, dtype=ids.dtype)])
        scores = np.concatenate([scores, np.zeros(len(missed), dtype=scores.dtype)])
        scores[np.isin(ids, include)] = 1.0
        order = np.argsort(-scores, kind="stable")
        return scores[order], ids[order]

    def _indexed(self, vector_id: int) -> bool:
        try:
            self.reconstruct(vector_id)
        except KeyError:
            return False
        return True

    def _skip_dead(self) -> faiss.SearchParametersHNSW:
        """Search parameters that pass over tombstones. New per search: IDMap2 points the
        parameters' selector at a stack object of its own while it searches."""
        params = faiss.SearchParametersHNSW()
        params.efSearch = self.ef_search
        params.sel = self._alive
        params.referenced = self._alive  # SWIG keeps only the pointer
        return params

    def ids(self) -> np.ndarray:
        """Every vector id in the index. (ntotal,) int64, unordered."""
        if self.kind == "hnsw":
            id_map = self._id_map_view()
            return id_map[id_map != DEAD_ID].copy()
        if self.kind == "flat":
            return faiss.vector_to_array(self._cpu.id_map).astype(np.int64, copy=False)
        lists = faiss.extract_index_ivf(self._cpu).invlists
        parts = [np.empty(0, dtype=np.int64)]
        for list_no in range(lists.nlist):
            size = lists.list_size(list_no)
            if size:
                parts.append(faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy())
        return np.concatenate(parts)

    def reconstruct(self, vector_id: int) -> np.ndarray:
        """The stored vector for an id. (d,) float32; KeyError when the id is absent."""
        try:
            return self._cpu.reconstruct(int(vector_id))
        except RuntimeError as error:
            raise KeyError(vector_id) from error

    def to_bytes(self) -> np.ndarray:
        """The CPU index serialised (GPU indexes never hit disk). (nbytes,) uint8."""
        return faiss.serialize_index(self._cpu)

    @classmethod
    def from_bytes(cls, data: np.ndarray, config: IndexConfig | None = None) -> FaqIndex:
        try:
            cpu_index = faiss.deserialize_index(data)
        except RuntimeError as error:
            raise IndexCorruptError("<bytes>", f"FAISS cannot read it ({error})") from error
        return cls(cpu_index, config or IndexConfig())

    # GPU --------------------------------------------------------------------------------------

    def _refresh_gpu_copy(self) -> None:
        try:
            if self._gpu_resources is None:
                self._gpu_resources = faiss.StandardGpuResources()
            gpu_index = faiss.index_cpu_to_gpu(self._gpu_resources, 0, self._cpu)
            if self.kind == "ivf":
                faiss.GpuParameterSpace().set_index_parameter(
                    gpu_index, "nprobe", self._config.nprobe
                )
            self._search_index = gpu_index
        except (RuntimeError, AttributeError) as error:  # CPU is always the fallback
            log.warning("GPU FAISS unavailable (%s); searching on the CPU", error)
            self._use_gpu = False
            self._search_index = self._cpu


def check_structure(index: faiss.Index, where: str) -> None:
    """Raise unless `index` is one of the three structures this module builds, inner product."""
    if isinstance(index, faiss.IndexIDMap2):
        inner = faiss.downcast_index(index.index)
        if not isinstance(inner, faiss.IndexFlat | faiss.IndexHNSWFlat):
            raise IndexCorruptError(
                where, f"IDMap2 over {type(inner).__name__}, not a flat or HNSW index"
            )
        metrics = (index.metric_type, inner.metric_type)
    elif isinstance(index, faiss.IndexIVFFlat):
        metrics = (index.metric_type,)
    else:
        raise IndexCorruptError(where, f"unexpected FAISS index type {type(index).__name__}")
    if any(metric != faiss.METRIC_INNER_PRODUCT for metric in metrics):
        raise IndexCorruptError(where, "metric is not inner product (scores would not be cosines)")


def _best_per_faq(
    scores: list[float],
    ids: list[int],
    k: int,
    accept: Callable[[int], bool] | None,
    second_weights: SecondWeights | None = None,
) -> tuple[list[Hit], int]:
    """Keep the first (best) hit of each FAQ; returns the hits and how many ids were valid.
    With `second_weights`, each FAQ's hit scores as the blend of its best and second best
    fetched phrasings (`_voted_per_faq`)."""
    if second_weights:
        return _voted_per_faq(scores, ids, k, accept, second_weights)
    hits: list[Hit] = []
    seen: set[int] = set()
    returned = 0
    for score, vector_id in zip(scores, ids, strict=True):
        if vector_id < 0:  # FAISS pads with -1 when it has fewer results than asked
            break
        returned += 1
        faq_id = vector_id >> PHRASING_BITS
        if faq_id in seen:
            continue
        seen.add(faq_id)
        if accept is not None and not accept(faq_id):
            continue
        hits.append(Hit(faq_id, vector_id & (PHRASING_SLOTS - 1), score))
        if len(hits) == k:
            break
    return hits, returned


def _voted_per_faq(
    scores: list[float],
    ids: list[int],
    k: int,
    accept: Callable[[int], bool] | None,
    second_weights: SecondWeights,
) -> tuple[list[Hit], int]:
    """`_best_per_faq` with each FAQ scored `(1 - w) * best + w * second` (model.faq_scoring;
    w = second_weights[faq_id], 0 when absent). Every fetched FAQ is a candidate, since the
    blend can reorder them; a second phrasing that was not fetched stands in at the lowest
    fetched score (its cosine is at most that)."""
    best: dict[int, tuple[int, float]] = {}  # faq_id -> (phrasing_no, score), first seen
    second: dict[int, float] = {}
    returned = 0
    for score, vector_id in zip(scores, ids, strict=True):  # best first
        if vector_id < 0:
            break
        returned += 1
        faq_id = vector_id >> PHRASING_BITS
        if faq_id not in best:
            best[faq_id] = (vector_id & (PHRASING_SLOTS - 1), score)
        elif faq_id not in second:
            second[faq_id] = score
    if not returned:
        return [], 0
    floor = scores[returned - 1]
    hits = []
    for faq_id, (phrasing_no, top) in best.items():
        if accept is not None and not accept(faq_id):
            continue
        weight = second_weights.get(faq_id, 0.0)
        if weight > 0.0:
            top = blend(top, second.get(faq_id, floor), weight)
        hits.append(Hit(faq_id, phrasing_no, top))
    hits.sort(key=lambda hit: -hit.score)  # stable: ties keep the fetched order
    return hits[:k], returned


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.asarray(vectors)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise IndexInputError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    if not np.issubdtype(vectors.dtype, np.floating):
        raise IndexInputError(f"expected float vectors, got {vectors.dtype}")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise IndexInputError("vectors contain NaN or infinity")
    return vectors


def _trained_ivf(vectors: np.ndarray, nlist: int, config: IndexConfig) -> faiss.IndexIVFFlat:
    dim = vectors.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.own_fields = True  # the quantizer lives as long as the IVF index (serialised with it)
    quantizer.this.disown()
    sample_size = min(len(vectors), nlist * config.train_points_per_list)
    if sample_size < len(vectors):
        rng = np.random.default_rng(0)  # deterministic training: rebuilds give the same lists
        sample = vectors[np.sort(rng.choice(len(vectors), sample_size, replace=False))]
    else:
        sample = vectors
    ivf.train(sample)
    # Hash-table direct map: reconstruct-by-id without a dense array sized by the largest id.
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    return ivf


def _kind_of(index: faiss.Index) -> IndexKind:
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    if isinstance(faiss.downcast_index(index.index), faiss.IndexHNSWFlat):
        return "hnsw"
    return "flat"


def _hnsw_of(index: faiss.Index) -> faiss.IndexHNSWFlat:
    return faiss.downcast_index(index.index)


def _empty_hnsw(dim: int, config: IndexConfig) -> faiss.IndexIDMap2:
    hnsw = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = config.hnsw_ef_construction
    hnsw.hnsw.efSearch = config.hnsw_ef_search or auto_ef_search(0)
    index = faiss.IndexIDMap2(hnsw)
    index.own_fields = True  # the graph lives as long as the id map (serialised with it)
    hnsw.this.disown()
    return index


def _wants_gpu(device: Device) -> bool:
    if device == "cpu":
        return False
    if gpu_available():
        return True
    if device == "gpu":
        log.warning("faiss_device=gpu but no CUDA-enabled faiss or no GPU visible; using CPU")
    return False
