"""FaqSearcher: keeps a FAISS index in step with the store and answers nearest-FAQ queries.

State that must change together — encoder, index, the faq_id → entry map, the store revision
they reflect — lives in one `_Live` object. Searches read the current `_Live` reference once
and hold its read lock only for the FAISS search and id mapping; mutations (catch-up) take its
write lock only to apply already-encoded vectors. Long work (rebuilds, encoder swaps) builds a
NEW `_Live` without any lock the searches need, then replaces the reference in one assignment.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from index.errors import (
    IndexFileError,
    IndexMismatchError,
    IndexMissingError,
    SwapInProgressError,
)
from index.faq_index import (
    PHRASING_BITS,
    PHRASING_SLOTS,
    FaqIndex,
    Hit,
    IndexConfig,
    RescoreMany,
    choose_nlist,
    set_threads,
    vector_ids,
    wanted_kind,
)
from index.persistence import IndexMeta, load_index, save_index_bytes
from index.rwlock import ReadWriteLock
from model.faq_scoring import FaqScoring
from model.lexical import LexicalModel, LexicalRows, PackedQuery
from model.text import normalize
from store.entries import FaqEntry
from store.faq_store import FaqStore

log = logging.getLogger(__name__)
# Questions per search_many call in best_matches: the encoder's batch buffers grow with it.
_BEST_MATCHES_BATCH = 256

ProgressCallback = Callable[[float, str], None]
# Phrasings the FAISS search hands to the lexical fusion at least: the fused best is among
# the 16 best cosines for every question of bench faq's sets (docs/quality.md). The vote of
# model.faq_scoring sees as many (its scores agreed with the full matrix's to a question).
LEXICAL_CANDIDATES = 16


class Encoder(Protocol):
    """What the searcher needs from `model.sentence_encoder.SentenceEncoder`."""

    dim: int
    content_hash: str
    # The TF-IDF half of the fused score, or None for plain cosine (model.lexical).
    lexical: LexicalModel | None
    # How an FAQ's score comes from its phrasings' (model.faq_scoring).
    faq_scoring: FaqScoring

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray: ...

    def encode_one(self, text: str) -> np.ndarray: ...


@dataclass(frozen=True)
class Match:
    faq_id: int
    question: str  # the phrasing that matched: the question or one of its alternates
    answer: str
    score: float  # cosine similarity in [-1, 1]


@dataclass(frozen=True)
class Query:
    """One question for `FaqSearcher.search_many`: its text, how many FAQs, which tags."""

    text: str
    k: int = 5
    tags: Iterable[str] | None = None


@dataclass(frozen=True)
class SearcherConfig:
    index: IndexConfig = field(default_factory=IndexConfig)
    # One FAISS thread: see faq_index.set_threads.
    threads: int = 1
    # Phrasings encoded per batch during rebuilds: large enough to amortise padding and calls.
    encode_batch: int = 512
    # tqdm bars for rebuilds (the CLI turns them on; the service logs instead).
    progress: bool = False

    @classmethod
    def from_settings(cls, settings: Any, progress: bool = False) -> SearcherConfig:
        """From `app.config.Settings` (read by attribute: index/ must not import app/)."""
        return cls(
            index=IndexConfig(
                kind=settings.index_kind,
                nprobe=settings.ivf_nprobe,
                min_ivf_vectors=settings.ivf_min_vectors,
                hnsw_min_vectors=settings.hnsw_min_vectors,
                hnsw_ef_search=settings.hnsw_ef_search,
                device=settings.faiss_device,
            ),
            threads=settings.faiss_threads,
            progress=progress,
        )


@dataclass(frozen=True)
class StartOutcome:
    action: str  # "loaded" (from disk, then caught up) or "rebuilt" (from the store)
    reason: str  # why it rebuilt, or what it loaded
    changes_applied: int


@dataclass(eq=False)
class _Live:
    """An encoder with the index it built and the entries that index holds, at `revision`."""

    encoder: Encoder
    index: FaqIndex
    entries: dict[int, FaqEntry]
    revision: int
    saved_revision: int = -1
    lock: ReadWriteLock = field(default_factory=ReadWriteLock)
    # The phrasings' TF-IDF vectors, filled when the encoder has a lexical model.
    lexical_rows: LexicalRows = field(default_factory=LexicalRows)
    # FAQs whose score blends in their second best phrasing, and its share (model.faq_scoring):
    # kept with the entries, so that an ask looks a weight up instead of working it out.
    second_weights: dict[int, float] = field(default_factory=dict)
    # The vector ids of the phrasings by the hash of their normalised text (one id, or a
    # tuple where texts repeat): a question asked word for word is scored against them even
    # where an approximate index would not fetch them. A hash, not the text: ~100 bytes a
    # phrasing instead of ~230; a collision only adds a candidate scored by its own vector.
    word_for_word: dict[int, int | tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries.values():  # fresh maps: nothing to forget first
            self._note_entry(entry)

    def put_entry(self, entry: FaqEntry) -> None:
        self._forget_phrasings(self.entries.get(entry.id))
        self.entries[entry.id] = entry
        self._note_entry(entry)

    def _note_entry(self, entry: FaqEntry) -> None:
        """The entry's phrasings, vote weight and TF-IDF rows in the lookup maps."""
        for vector_id, text in zip(
            vector_ids(entry.id, len(entry.phrasings)).tolist(), entry.phrasings, strict=True
        ):
            key = hash(normalize(text))
            held = self.word_for_word.get(key)
            self.word_for_word[key] = vector_id if held is None else (*_as_ids(held), vector_id)
        weight = self.encoder.faq_scoring.weight_for(len(entry.phrasings))
        if weight > 0.0:
            self.second_weights[entry.id] = weight
        else:
            self.second_weights.pop(entry.id, None)
        lexical = self.encoder.lexical
        if lexical is not None:
            self.lexical_rows.put(entry.id, [lexical.vector(t) for t in entry.phrasings])

    def drop_entry(self, faq_id: int) -> None:
        self._forget_phrasings(self.entries.pop(faq_id, None))
        self.second_weights.pop(faq_id, None)
        self.lexical_rows.remove(faq_id)

    def phrasings_repeated(self, question: str) -> tuple[int, ...]:
        """The vector ids of the stored phrasings `question` repeats word for word."""
        held = self.word_for_word.get(hash(normalize(question)))
        return () if held is None else _as_ids(held)

    def _forget_phrasings(self, entry: FaqEntry | None) -> None:
        if entry is None:
            return
        owned = set(vector_ids(entry.id, len(entry.phrasings)).tolist())
        for text in entry.phrasings:
            key = hash(normalize(text))
            kept = tuple(i for i in _as_ids(self.word_for_word.get(key, ())) if i not in owned)
            if not kept:
                self.word_for_word.pop(key, None)
            else:
                self.word_for_word[key] = kept[0] if len(kept) == 1 else kept


def _as_ids(held: int | tuple[int, ...]) -> tuple[int, ...]:
    return (held,) if isinstance(held, int) else held


class FaqSearcher:
    """Nearest-FAQ search over the store's entries, for one encoder at a time.

    Call `start()` once before searching. Thread-safe: any number of threads may search
    while one catches up, saves or swaps the encoder.
    """

    def __init__(
        self,
        store: FaqStore,
        encoder: Encoder,
        index_dir: Path,
        config: SearcherConfig | None = None,
    ) -> None:
        self._store = store
        self._initial_encoder = encoder
        self._index_dir = Path(index_dir)
        self._config = config or SearcherConfig()
        self._live: _Live | None = None
        self._store_id = ""
        # Serialises writers (catch-up, the swap's final step) so revisions apply in order.
        self._sync_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._swap_guard = threading.Lock()
        self._swap_future: Future[None] | None = None
        self.last_start: StartOutcome | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> StartOutcome:
        """Load the saved index if it fits this encoder and store, else rebuild; catch up.

        Never serves a stale or empty index silently: any problem with the saved files is
        logged (info when missing, error when corrupt or mismatched) and triggers a rebuild.
        """
        set_threads(self._config.threads)
        self._store_id = self._store.store_id()
        encoder = self._initial_encoder
        try:
            live, meta = self._load(encoder)
        except IndexMissingError as error:
            # The normal first start (and a replica without a volume): nothing to warn about.
            log.info("no saved index (%s); building it from the store", error)
            outcome = self._rebuild_and_save(encoder, reason=str(error))
        except IndexFileError as error:
            log.error("saved index rejected: %s; REBUILDING it from the store", error)
            outcome = self._rebuild_and_save(encoder, reason=str(error))
        else:
            with self._sync_lock:
                self._live = live
                applied = self._catch_up_live(live)
            outcome = StartOutcome("loaded", f"revision {meta.store_revision}", applied)
            if applied:
                self.save()
        log.info(
            "index %s (%s): %d entries, %d vectors, revision %d",
            outcome.action, outcome.reason, self.count, self.size, self.revision,
        )
        self.last_start = outcome
        return outcome

    def rebuild(self) -> StartOutcome:
        """Re-embed every entry with the current encoder into a new index, swap it in, save."""
        self._store_id = self._store_id or self._store.store_id()
        encoder = self._live.encoder if self._live else self._initial_encoder
        return self._rebuild_and_save(encoder, reason="rebuild requested")

    def _rebuild_and_save(self, encoder: Encoder, reason: str) -> StartOutcome:
        live = self._build_live(encoder)
        with self._sync_lock:
            applied = self._catch_up_live(live)
            self._live = live
        self.save()
        return StartOutcome("rebuilt", reason, applied)

    def _load(self, encoder: Encoder) -> tuple[_Live, IndexMeta]:
        index, meta = load_index(
            self._index_dir,
            encoder_hash=encoder.content_hash,
            dimension=encoder.dim,
            config=self._config.index,
        )
        if meta.store_id != self._store_id:
            raise IndexMismatchError(self._index_dir, "built from another database")
        store_revision = self._store.revision()
        if meta.store_revision > store_revision:
            raise IndexMismatchError(
                self._index_dir,
                f"at store revision {meta.store_revision}, ahead of the store's "
                f"{store_revision} (database restored from a backup?)",
            )
        wanted_kind = self._kind_for(meta.count)
        if meta.kind != wanted_kind:
            raise IndexMismatchError(
                self._index_dir, f"a {meta.kind} index; the settings call for {wanted_kind}"
            )
        # Entries as of now; the catch-up from the index's revision re-applies anything newer.
        entries = {entry.id: entry for entry in self._store.iter_entries()}
        live = _Live(encoder, index, entries, meta.store_revision, meta.store_revision)
        problem = _inconsistency(live, self._store.changes_since(meta.store_revision))
        if problem:
            raise IndexMismatchError(self._index_dir, problem)
        return live, meta

    def _kind_for(self, n_vectors: int) -> str:
        return wanted_kind(n_vectors, self._config.index)

    def _build_live(self, encoder: Encoder, on_progress: ProgressCallback | None = None) -> _Live:
        """Embed every stored entry into a new index (no lock held: searches go on)."""
        revision = self._store.revision()  # read BEFORE iterating: catch-up covers the rest
        total = self._store.count()
        entries: dict[int, FaqEntry] = {}
        vector_chunks: list[np.ndarray] = []
        id_chunks: list[np.ndarray] = []
        texts: list[str] = []
        batch = self._config.encode_batch
        bar = tqdm(
            total=total, desc="embedding FAQ entries", unit="entry",
            disable=not self._config.progress,
        )
        with bar:
            for entry in self._store.iter_entries():
                entries[entry.id] = entry
                texts.extend(entry.phrasings)
                id_chunks.append(vector_ids(entry.id, len(entry.phrasings)))
                if len(texts) >= batch:
                    vector_chunks.append(encoder.encode(texts, batch_size=batch))
                    texts = []
                bar.update(1)
                if on_progress is not None and len(entries) % 1000 == 0:
                    on_progress(min(len(entries) / max(total, 1), 0.99), "embedding entries")
            if texts:
                vector_chunks.append(encoder.encode(texts, batch_size=batch))
        dim = encoder.dim
        vectors = np.concatenate(vector_chunks) if vector_chunks else np.empty((0, dim), "f4")
        ids = np.concatenate(id_chunks) if id_chunks else np.empty(0, np.int64)
        kind = self._kind_for(len(vectors))
        index = FaqIndex.build(vectors, ids, _with_kind(self._config.index, kind), dim=dim)
        if on_progress is not None:
            on_progress(1.0, "index built")
        return _Live(encoder, index, entries, revision)

    # ---- keeping up with the store ----------------------------------------------------------

    def catch_up(self) -> int:
        """Apply the store's changes since the index revision; returns how many entries changed.

        Idempotent. Called after this process's own writes (read-your-write) and by the
        background poller for other processes' writes.
        """
        with self._sync_lock:
            live = self._require_live()
            try:
                changed = self._catch_up_live(live)
            except _StoreRewound as error:
                reason = str(error)
                log.error("%s; REBUILDING the index from the store", reason)
            else:
                self._reshape_if_due(live)
                return changed
        outcome = self._rebuild_and_save(live.encoder, reason=reason)
        return outcome.changes_applied

    def _reshape_if_due(self, live: _Live) -> None:
        """Rebuild in the background when the index no longer suits its size (`_reshape_reason`).

        Without this, FAQs added through the API would stay in a flat index (or an IVF one
        trained at a fraction of today's size, or an HNSW graph full of tombstones) until a
        restart.
        """
        reason = _reshape_reason(live.index, self._config.index)
        if reason is None:
            return
        try:
            self.swap_encoder(live.encoder)
        except SwapInProgressError:
            return  # a swap is already rebuilding with the configured kind
        log.info("index at %d vectors (%s): %s; rebuilding it in the background",
                 live.index.ntotal, live.index.kind, reason)

    def _catch_up_live(self, live: _Live) -> int:
        """Bring `live` to the store's revision (caller holds the sync lock or owns `live`)."""
        changes = self._store.changes_since(live.revision)
        if changes.revision < live.revision:
            raise _StoreRewound(
                f"store revision {changes.revision} is behind the index's {live.revision}"
            )
        if not changes.upserted and not changes.deleted:
            live.revision = changes.revision
            return 0
        # Encode before taking the write lock: the slow part must not block searches.
        texts = [text for entry in changes.upserted for text in entry.phrasings]
        ids = np.concatenate(
            [vector_ids(entry.id, len(entry.phrasings)) for entry in changes.upserted]
            or [np.empty(0, np.int64)]
        )
        vectors = (
            live.encoder.encode(texts, batch_size=self._config.encode_batch)
            if texts
            else np.empty((0, live.index.dim), np.float32)
        )
        touched = [*changes.deleted, *(entry.id for entry in changes.upserted)]
        with live.lock.write():
            live.index.remove_faqs(np.asarray(touched, dtype=np.int64))
            live.index.add(vectors, ids)
            for faq_id in changes.deleted:
                live.drop_entry(faq_id)
            for entry in changes.upserted:
                live.put_entry(entry)
            live.revision = changes.revision
        return len(touched)

    # ---- searching ------------------------------------------------------------------------

    def search(self, text: str, k: int = 5, tags: Iterable[str] | None = None) -> list[Match]:
        """The `k` best FAQs for `text`, one per FAQ, best first.

        `tags`: keep only FAQs carrying at least one of them (matched after NFKC + trim, like
        the store); the index over-fetches until `k` such FAQs are found or none are left.
        """
        return self._search_queries([Query(text, k, tags)])[0]

    def best_matches(self, questions: Sequence[str]) -> tuple[list[float], list[int | None]]:
        """Per question, the best FAQ's score and id as /ask decides (-1.0 and None when the
        index is empty): what a threshold is tuned on, so that it holds for the answers."""
        found: list[list[Match]] = []
        for first in range(0, len(questions), _BEST_MATCHES_BATCH):
            batch = questions[first : first + _BEST_MATCHES_BATCH]
            found += self.search_many([Query(question, 1) for question in batch])
        scores = [float(matches[0].score) if matches else -1.0 for matches in found]
        return scores, [matches[0].faq_id if matches else None for matches in found]

    def is_stored_phrasing(self, question: str) -> bool:
        """Whether `question` repeats a stored phrasing word for word (after `normalize`):
        such a question scores 1 against it, whatever the model."""
        return bool(self._require_live().phrasings_repeated(question))

    def search_many(self, queries: Sequence[Query]) -> list[list[Match]]:
        """`search` for several questions at once (the /ask batcher): one encoder pass, one
        FAISS call and one lexical pass for the batch, the same matches as one by one.

        One text through the GRU, and one question's lexical dots, cost mostly per-call
        overhead, which a batch shares: at 8 questions the encoder costs ~0.6 of 8 calls.
        """
        return self._search_queries(queries)

    def _search_queries(self, queries: Sequence[Query]) -> list[list[Match]]:
        live = self._require_live()
        if not queries:
            return []
        if len(queries) == 1:  # outside the lock, like the batch
            vectors = live.encoder.encode_one(queries[0].text)[None, :]
        else:
            vectors = live.encoder.encode([query.text for query in queries])
        accepts = [_tag_filter(live, query.tags) for query in queries]
        rescore = _lexical_rescore(live, [query.text for query in queries])
        with live.lock.read():
            # Empty when no stored FAQ votes (the model does not, or no FAQ has enough
            # phrasings): the plain best-per-FAQ step, at no extra cost.
            votes = live.second_weights
            includes = [live.phrasings_repeated(query.text) for query in queries]
            found = live.index.search_many(
                vectors, [query.k for query in queries], accepts, rescore,
                LEXICAL_CANDIDATES if rescore or votes else 0, votes,
                includes if any(includes) else None,
            )
            return [
                [_match(live, hit) for hit in hits]  # map and index change under one lock
                for hits in found
            ]

    # ---- persistence ----------------------------------------------------------------------

    def save(self) -> IndexMeta:
        """Persist the current index atomically (serialised under the read lock, written after)."""
        with self._save_lock:
            live = self._require_live()
            with live.lock.read():  # no writer mid-change: index, count and revision agree
                data = live.index.to_bytes()
                revision, count = live.revision, live.index.ntotal
            meta = save_index_bytes(
                data,
                self._index_dir,
                dimension=live.index.dim,
                kind=live.index.kind,
                count=count,
                nlist=live.index.nlist,
                encoder_hash=live.encoder.content_hash,
                store_id=self._store_id,
                store_revision=revision,
            )
            live.saved_revision = revision
            return meta

    @property
    def unsaved(self) -> bool:
        """True when the index reflects changes that are not on disk yet."""
        live = self._live
        return live is not None and live.revision != live.saved_revision

    # ---- encoder swap ---------------------------------------------------------------------

    def swap_encoder(
        self, encoder: Encoder, on_progress: ProgressCallback | None = None
    ) -> Future[None]:
        """Re-embed everything with `encoder` in a background thread, then swap atomically.

        The old encoder and index keep serving until the new index has caught up with the
        store. Returns a Future that completes (or carries the error) when the swap is done;
        raises SwapInProgressError while another swap runs.
        """
        self._require_live()
        with self._swap_guard:
            if self._swap_future is not None and not self._swap_future.done():
                raise SwapInProgressError()
            future: Future[None] = Future()
            future.set_running_or_notify_cancel()
            self._swap_future = future
        thread = threading.Thread(
            target=self._run_swap, args=(encoder, future, on_progress),
            name="samesay-index-swap", daemon=True,
        )
        thread.start()
        return future

    def _run_swap(
        self, encoder: Encoder, future: Future[None], on_progress: ProgressCallback | None
    ) -> None:
        try:
            new_live = self._build_live(encoder, on_progress)
            self._catch_up_live(new_live)  # the bulk of the gap, without blocking catch_up()
            with self._sync_lock:
                self._catch_up_live(new_live)  # whatever arrived meanwhile
                self._live = new_live  # the swap: searches pick up the new reference
            log.info("encoder swapped to %s (%d vectors)", encoder.content_hash[:12], self.size)
            self.save()
        except BaseException as error:  # the future carries it to whoever waits
            log.exception("encoder swap failed; the previous encoder keeps serving")
            future.set_exception(error)
        else:
            future.set_result(None)

    # ---- inspection -----------------------------------------------------------------------

    def _require_live(self) -> _Live:
        live = self._live
        if live is None:
            raise RuntimeError("FaqSearcher.start() has not been called")
        return live

    @property
    def encoder(self) -> Encoder:
        return self._require_live().encoder

    @property
    def revision(self) -> int:
        """Store revision the index reflects."""
        return self._require_live().revision

    @property
    def size(self) -> int:
        """Vectors in the index (one per question and alternate)."""
        return self._require_live().index.ntotal

    @property
    def count(self) -> int:
        """FAQ entries in the index."""
        return len(self._require_live().entries)

    @property
    def kind(self) -> str:
        return self._require_live().index.kind

    @property
    def rebuilding(self) -> bool:
        """True while a background re-embedding (encoder swap or growth into IVF) runs."""
        future = self._swap_future
        return future is not None and not future.done()

    def index_ids(self) -> np.ndarray:
        """Every vector id in the index (for consistency checks). (size,) int64."""
        live = self._require_live()
        with live.lock.read():
            return live.index.ids()

    def expected_ids(self) -> np.ndarray:
        """The vector ids the entry map calls for. (n,) int64."""
        live = self._require_live()
        with live.lock.read():
            return _expected_ids(live.entries.values())


def _tag_filter(live: _Live, tags: Iterable[str] | None) -> Callable[[int], bool] | None:
    """Accepts FAQs carrying at least one of `tags` (NFKC + trim, as the store keeps them)."""
    if not tags:
        return None
    wanted = frozenset(unicodedata.normalize("NFKC", tag).strip() for tag in tags)
    entries = live.entries

    def accept(faq_id: int) -> bool:
        entry = entries.get(faq_id)
        return entry is not None and not wanted.isdisjoint(entry.tags)

    return accept


def _match(live: _Live, hit: Hit) -> Match:
    entry = live.entries[hit.faq_id]
    # float32 unit vectors give a phrasing asked word for word 1.0000001: a cosine is at
    # most 1, and a threshold (which the store caps at 1) must be reachable.
    score = min(max(hit.score, -1.0), 1.0)
    return Match(hit.faq_id, entry.phrasings[hit.phrasing_no], entry.answer, score)


def _lexical_rescore(live: _Live, texts: Sequence[str]) -> RescoreMany | None:
    """The fused scores of fetched phrasings for the questions `texts` (model.lexical), or
    None for plain cosine. Called by the index under the read lock, which keeps
    `live.lexical_rows` still."""
    lexical = live.encoder.lexical
    if lexical is None:
        return None
    packed = [PackedQuery(lexical.vector(text)) for text in texts]
    weights = [lexical.weight(text) for text in texts]

    def rescore(
        numbers: Sequence[int], cosines: list[np.ndarray], ids: list[np.ndarray]
    ) -> list[np.ndarray]:
        every = np.concatenate(ids)
        tfidf = live.lexical_rows.dots_many(
            [packed[number] for number in numbers],
            every >> PHRASING_BITS,
            every & (PHRASING_SLOTS - 1),
            [len(row) for row in ids],
        )
        fused = []
        start = 0
        for number, row in zip(numbers, cosines, strict=True):
            weight = weights[number]
            fused.append((1.0 - weight) * row + weight * tfidf[start : start + len(row)])
            start += len(row)
        return fused

    return rescore


class _StoreRewound(Exception):
    """The store's revision went below the index's (restored backup, or another database)."""


def _reshape_reason(index: FaqIndex, config: IndexConfig) -> str | None:
    """Why `index` should be rebuilt as another kind or shape, or None.

    The thresholds have slack (twice the minimum to leave flat, half the HNSW size to leave
    HNSW, a factor 2 in IVF lists) so an index near a boundary does not thrash.
    """
    total = index.ntotal
    if index.kind == "hnsw" and index.dead_fraction > config.hnsw_max_dead_fraction:
        return f"{index.dead_fraction:.0%} of the HNSW graph is tombstones"
    wanted = wanted_kind(total, config)
    if index.kind == "flat":
        if wanted != "flat" and total >= 2 * config.min_ivf_vectors:
            return f"grown past flat, {wanted} wanted"
        return None
    if index.kind == "hnsw":
        if wanted == "ivf" and total < config.hnsw_min_vectors / 2:
            return "shrunk below HNSW size, ivf wanted"
        return None
    if wanted == "hnsw":
        return "grown past IVF, hnsw wanted"
    lists = choose_nlist(total, config)
    if wanted == "ivf" and lists and not 0.5 <= index.nlist / lists <= 2.0:
        return f"{index.nlist} IVF lists where {lists} are wanted"
    return None


def _with_kind(config: IndexConfig, kind: str) -> IndexConfig:
    return config if config.kind == kind else dataclasses.replace(config, kind=kind)


def _expected_ids(entries: Iterable[FaqEntry]) -> np.ndarray:
    chunks = [vector_ids(entry.id, len(entry.phrasings)) for entry in entries]
    return np.concatenate(chunks) if chunks else np.empty(0, np.int64)


def _inconsistency(live: _Live, pending: Any) -> str | None:
    """Why a freshly loaded index does not hold exactly the vectors its revision calls for.

    Entries untouched since the index revision must have exactly their phrasings' ids; touched
    ones are about to be replaced by the catch-up, so only their presence is not checked.
    """
    touched = {entry.id for entry in pending.upserted} | set(pending.deleted)
    index_ids = live.index.ids()
    if len(np.unique(index_ids)) != len(index_ids):
        return "duplicate vector ids"
    untouched = _expected_ids(e for i, e in live.entries.items() if i not in touched)
    touched_ids = np.fromiter(touched, np.int64, count=len(touched))
    index_untouched = index_ids[~np.isin(index_ids >> PHRASING_BITS, touched_ids)]
    if not np.array_equal(np.sort(index_untouched), np.sort(untouched)):
        return (
            f"holds {len(index_untouched)} vectors of unchanged entries where the store has "
            f"{len(untouched)} (or different ids)"
        )
    return None
