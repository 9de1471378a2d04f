"""The searcher's fused scores (model.lexical): the same numbers as the offline scoring that
tunes the threshold, and the lexical half at work on words the encoder never saw."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from model.faq_scoring import FaqScoring
from store.entries import FaqDraft, FaqPatch
from store.faq_store import FaqStore
from tests.index.conftest import drafts_from_groups, held_out_queries
from training.threshold import best_matches


@pytest.fixture
def stocked_store(faq_store: FaqStore, fixture_groups) -> FaqStore:
    faq_store.add(drafts_from_groups(fixture_groups))
    return faq_store


def test_searcher_scores_equal_the_offline_fused_scores(
    stocked_store: FaqStore, make_searcher, tiny_encoder, fixture_groups
) -> None:
    assert tiny_encoder.lexical is not None
    searcher = make_searcher(stocked_store)
    searcher.start()
    questions = [q for qs in held_out_queries(fixture_groups).values() for q in qs][:40]
    questions += ["完全无关的问题", "something nobody ever asked"]
    entries = list(stocked_store.iter_entries())
    scores, predicted = best_matches(tiny_encoder, entries, questions)
    found = [searcher.search(q, 1)[0] for q in questions]
    np.testing.assert_allclose([m.score for m in found], scores, atol=1e-5)
    assert [m.faq_id for m in found] == predicted.tolist()


def test_a_match_scores_the_weighted_cosine_and_tfidf_cosine(
    faq_store: FaqStore, make_searcher, tiny_encoder
) -> None:
    lexical = tiny_encoder.lexical
    faq_store.add([FaqDraft("where is my parcel", "Tracking page."),
                   FaqDraft("怎么重置密码", "用重置链接。")])
    searcher = make_searcher(faq_store)
    searcher.start()
    for question, stored in (("where is the parcel now", "where is my parcel"),
                             ("密码怎么重置", "怎么重置密码")):
        [match] = searcher.search(question, 1)
        cosine = float(tiny_encoder.encode_one(question) @ tiny_encoder.encode_one(stored))
        tfidf = sum(w * lexical.vector(stored).get(t, 0.0)
                    for t, w in lexical.vector(question).items())
        weight = lexical.weight(question)
        assert match.question == stored
        assert match.score == pytest.approx((1 - weight) * cosine + weight * tfidf, abs=1e-5)
        assert tfidf > 0.2  # shared words really count


def test_new_faq_words_the_encoder_never_saw_still_match(
    stocked_store: FaqStore, make_searcher
) -> None:
    """A FAQ added after training, about a product name unknown to the model: its name in a
    question finds it (the TF-IDF half gives unseen terms the highest IDF)."""
    searcher = make_searcher(stocked_store)
    searcher.start()
    [entry] = stocked_store.add([FaqDraft("does the Zorblax 3000 support qwixel sync",
                                          "Yes, since firmware 2.")])
    searcher.catch_up()
    [match] = searcher.search("zorblax qwixel", 1)
    assert match.faq_id == entry.id
    stocked_store.delete(entry.id)
    searcher.catch_up()
    assert all(m.faq_id != entry.id for m in searcher.search("zorblax qwixel", 5))


@pytest.mark.parametrize("lexical_half", [True, False])
def test_a_voting_model_scores_the_same_in_the_searcher_and_offline(
    faq_store: FaqStore, make_searcher, tiny_encoder, fixture_groups, lexical_half: bool
) -> None:
    """model.faq_scoring: FAQs of three phrasings scored by their two best, in /ask's
    searcher as in the offline scoring that tunes the threshold (5 FAQs, 15 phrasings: the
    searcher fetches 16 for a voting model, with or without a lexical half, so the two agree
    exactly)."""
    voting = copy.copy(tiny_encoder)
    voting.faq_scoring = FaqScoring(second_weight=0.4, min_phrasings=3)
    if not lexical_half:
        voting.lexical = None
    groups = dict(list(fixture_groups.items())[:5])
    faq_store.add(drafts_from_groups(groups))
    searcher = make_searcher(faq_store, encoder=voting)
    searcher.start()
    questions = [q for qs in held_out_queries(groups).values() for q in qs][:30]
    # Questions near no FAQ: their best few phrasings belong to several FAQs, so an FAQ's
    # second best is fetched only if the searcher fetches enough.
    questions += [q for qs in held_out_queries(fixture_groups).values() for q in qs][-30:]
    entries = list(faq_store.iter_entries())
    assert all(len(entry.phrasings) == 3 for entry in entries)
    scores, predicted = best_matches(voting, entries, questions)
    found = [searcher.search(q, 1)[0] for q in questions]
    np.testing.assert_allclose([m.score for m in found], scores, atol=1e-5)
    assert [m.faq_id for m in found] == predicted.tolist()
    plain_encoder = copy.copy(voting)
    plain_encoder.faq_scoring = FaqScoring()
    plain, _ = best_matches(plain_encoder, entries, questions)
    assert (scores < plain - 1e-4).all()  # three phrasings each: every best was blended down


def test_an_faq_edited_to_four_phrasings_starts_voting_in_the_running_searcher(
    faq_store: FaqStore, make_searcher, tiny_encoder, fixture_groups
) -> None:
    """The searcher keeps each FAQ's vote in step with its phrasings (model.faq_scoring:
    four or more vote by default), through edits applied by catch_up."""
    voting = copy.copy(tiny_encoder)
    voting.faq_scoring = FaqScoring(second_weight=0.4)  # FAQs of 4+ phrasings
    groups = dict(list(fixture_groups.items())[:5])
    added = faq_store.add(drafts_from_groups(groups))  # 3 phrasings each: nobody votes yet
    searcher = make_searcher(faq_store, encoder=voting)
    searcher.start()
    questions = [qs[0] for qs in held_out_queries(groups).values()]
    before = [searcher.search(q, 1)[0].score for q in questions]
    plain, _ = best_matches(tiny_encoder, list(faq_store.iter_entries()), questions)
    np.testing.assert_allclose(before, plain, atol=1e-5)  # three phrasings: the best alone

    target = added[0]
    extra = held_out_queries(groups)[next(iter(groups))][1:3]
    faq_store.update(target.id, FaqPatch(alternates=(*target.alternates, *extra)))
    searcher.catch_up()
    entries = list(faq_store.iter_entries())
    assert len(next(e for e in entries if e.id == target.id).phrasings) == 5
    scores, predicted = best_matches(voting, entries, questions)
    found = [searcher.search(q, 1)[0] for q in questions]
    np.testing.assert_allclose([m.score for m in found], scores, atol=1e-5)
    assert [m.faq_id for m in found] == predicted.tolist()
    faq_store.delete(target.id)
    searcher.catch_up()
    assert all(m.faq_id != target.id for q in questions for m in searcher.search(q, 5))
