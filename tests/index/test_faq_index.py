"""FaqIndex against an independent numpy brute force: ids, dedup, k capping, removal, IVF."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index.errors import IndexCorruptError, IndexInputError
from index.faq_index import (
    MAX_PHRASINGS,
    PHRASING_BITS,
    FaqIndex,
    IndexConfig,
    auto_ef_search,
    check_structure,
    choose_nlist,
    gpu_available,
    vector_ids,
    wanted_kind,
)


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def faq_layout(n_faqs: int, seed: int = 0) -> tuple[np.ndarray, dict[int, int]]:
    """Ids for FAQs 10, 20, ... with 1..5 phrasings each; returns ids and faq -> count."""
    rng = np.random.default_rng(seed)
    counts = {10 * (i + 1): int(rng.integers(1, 6)) for i in range(n_faqs)}
    ids = np.concatenate([vector_ids(faq, n) for faq, n in counts.items()])
    return ids, counts


def brute_force(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int):
    """Reference: best score per FAQ over all its phrasings, top k FAQs (numpy only)."""
    scores = vectors @ query
    best: dict[int, tuple[float, int]] = {}
    for score, vector_id in zip(scores.tolist(), ids.tolist(), strict=True):
        faq, phrasing = divmod(vector_id, 128)
        if faq not in best or score > best[faq][0]:
            best[faq] = (score, phrasing)
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[:k]
    return [(faq, phrasing, score) for faq, (score, phrasing) in ranked]


def test_vector_ids_pack_faq_and_phrasing() -> None:
    ids = vector_ids(7, 3)
    assert ids.dtype == np.int64
    assert ids.tolist() == [7 * 128, 7 * 128 + 1, 7 * 128 + 2]
    with pytest.raises(IndexInputError):
        vector_ids(1, MAX_PHRASINGS + 1)
    with pytest.raises(IndexInputError):
        vector_ids(-1, 1)
    with pytest.raises(IndexInputError):
        vector_ids(1, 0)


def test_flat_search_matches_brute_force_with_per_faq_dedup() -> None:
    ids, _ = faq_layout(200)
    vectors = unit_rows(len(ids), 32)
    index = FaqIndex.build(vectors, ids)
    for query in unit_rows(20, 32, seed=1):
        got = index.search(query, 10)
        expected = brute_force(vectors, ids, query, 10)
        assert [(h.faq_id, h.phrasing_no) for h in got] == [(f, p) for f, p, _ in expected]
        np.testing.assert_allclose([h.score for h in got], [s for _, _, s in expected], atol=1e-5)
        assert len({h.faq_id for h in got}) == len(got)  # each FAQ once


def test_k_is_capped_at_the_number_of_faqs_and_empty_index_returns_nothing() -> None:
    assert FaqIndex.empty(8).search(unit_rows(1, 8)[0], 5) == []
    ids, counts = faq_layout(3)
    index = FaqIndex.build(unit_rows(len(ids), 8), ids)
    hits = index.search(unit_rows(1, 8, seed=3)[0], 50)
    assert sorted(h.faq_id for h in hits) == sorted(counts)
    with pytest.raises(IndexInputError):
        index.search(unit_rows(1, 8)[0], 0)


def test_query_equal_to_a_stored_phrasing_finds_that_phrasing() -> None:
    ids, _ = faq_layout(50)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids)
    top = index.search(vectors[17], 1)[0]
    assert (top.faq_id, top.phrasing_no) == divmod(int(ids[17]), 128)
    assert top.score == pytest.approx(1.0, abs=1e-5)


def test_remove_faqs_removes_every_phrasing_and_nothing_else() -> None:
    ids, counts = faq_layout(40)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids)
    gone = [10, 50, 400]
    removed = index.remove_faqs(gone)
    assert removed == sum(counts[f] for f in gone)
    kept = ~np.isin(ids // 128, gone)
    assert sorted(index.ids().tolist()) == sorted(ids[kept].tolist())
    query = vectors[0]  # a phrasing of FAQ 10, now removed
    assert [h.faq_id for h in index.search(query, 5)] == [
        f for f, _, _ in brute_force(vectors[kept], ids[kept], query, 5)
    ]
    assert index.remove_faqs([999_999]) == 0


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_ids_stay_correct_after_removals(kind: str) -> None:
    """The bug this guards: IndexIDMap2 over IVF returns wrong ids after a removal."""
    ids, _ = faq_layout(800, seed=2)
    vectors = unit_rows(len(ids), 24, seed=2)
    # nprobe = nlist (and an HNSW candidate list as large as the index): exhaustive searches
    # must give exactly the flat answers.
    config = IndexConfig(kind=kind, nprobe=4096, min_ivf_vectors=500, hnsw_ef_search=4096)
    index = FaqIndex.build(vectors, ids, config)
    assert index.kind == kind
    rng = np.random.default_rng(5)
    removed = rng.choice(np.unique(ids // 128), size=200, replace=False)
    index.remove_faqs(removed)
    kept = ~np.isin(ids // 128, removed)
    for row in np.flatnonzero(kept)[:40]:
        top = index.search(vectors[row], 1)[0]
        assert top.faq_id * 128 + top.phrasing_no == ids[row]
        np.testing.assert_allclose(index.reconstruct(int(ids[row])), vectors[row], atol=1e-6)
    with pytest.raises(KeyError):
        index.reconstruct(int(removed[0]) * 128)


def test_ivf_recall_against_exact_is_high_and_falls_back_to_flat_when_small() -> None:
    ids = np.arange(5000, dtype=np.int64) * 128
    vectors = unit_rows(5000, 32, seed=4)
    assert FaqIndex.build(vectors[:500], ids[:500], IndexConfig(kind="ivf")).kind == "flat"
    # round(4 sqrt(5000)) = 283, capped at 5000 // 39 = 128 (k-means needs ~39 points a list)
    assert choose_nlist(5000, IndexConfig(kind="ivf")) == 128
    assert choose_nlist(10**6, IndexConfig(kind="ivf")) == 1024  # max_auto_nlist
    assert choose_nlist(5000, IndexConfig(kind="ivf", nlist=71)) == 71
    exact = FaqIndex.build(vectors, ids)
    approx = FaqIndex.build(vectors, ids, IndexConfig(kind="ivf", nprobe=64))
    assert approx.kind == "ivf" and approx.nlist == 128
    queries = unit_rows(50, 32, seed=9)
    recall = np.mean(
        [
            len({h.faq_id for h in approx.search(q, 10)} & {h.faq_id for h in exact.search(q, 10)})
            / 10
            for q in queries
        ]
    )
    assert recall > 0.6  # random (unclustered) data is IVF's worst case; 64/128 lists probed


def test_wanted_kind_follows_the_setting_and_the_size() -> None:
    auto = IndexConfig(kind="auto", min_ivf_vectors=1_000, hnsw_min_vectors=50_000)
    assert [wanted_kind(n, auto) for n in (999, 1_000, 49_999, 50_000)] == [
        "flat", "ivf", "ivf", "hnsw"
    ]
    hnsw = IndexConfig(kind="hnsw", min_ivf_vectors=1_000)
    assert [wanted_kind(n, hnsw) for n in (999, 1_000)] == ["flat", "hnsw"]
    assert wanted_kind(10**6, IndexConfig(kind="flat")) == "flat"
    # auto with the default sizes: exact below 10k phrasings, IVF to 100k, HNSW from there.
    service_sizes = IndexConfig(kind="auto", min_ivf_vectors=10_000)  # app.config defaults
    assert [wanted_kind(n, service_sizes) for n in (9_999, 10_000, 99_999, 100_000)] == [
        "flat",
        "ivf",
        "ivf",
        "hnsw",
    ]
    assert wanted_kind(10**6, IndexConfig(kind="ivf")) == "ivf"


HNSW = IndexConfig(kind="hnsw", min_ivf_vectors=100, hnsw_ef_search=2048)


def test_hnsw_search_matches_exact_search_when_its_candidate_list_covers_the_index() -> None:
    ids, _ = faq_layout(400, seed=6)
    vectors = unit_rows(len(ids), 16, seed=6)
    index = FaqIndex.build(vectors, ids, HNSW)
    assert (index.kind, index.nlist, index.dead_fraction) == ("hnsw", 0, 0.0)
    for query in unit_rows(20, 16, seed=7):
        got = index.search(query, 10)
        assert [(h.faq_id, h.phrasing_no) for h in got] == [
            (f, p) for f, p, _ in brute_force(vectors, ids, query, 10)
        ]


def test_hnsw_tombstones_hide_removed_vectors_and_an_edit_finds_the_new_ones() -> None:
    ids, counts = faq_layout(300, seed=8)
    vectors = unit_rows(len(ids), 16, seed=8)
    index = FaqIndex.build(vectors, ids, HNSW)
    edited = 10  # the first FAQ: its rows come first
    rows = np.flatnonzero(ids // 128 == edited)
    assert index.remove_faqs([edited, 20]) == counts[10] + counts[20]
    assert index.remove_faqs([edited]) == 0  # already gone: nothing buried twice
    assert index.ntotal == len(ids) - counts[10] - counts[20]
    assert index.dead_fraction == pytest.approx((counts[10] + counts[20]) / len(ids))
    with pytest.raises(KeyError):
        index.reconstruct(int(ids[rows[0]]))
    # A stored vector of a removed FAQ no longer comes back, not even as a padding id.
    hits = index.search(vectors[rows[0]], 300)
    assert {h.faq_id for h in hits} == set(counts) - {10, 20}
    assert all(h.phrasing_no < 101 for h in hits)
    # The edit: the same ids again with new vectors.
    new = unit_rows(len(rows), 16, seed=9)
    index.add(new, ids[rows])
    top = index.search(new[0], 1)[0]
    assert (top.faq_id, top.phrasing_no, round(top.score, 4)) == (edited, 0, 1.0)
    np.testing.assert_allclose(index.reconstruct(int(ids[rows[0]])), new[0], atol=1e-6)
    assert sorted(index.ids().tolist()) == sorted(ids[ids // 128 != 20].tolist())
    # Tombstones are part of the serialised index.
    copy = FaqIndex.from_bytes(index.to_bytes(), HNSW)
    assert (copy.kind, copy.ntotal, copy.dead_fraction) == (
        "hnsw", index.ntotal, index.dead_fraction
    )
    assert copy.search(vectors[rows[0]], 5) == index.search(vectors[rows[0]], 5)


def test_accept_filter_widens_the_fetch_until_k_accepted() -> None:
    ids, counts = faq_layout(300)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids)
    rare = set(list(counts)[::50])  # 6 FAQs; far fewer than the first fetch would hold
    hits = index.search(vectors[3], 10, accept=lambda faq: faq in rare)
    assert {h.faq_id for h in hits} == rare
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_many_gives_each_query_the_hits_search_gives(kind: str) -> None:
    ids, counts = faq_layout(300)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids, HNSW if kind == "hnsw" else None)
    assert index.kind == kind
    queries = unit_rows(6, 16, seed=3)
    ks = [5, 5, 1, 3, 5, 2]  # different k: different fetch sizes, searched in groups
    rare = set(list(counts)[::50])  # 6 FAQs: the first fetch holds fewer, so it widens
    accepts = [None, rare.__contains__, None, None, rare.__contains__, None]  # widening

    def rescore_many(numbers, cosines, found_ids):
        calls.append(list(numbers))
        return [row - 0.001 * (number + 1) * (ids_ & 7) for number, row, ids_ in
                zip(numbers, cosines, found_ids, strict=True)]

    calls: list[list[int]] = []
    batched = index.search_many(queries, ks, accepts, rescore_many, min_fetch=16)
    for number, (query, k, accept) in enumerate(zip(queries, ks, accepts, strict=True)):

        def alone(cosines, found_ids, number=number):
            return rescore_many([number], [cosines], [found_ids])[0]

        assert batched[number] == index.search(query, k, accept, alone, min_fetch=16)
    assert len(batched[1]) == 5 and {hit.faq_id for hit in batched[1]} <= rare
    # One rescoring per fetch size (k 5: 20 phrasings; k 1-3: min_fetch 16); the
    # tag-filtered ones widen alone.
    batch_calls = [numbers for numbers in calls if len(numbers) > 1]
    assert batch_calls[:2] == [[0, 1, 4], [2, 3, 5]] and [1] in calls and [4] in calls
    assert index.search_many(queries, ks, accepts) == [
        index.search(q, k, a) for q, k, a in zip(queries, ks, accepts, strict=True)
    ]


def test_bad_inputs_raise_typed_errors() -> None:
    index = FaqIndex.empty(8)
    with pytest.raises(IndexInputError):
        index.add(unit_rows(2, 4), vector_ids(1, 2))  # wrong dimension
    with pytest.raises(IndexInputError):
        index.add(unit_rows(2, 8) * 3, vector_ids(1, 2))  # not unit-norm
    nan = unit_rows(2, 8)
    nan[0, 0] = np.nan
    with pytest.raises(IndexInputError):
        index.add(nan, vector_ids(1, 2))
    with pytest.raises(IndexInputError):
        index.add(unit_rows(2, 8), vector_ids(1, 3))  # ids do not match rows
    with pytest.raises(IndexInputError):
        index.search(np.ones(5, np.float32), 1)
    assert index.ntotal == 0


def test_only_inner_product_structures_are_accepted() -> None:
    check_structure(faiss.IndexIDMap2(faiss.IndexFlatIP(4)), "x")
    check_structure(faiss.IndexIDMap2(faiss.IndexHNSWFlat(4, 8, faiss.METRIC_INNER_PRODUCT)), "x")
    with pytest.raises(IndexCorruptError, match="inner product"):
        check_structure(faiss.IndexIDMap2(faiss.IndexHNSWFlat(4, 8)), "x")  # L2 by default
    with pytest.raises(IndexCorruptError, match="inner product"):
        check_structure(faiss.IndexIDMap2(faiss.IndexFlatL2(4)), "x")
    with pytest.raises(IndexCorruptError, match="unexpected"):
        check_structure(faiss.IndexFlatIP(4), "x")


def test_serialised_index_round_trips() -> None:
    ids, _ = faq_layout(100)
    vectors = unit_rows(len(ids), 16)
    ivf = IndexConfig(kind="ivf", min_ivf_vectors=100, nprobe=4096)
    for config in (IndexConfig(), ivf, HNSW):
        index = FaqIndex.build(vectors, ids, config)
        copy = FaqIndex.from_bytes(index.to_bytes(), config)
        assert (copy.kind, copy.ntotal, copy.dim) == (index.kind, index.ntotal, index.dim)
        assert copy.search(vectors[5], 3) == index.search(vectors[5], 3)


def test_gpu_setting_falls_back_to_the_cpu_without_a_gpu() -> None:
    for device in ("auto", "gpu"):
        index = FaqIndex.empty(8, IndexConfig(device=device))
        assert index.on_gpu == gpu_available()


def test_auto_ef_search_grows_with_the_index() -> None:
    sizes = (0, 99_999, 100_000, 499_999, 500_000, 10**7)
    assert [auto_ef_search(n) for n in sizes] == [64, 64, 128, 128, 256, 256]


def test_hnsw_candidate_list_is_by_size_unless_set() -> None:
    ids, _ = faq_layout(300, seed=11)
    vectors = unit_rows(len(ids), 16, seed=11)
    by_size = FaqIndex.build(vectors, ids, IndexConfig(kind="hnsw", min_ivf_vectors=100))
    assert by_size.ef_search == auto_ef_search(len(ids)) == 64
    fixed = FaqIndex.build(
        vectors, ids, IndexConfig(kind="hnsw", min_ivf_vectors=100, hnsw_ef_search=300)
    )
    assert fixed.ef_search == 300
    fixed.set_ef_search(None)
    assert fixed.ef_search == 64
    assert FaqIndex.build(vectors, ids, IndexConfig(kind="flat")).ef_search is None


def voted_brute_force(
    vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int, weight_of
) -> list[tuple[int, int, float]]:
    """Reference for the vote (model.faq_scoring): every phrasing seen, numpy only."""
    scores = vectors @ query
    by_faq: dict[int, list[tuple[float, int]]] = {}
    for score, vector_id in zip(scores.tolist(), ids.tolist(), strict=True):
        faq, phrasing = divmod(vector_id, 128)
        by_faq.setdefault(faq, []).append((score, phrasing))
    ranked = []
    for faq, found in by_faq.items():
        found.sort(reverse=True)
        (best, phrasing), w = found[0], weight_of(faq)
        score = (1 - w) * best + w * found[1][0] if w > 0 else best
        ranked.append((faq, phrasing, score))
    ranked.sort(key=lambda item: -item[2])
    return ranked[:k]


def test_a_vote_ranks_faqs_by_their_two_best_phrasings_when_all_are_fetched() -> None:
    ids, counts = faq_layout(40)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids)

    weights = {faq: 0.4 for faq, n in counts.items() if n >= 3}  # as the searcher keeps them

    reordered = 0
    for query in unit_rows(20, 16, seed=2):
        got = index.search(query, 5, min_fetch=len(ids), second_weights=weights)
        expected = voted_brute_force(vectors, ids, query, 5, lambda faq: weights.get(faq, 0.0))
        assert [(h.faq_id, h.phrasing_no) for h in got] == [(f, p) for f, p, _ in expected]
        np.testing.assert_allclose([h.score for h in got], [s for _, _, s in expected], atol=1e-5)
        plain = index.search(query, 5, min_fetch=len(ids))
        reordered += [h.faq_id for h in got] != [h.faq_id for h in plain]
    assert reordered > 0  # the vote changed some rankings: the test can tell them apart


def test_a_second_phrasing_not_fetched_stands_in_at_the_lowest_fetched_score() -> None:
    # FAQ 1: one phrasing right on the query, its other two far away; FAQ 2: two phrasings
    # near it. Fetching 3 vectors sees FAQ 1's best and FAQ 2's two.
    query = np.array([1.0, 0.05, 0.0], dtype=np.float32)  # near FAQ 1's best, not on it
    query /= np.linalg.norm(query)
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0],  # FAQ 1
            [0.9, 0.43589, 0.0], [0.88, 0.0, 0.47497]]  # FAQ 2
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.concatenate([vector_ids(1, 3), vector_ids(2, 2)])
    index = FaqIndex.build(vectors, ids, IndexConfig(overfetch=1))  # fetch = min_fetch
    cos = vectors @ query
    hits = index.search(query, 2, min_fetch=3, second_weights={1: 0.4, 2: 0.4})
    # FAQ 1's second phrasing was not fetched: it counts at the lowest fetched score (FAQ 2's
    # second), not at its true 0.
    assert [h.faq_id for h in hits] == [1, 2]
    assert hits[0].score == pytest.approx(0.6 * cos[0] + 0.4 * cos[4], abs=1e-5)
    assert hits[1].score == pytest.approx(0.6 * cos[3] + 0.4 * cos[4], abs=1e-5)
    # Fetching everything, FAQ 1's true second (0.05) puts FAQ 2 first.
    every = index.search(query, 2, min_fetch=5, second_weights={1: 0.4, 2: 0.4})
    assert [h.faq_id for h in every] == [2, 1]
    assert every[1].score == pytest.approx(0.6 * cos[0] + 0.4 * cos[1], abs=1e-5)


def test_an_faq_asked_word_for_word_wins_over_one_that_only_resembles_the_question() -> None:
    # FAQ 1: the question itself and four phrasings far from it; FAQ 2: one phrasing, close.
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    rows = [[1.0, 0.0, 0.0], *[[0.3, 1.0, 0.0]] * 4, [0.87, 0.49, 0.0]]
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = FaqIndex.build(vectors, np.concatenate([vector_ids(1, 5), vector_ids(2, 1)]))
    hits = index.search(query, 2, min_fetch=6, second_weights={1: 0.4})
    assert [h.faq_id for h in hits] == [1, 2]  # blended, FAQ 1 would score 0.72 against 0.87
    assert hits[0].score == pytest.approx(1.0, abs=1e-6)


def templated_catalogue(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """300 FAQs of four near-identical phrasings (one template, a number apart) and 30 others:
    the shape on which an HNSW graph searched with a short candidate list misses vectors."""
    rng = np.random.default_rng(seed)
    centre = rng.standard_normal(32)
    rows = [centre + 0.05 * rng.standard_normal(32) for _ in range(300 * 4)]
    rows += [rng.standard_normal(32) for _ in range(30 * 2)]
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [vector_ids(faq, 4) for faq in range(300)]
    ids += [vector_ids(faq, 2) for faq in range(300, 330)]
    return vectors, np.concatenate(ids)


def test_included_phrasings_are_scored_where_the_graph_does_not_reach_them() -> None:
    vectors, ids = templated_catalogue()
    config = IndexConfig(kind="hnsw", min_ivf_vectors=100, hnsw_ef_search=1)
    index = FaqIndex.build(vectors, ids, config)
    assert index.kind == "hnsw"

    def own_faq_first(include: bool) -> int:
        found = 0
        for vector, vector_id in zip(vectors, ids.tolist(), strict=True):
            hits = index.search(vector, 1, include=[vector_id] if include else ())
            found += bool(hits) and hits[0].faq_id == vector_id >> PHRASING_BITS
        return found

    assert own_faq_first(include=False) < len(ids)  # the graph alone misses some
    assert own_faq_first(include=True) == len(ids)
    # An included id that is no longer indexed (its FAQ removed) is left out.
    index.remove_faqs([7])
    hits = index.search(vectors[7 * 4], 5, include=[int(ids[7 * 4])])
    assert 7 not in [h.faq_id for h in hits]


def test_a_vote_keeps_the_tag_filter_and_k() -> None:
    ids, counts = faq_layout(300)
    vectors = unit_rows(len(ids), 16)
    index = FaqIndex.build(vectors, ids)
    rare = set(list(counts)[::50])
    hits = index.search(vectors[3], 4, accept=lambda faq: faq in rare,
                        second_weights=dict.fromkeys(counts, 0.4))
    assert len(hits) == 4 and {h.faq_id for h in hits} <= rare
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
