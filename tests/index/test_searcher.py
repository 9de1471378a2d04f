"""FaqSearcher with a real store (SQLite and PostgreSQL), the tiny trained encoder, real FAISS."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from index.errors import SwapInProgressError
from index.faq_index import Hit
from index.persistence import SIDECAR_NAME, read_meta
from index.searcher import FaqSearcher, Query, SearcherConfig, _match
from index.sync import IndexPoller
from store.entries import FaqDraft, FaqEntry, FaqPatch
from store.faq_store import FaqStore
from tests.index.conftest import drafts_from_groups, held_out_queries

REPO = Path(__file__).resolve().parents[2]


def assert_index_matches_store(searcher: FaqSearcher, store: FaqStore) -> None:
    """The index holds exactly one vector per stored phrasing, no more, no fewer."""
    entries = list(store.iter_entries())
    expected = sorted(e.id * 128 + n for e in entries for n in range(len(e.phrasings)))
    got = searcher.index_ids()
    assert len(np.unique(got)) == len(got), "duplicate vector ids"
    assert sorted(got.tolist()) == expected
    assert searcher.count == len(entries)
    assert searcher.revision == store.revision()


def top1(searcher: FaqSearcher, queries: list[str]) -> list[int | None]:
    return [next((m.faq_id for m in searcher.search(q, 1)), None) for q in queries]


@pytest.fixture
def stocked_store(faq_store: FaqStore, fixture_groups) -> FaqStore:
    faq_store.add(drafts_from_groups(fixture_groups))
    return faq_store


def test_read_your_write_in_the_same_process(faq_store: FaqStore, make_searcher) -> None:
    searcher = make_searcher(faq_store)
    assert searcher.start().action == "rebuilt"  # nothing on disk yet
    assert searcher.search("anything at all", 5) == []  # empty store: no matches, no error

    [entry] = faq_store.add([FaqDraft("how do i reset my password", "Use the link.")])
    assert searcher.catch_up() == 1
    [match] = searcher.search("how do i reset my password", 5)
    assert (match.faq_id, match.question) == (entry.id, entry.question)
    assert match.answer == "Use the link."
    assert match.score == pytest.approx(1.0, abs=1e-4)

    faq_store.update(entry.id, FaqPatch(alternates=("forgot my password",), answer="New link."))
    searcher.catch_up()
    [match] = searcher.search("forgot my password", 5)
    assert (match.question, match.answer) == ("forgot my password", "New link.")
    assert_index_matches_store(searcher, faq_store)

    faq_store.delete(entry.id)
    searcher.catch_up()
    assert searcher.search("how do i reset my password", 5) == []
    assert searcher.size == 0 and searcher.catch_up() == 0  # idempotent


def test_results_are_one_per_faq_best_first_and_capped(stocked_store, make_searcher) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    matches = searcher.search("how do i reset my password", 100)
    assert len(matches) == stocked_store.count()  # k capped at the number of FAQs
    assert len({m.faq_id for m in matches}) == len(matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_paraphrases_find_their_faq(stocked_store, make_searcher, fixture_groups) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    ids = {e.answer.removeprefix("answer for "): e.id for e in stocked_store.iter_entries()}
    queries = [(g, q) for g, qs in held_out_queries(fixture_groups).items() for q in qs]
    hits = sum(top1(searcher, [q])[0] == ids[g] for g, q in queries)
    assert hits / len(queries) > 0.8  # the tiny model was trained on these groups


def test_tag_filter_keeps_only_tagged_faqs(stocked_store, make_searcher) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    odd = {e.id for e in stocked_store.iter_entries() if "odd" in e.tags}
    matches = searcher.search("how do i reset my password", 10, tags=["odd"])
    assert len(matches) == 10 and {m.faq_id for m in matches} <= odd
    [only] = searcher.search("anything", 10, tags=["reset_password"])
    assert only.answer == "answer for reset_password"
    assert searcher.search("anything", 10, tags=["no-such-tag"]) == []


def test_search_many_answers_each_question_as_search_does(
    stocked_store, make_searcher, fixture_groups
) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    texts = [q for qs in held_out_queries(fixture_groups).values() for q in qs][:12]
    queries = [
        Query(text, k=1 + number % 4, tags=["odd"] if number % 3 == 0 else None)
        for number, text in enumerate(texts)
    ]
    batched = searcher.search_many(queries)
    alone = [searcher.search(query.text, query.k, query.tags) for query in queries]
    assert [[m.faq_id for m in ms] for ms in batched] == [[m.faq_id for m in ms] for ms in alone]
    for got, expected in zip(batched, alone, strict=True):
        # One GRU pass for the batch, one per text alone: the same vectors to rounding.
        assert [m.score for m in got] == pytest.approx([m.score for m in expected], abs=1e-5)
    assert searcher.search_many(queries[:1])[0] == alone[0]
    assert searcher.search_many([]) == []


def test_best_matches_is_each_questions_top_answer_past_one_batch(
    stocked_store, make_searcher, fixture_groups, tmp_path: Path
) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    texts = [q for qs in held_out_queries(fixture_groups).values() for q in qs]
    texts = (texts * (300 // len(texts) + 1))[:300]  # past one 256-question batch
    scores, ids = searcher.best_matches(texts)
    alone = [searcher.search(text, 1)[0] for text in texts]
    assert ids == [match.faq_id for match in alone]
    assert scores == pytest.approx([match.score for match in alone], abs=1e-5)

    store = FaqStore(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        empty = make_searcher(store, index_dir=tmp_path / "empty-index")
        empty.start()
        assert empty.best_matches(["anything"]) == ([-1.0], [None])
    finally:
        store.close()


@pytest.mark.slow
def test_second_process_finds_a_write_after_catching_up(
    stocked_store, database_url, tiny_encoder_path, tmp_path
) -> None:
    """Another process (own searcher, own index dir) sees this process's write via the log."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.index.second_process",
            database_url,
            str(tiny_encoder_path),
            str(tmp_path / "child-index"),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        [entry] = stocked_store.add(
            [FaqDraft("where is my parcel right now", "Track it.", ("track my parcel",))]
        )
        child.stdin.write("track my parcel\n")
        child.stdin.flush()
        result = json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert result["before"] != entry.id  # not visible before catching up...
    assert result["after"] == entry.id  # ...and found right after
    assert result["question"] == "track my parcel"


def test_start_loads_a_matching_index_and_catches_up(stocked_store, make_searcher) -> None:
    first = make_searcher(stocked_store)
    first.start()
    saved = read_meta(first._index_dir)
    [added] = stocked_store.add([FaqDraft("a brand new question", "new answer")])
    victim = next(stocked_store.iter_entries())
    stocked_store.delete(victim.id)

    second = make_searcher(stocked_store)
    outcome = second.start()
    assert outcome.action == "loaded" and outcome.changes_applied == 2
    assert second.search("a brand new question", 1)[0].faq_id == added.id
    assert_index_matches_store(second, stocked_store)
    assert read_meta(second._index_dir).store_revision > saved.store_revision  # re-saved


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "other_model", "delete", "garbage"])
def test_damaged_index_is_rebuilt_with_the_same_answers(
    stocked_store, make_searcher, fixture_groups, damage: str
) -> None:
    queries = [q for qs in held_out_queries(fixture_groups).values() for q in qs]
    first = make_searcher(stocked_store)
    first.start()
    before = top1(first, queries)
    directory = first._index_dir
    meta = read_meta(directory)
    index_file = directory / meta.index_file
    if damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[: meta.nbytes // 2])
    elif damage == "corrupt":
        data = bytearray(index_file.read_bytes())
        data[-20:] = b"\x00" * 20
        index_file.write_bytes(bytes(data))
    elif damage == "other_model":
        raw = json.loads((directory / SIDECAR_NAME).read_text())
        raw["encoder_hash"] = "0" * 64
        (directory / SIDECAR_NAME).write_text(json.dumps(raw))
    elif damage == "delete":
        index_file.unlink()
    else:
        (directory / SIDECAR_NAME).write_text("{")

    restarted = make_searcher(stocked_store)
    outcome = restarted.start()
    assert outcome.action == "rebuilt" and "samesay index build" in outcome.reason
    assert top1(restarted, queries) == before
    assert_index_matches_store(restarted, stocked_store)
    assert make_searcher(stocked_store).start().action == "loaded"  # the rebuild was saved


def test_index_from_another_database_is_rebuilt(
    stocked_store, make_searcher, tmp_path, fixture_groups
) -> None:
    make_searcher(stocked_store).start()
    other = FaqStore(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.add(drafts_from_groups(fixture_groups)[:3])
        searcher = make_searcher(other)
        outcome = searcher.start()
        assert outcome.action == "rebuilt" and "another database" in outcome.reason
        assert_index_matches_store(searcher, other)
    finally:
        other.close()


def test_ivf_setting_falls_back_to_flat_for_small_sets(stocked_store, make_searcher) -> None:
    from index.faq_index import IndexConfig

    config = SearcherConfig(index=IndexConfig(kind="ivf", min_ivf_vectors=50, nprobe=1000))
    searcher = make_searcher(stocked_store, config=config)
    searcher.start()
    assert searcher.kind == "ivf"  # 90 vectors >= 50: trained on them
    assert_index_matches_store(searcher, stocked_store)
    small = make_searcher(stocked_store, config=SearcherConfig(index=IndexConfig(kind="ivf")))
    assert small.start().action == "rebuilt"  # a saved ivf index, but 90 vectors call for flat
    assert small.kind == "flat"


def test_flat_fallback_grows_into_ivf_once_enough_faqs_arrive(
    faq_store: FaqStore, make_searcher, fixture_groups
) -> None:
    from index.faq_index import IndexConfig

    config = SearcherConfig(index=IndexConfig(kind="ivf", min_ivf_vectors=40, nprobe=1000))
    searcher = make_searcher(faq_store, config=config)
    searcher.start()
    assert searcher.kind == "flat"  # empty store: nothing to train IVF on
    faq_store.add(drafts_from_groups(fixture_groups))  # 90 phrasings: >= 2 x 40
    searcher.catch_up()
    future = searcher._swap_future
    assert future is not None, "catch_up did not start the IVF rebuild"
    future.result(timeout=120)
    assert searcher.kind == "ivf"
    assert_index_matches_store(searcher, faq_store)


def test_ivf_with_lists_far_off_its_size_is_rebuilt(faq_store: FaqStore, make_searcher) -> None:
    from index.faq_index import IndexConfig

    faq_store.add([FaqDraft(f"question {i} on topic {i % 37}", f"answer {i}") for i in range(2000)])
    few_lists = IndexConfig(kind="ivf", min_ivf_vectors=100, max_auto_nlist=10)
    old = make_searcher(faq_store, config=SearcherConfig(index=few_lists))
    old.start()
    assert old._live.index.nlist == 10  # saved with 10 lists (an older rule, or a smaller set)
    searcher = make_searcher(
        faq_store, config=SearcherConfig(index=IndexConfig(kind="ivf", min_ivf_vectors=100))
    )
    assert searcher.start().action == "loaded"
    searcher.catch_up()
    future = searcher._swap_future
    assert future is not None, "catch_up did not start the rebuild"
    future.result(timeout=120)
    assert searcher._live.index.nlist == 51  # 2000 // 39: k-means' floor of points per list
    searcher.catch_up()
    assert searcher._swap_future is future  # in step now: no second rebuild
    assert_index_matches_store(searcher, faq_store)


def test_auto_grows_from_ivf_into_hnsw_and_hnsw_sheds_its_tombstones(
    faq_store: FaqStore, make_searcher
) -> None:
    from index.faq_index import IndexConfig

    faq_store.add([FaqDraft(f"question {i} on topic {i % 37}", f"answer {i}") for i in range(800)])
    auto = IndexConfig(kind="auto", min_ivf_vectors=100, hnsw_min_vectors=1_000)
    searcher = make_searcher(faq_store, config=SearcherConfig(index=auto))
    searcher.start()
    assert searcher.kind == "ivf"
    faq_store.add(
        [FaqDraft(f"another question {i} about {i % 41}", f"answer {i}") for i in range(800)]
    )
    searcher.catch_up()
    future = searcher._swap_future
    assert future is not None, "catch_up did not start the HNSW rebuild"
    future.result(timeout=120)
    assert searcher.kind == "hnsw"
    assert_index_matches_store(searcher, faq_store)
    # Deletes are tombstones until they pass a quarter of the graph, then it is rebuilt.
    ids = [entry.id for entry in faq_store.iter_entries()]
    faq_store.delete_many(ids[:300])
    searcher.catch_up()
    assert searcher._swap_future is future  # 300 of 1,600: 19 % tombstones, no rebuild
    assert searcher._live.index.dead_fraction == pytest.approx(300 / 1600)
    assert_index_matches_store(searcher, faq_store)
    faq_store.delete_many(ids[300:500])
    searcher.catch_up()
    rebuild = searcher._swap_future
    assert rebuild is not future, "catch_up did not start the rebuild that drops tombstones"
    rebuild.result(timeout=120)
    assert (searcher.kind, searcher._live.index.dead_fraction) == ("hnsw", 0.0)
    assert_index_matches_store(searcher, faq_store)
    # Questions worded exactly like deleted FAQs only ever find live ones.
    found = [
        m.faq_id
        for q in ("question 3 on topic 3", "question 7 on topic 7")
        for m in searcher.search(q, 20)
    ]
    assert found and set(found) <= set(ids[500:])


def test_swap_encoder_reembeds_and_keeps_serving(
    stocked_store, make_searcher, second_encoder, fixture_groups
) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    old_encoder = searcher.encoder
    progress: list[float] = []
    future = searcher.swap_encoder(second_encoder, on_progress=lambda f, _: progress.append(f))
    with pytest.raises(SwapInProgressError):
        searcher.swap_encoder(second_encoder)
    # a write during the swap must survive it
    [added] = stocked_store.add([FaqDraft("written during the swap", "still here")])
    searcher.catch_up()
    future.result(timeout=60)
    assert searcher.encoder is second_encoder and searcher.encoder is not old_encoder
    assert progress and progress[-1] == 1.0
    searcher.catch_up()
    [match] = searcher.search("written during the swap", 1)
    # score ~1 only if the index was re-embedded with the encoder now encoding the queries
    assert match.faq_id == added.id and match.score == pytest.approx(1.0, abs=1e-4)
    assert_index_matches_store(searcher, stocked_store)
    assert read_meta(searcher._index_dir).encoder_hash == second_encoder.content_hash
    # a process restarting with the new model loads the saved index instead of rebuilding
    assert make_searcher(stocked_store, encoder=second_encoder).start().action == "loaded"


def test_poller_applies_other_writers_changes(stocked_store, make_searcher) -> None:
    searcher = make_searcher(stocked_store)
    searcher.start()
    poller = IndexPoller(searcher, interval_s=0.05, save_every_s=0.0)
    poller.start()
    try:
        [entry] = stocked_store.add([FaqDraft("polled into the index", "yes")])
        deadline = 200
        while searcher.revision < stocked_store.revision() and deadline:
            deadline -= 1
            poller._stop.wait(0.05)
        assert searcher.search("polled into the index", 1)[0].faq_id == entry.id
    finally:
        poller.stop()
    assert not searcher.unsaved
    assert read_meta(searcher._index_dir).store_revision == stocked_store.revision()


def test_a_stored_phrasing_asked_word_for_word_finds_its_faq_whatever_the_graph_reaches(
    faq_store: FaqStore, make_searcher
) -> None:
    """A templated catalogue (one wording, a number apart) in an HNSW graph searched with a
    one-candidate list: the graph misses phrasings, the word-for-word lookup does not."""
    from index.faq_index import IndexConfig

    faq_store.add(
        [
            FaqDraft(
                f"can I recycle packaging type {i}?",
                f"answer {i}",
                (f"recycle packaging {i}", f"packaging {i} waste", f"dispose of packaging {i}"),
            )
            for i in range(150)
        ]
    )
    graph = IndexConfig(kind="hnsw", min_ivf_vectors=100, hnsw_ef_search=1)
    searcher = make_searcher(faq_store, config=SearcherConfig(index=graph))
    searcher.start()
    assert searcher.kind == "hnsw"
    entries = list(faq_store.iter_entries())
    for entry in entries:
        for phrasing in entry.phrasings:
            assert top1(searcher, [phrasing]) == [entry.id], phrasing
    # Word for word after normalisation: case and spacing do not matter.
    first = entries[0]
    assert top1(searcher, [f"  {first.question.upper()} "]) == [first.id]
    # An edited phrasing is found by its new words; a deleted FAQ by none.
    faq_store.update(first.id, FaqPatch(alternates=("packaging zero into the blue bin",)))
    faq_store.delete_many([entries[1].id])
    searcher.catch_up()
    assert top1(searcher, ["packaging zero into the blue bin"]) == [first.id]
    assert entries[1].id not in [m.faq_id for m in searcher.search(entries[1].question, 5)]
    assert searcher._live.phrasings_repeated("recycle packaging 0") == ()
    # The same words in two FAQs: both are candidates until one goes.
    twins = faq_store.add(
        [FaqDraft("shared words here", "one"), FaqDraft("Shared  words here", "two")]
    )
    searcher.catch_up()
    assert len(searcher._live.phrasings_repeated("shared words here")) == 2
    faq_store.delete_many([twins[0].id])
    searcher.catch_up()
    assert top1(searcher, ["shared words here"]) == [twins[1].id]
    assert len(searcher._live.phrasings_repeated("shared words here")) == 1


@pytest.mark.parametrize(("raw", "served"), [(1.0000001192092896, 1.0), (-1.0000001, -1.0),
                                              (0.73, 0.73)])
def test_a_match_scores_a_cosine_in_minus_one_to_one(raw: float, served: float) -> None:
    """float32 unit vectors give a phrasing asked word for word 1.0000001 (seen on /ask);
    a threshold of 1, the most the store takes, must still answer it."""
    now = datetime.now(UTC)
    entry = FaqEntry(7, "q?", "a.", (), (), now, now)
    match = _match(SimpleNamespace(entries={7: entry}), Hit(7, 0, raw))  # type: ignore[arg-type]
    assert match.score == served
