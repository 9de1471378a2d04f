"""The endpoints behind the console: the review queue (how its page is shared between the
kinds, which feedback counts, what a wrong-answer item suggests), the last tuning's curve,
tuning from feedback and the feedback score (on both backends, the tiny model and ten FAQ
groups)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.feedback_examples import expected_faq
from app.last_tuning import DEMO_SOURCE
from store.records import Feedback
from tests.app.conftest import AUTH, THRESHOLD


def _ask(client, question: str) -> dict:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def _feedback(client, ask_id: str, correct: bool, faq_id: int | None = None) -> None:
    body = {"ask_id": ask_id, "correct": correct, **({"faq_id": faq_id} if faq_id else {})}
    response = client.post("/feedback", json=body, headers=AUTH)
    assert response.status_code == 201, response.text


def _mark_should_get(client, asked: dict, faq_id: int) -> None:
    """Feedback that `asked` should have got `faq_id`: right if it did, else wrong naming it."""
    right = asked["faq_id"] == faq_id
    _feedback(client, asked["ask_id"], correct=right, faq_id=None if right else faq_id)


def _review(client, **params) -> list[dict]:
    response = client.get("/admin/review", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _answered(client, question: str) -> dict:
    asked = _ask(client, question)
    assert asked["answered"], question
    return asked


def _other_than(loaded: dict[str, int], *faq_ids: int | None) -> int:
    return next(i for i in loaded.values() if i not in faq_ids)


def _add_alternate(client, faq_id: int, text: str) -> None:
    entry = client.get(f"/faq/{faq_id}").json()
    patched = client.patch(f"/faq/{faq_id}", json={"alternates": [*entry["alternates"], text]},
                           headers=AUTH)
    assert patched.status_code == 200, patched.text


@pytest.mark.parametrize(
    ("correct", "named", "answered", "expected"),
    [
        (True, None, 7, (True, 7)),  # right answer: its FAQ
        (True, None, None, (True, None)),  # rightly declined: no answer
        (False, 3, 7, (True, 3)),  # wrong, FAQ 3 named
        (False, None, 7, (True, None)),  # wrong and none named: should have declined
        (False, None, None, (False, None)),  # wrongly declined, no FAQ named: unusable
    ],
)
def test_feedback_becomes_a_labelled_question(correct, named, answered, expected) -> None:
    row = Feedback(1, "a", "q", correct, named, answered, datetime.now(UTC))
    assert expected_faq(row) == expected


def test_review_lists_declined_questions_until_one_is_a_stored_phrasing(
    client, loaded, unrelated_questions
) -> None:
    often, once = unrelated_questions[:2]
    for question in (often, often.upper(), once):  # the log groups them case-folded
        assert not _ask(client, question)["answered"]

    items = _review(client)
    assert [(i["question"].casefold(), i["count"], i["kind"]) for i in items] == [
        (often.casefold(), 2, "unanswered"), (once.casefold(), 1, "unanswered")]
    suggestions = items[0]["suggestions"]
    assert len(suggestions) == 3
    assert {s["faq_id"] for s in suggestions} <= set(loaded.values())
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    # The same nearest FAQs /ask lists for it.
    matches = _ask(client, often)["matches"][:3]
    assert [s["faq_id"] for s in suggestions] == [m["faq_id"] for m in matches]

    _add_alternate(client, suggestions[0]["faq_id"], often)
    assert [i["question"] for i in _review(client)] == [once]
    assert _ask(client, often)["faq_id"] == suggestions[0]["faq_id"]
    none = client.get("/admin/review", params={"suggestions": 0}, headers=AUTH).json()["items"]
    assert none[0]["suggestions"] == []


def test_feedback_that_declining_was_right_clears_a_question(
    client, loaded, unrelated_questions
) -> None:
    question = unrelated_questions[0]
    first, latest = (_ask(client, question) for _ in range(2))
    listed = client.get("/admin/unanswered", headers=AUTH).json()["items"]
    assert [(i["question"], i["ask_id"]) for i in listed] == [(question, latest["ask_id"])]
    [item] = _review(client)
    assert item["ask_id"] == latest["ask_id"] and first["ask_id"] != latest["ask_id"]

    _feedback(client, item["ask_id"], correct=True)
    assert _review(client) == []
    # ... and it is a "should not answer" example for tuning from feedback.
    tuned = client.post("/admin/threshold/tune/feedback", json={}, headers=AUTH).json()
    assert (tuned["n_examples"], tuned["n_out_of_scope"]) == (1, 1)
    # One question is noise (QA: 3 recommended 0.869, declining everything): said, and
    # not applied when asked to.
    assert tuned["warning"].startswith("only 1 questions with feedback (0 to answer, 1 not")
    before = client.get("/admin/threshold", headers=AUTH).json()["threshold"]
    refused = client.post("/admin/threshold/tune/feedback", json={"apply": True}, headers=AUTH)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == f"not applied: {tuned['warning']}"
    assert client.get("/admin/threshold", headers=AUTH).json()["threshold"] == before
    # Feedback that declining was wrong (no FAQ named) keeps it queued.
    other = unrelated_questions[1]
    _feedback(client, _ask(client, other)["ask_id"], correct=False)
    assert [i["question"] for i in _review(client)] == [other]


def test_review_lists_wrong_answers_naming_a_better_faq(client, loaded, faq_groups) -> None:
    names = list(faq_groups)
    question = faq_groups[names[0]][3]  # a held-back paraphrase of the first FAQ
    wanted = loaded[names[1]]
    asked = _ask(client, question)
    _feedback(client, asked["ask_id"], correct=False, faq_id=wanted)

    [item] = [i for i in _review(client) if i["kind"] == "wrong_answer"]
    assert item["question"] == question and item["named_faq_id"] == wanted
    assert item["answered_faq_id"] == asked["faq_id"]
    assert wanted in [s["faq_id"] for s in item["suggestions"]]
    _add_alternate(client, wanted, question)
    assert [i for i in _review(client) if i["kind"] == "wrong_answer"] == []


def test_tuning_from_feedback_is_kept_as_the_curve_and_scored(
    client, loaded, faq_groups, unrelated_questions
) -> None:
    assert client.get("/admin/threshold/curve", headers=AUTH).status_code == 404
    refused = client.post("/admin/threshold/tune/feedback", json={}, headers=AUTH)
    assert refused.status_code == 409
    assert "no stored feedback" in refused.json()["error"]["message"]

    expected: list[tuple[str, int | None]] = []
    for name, sentences in faq_groups.items():
        asked = _ask(client, sentences[4])  # held back: never stored or trained as this FAQ
        _mark_should_get(client, asked, loaded[name])
        expected.append((sentences[4], loaded[name]))
    for question in unrelated_questions[:4]:
        asked = _ask(client, question)
        # Marked right when it was declined; marked wrong (should decline) when answered.
        _feedback(client, asked["ask_id"], correct=not asked["answered"])
        expected.append((question, None))

    # Scored independently: each example through /ask at the serving threshold.
    right = 0
    for question, faq_id in expected:
        got = _ask(client, question)
        right += got["faq_id"] == faq_id if got["answered"] else faq_id is None
    score = client.get("/admin/feedback/score", headers=AUTH).json()
    assert score["n_examples"] == len(expected) and score["threshold"] == THRESHOLD
    assert score["metrics"]["accuracy"] == pytest.approx(right / len(expected))

    tuned = client.post("/admin/threshold/tune/feedback", json={"objective": "f1"}, headers=AUTH)
    assert tuned.status_code == 200, tuned.text
    tuned = tuned.json()
    assert (tuned["n_examples"], tuned["n_out_of_scope"]) == (len(expected), 4)
    assert not tuned["applied"] and tuned["warning"] is None  # 10 to answer, 4 not to
    curve = client.get("/admin/threshold/curve", headers=AUTH).json()
    assert curve["source"] == "questions with feedback" and curve["objective"] == "f1"
    assert curve["curve"] == tuned["curve"] and curve["threshold"] == tuned["threshold"]
    assert curve["current_threshold"] == THRESHOLD  # recommended, not applied

    applied = client.post("/admin/threshold/tune/feedback", json={"apply": True}, headers=AUTH)
    assert client.get("/admin/threshold", headers=AUTH).json()["threshold"] == pytest.approx(
        applied.json()["threshold"])


def test_curve_falls_back_to_the_first_start_tuning(client, settings) -> None:
    rows = [{"threshold": t, "answered_correctly_rate": 0.5, "wrong_answer_rate": 0.1,
             "abstain_rate_out_of_scope": 0.5, "coverage": 0.6, "accuracy": 0.6,
             "precision": 0.8, "recall": 0.5, "f1": 0.6} for t in (0.2, 0.4, 0.6)]
    (settings.data_dir / "threshold_tuning.json").write_text(json.dumps({
        "objective": "accuracy", "target": None, "threshold": 0.4, "examples": 12,
        "metrics": {"all": rows[1], "en": rows[1]}, "curve": rows}), encoding="utf-8")
    curve = client.get("/admin/threshold/curve", headers=AUTH).json()
    assert curve["source"] == DEMO_SOURCE  # files from before the rehearsal: the demo's
    assert [p["threshold"] for p in curve["curve"]] == [0.2, 0.4, 0.6]
    assert curve["n_examples"] == 12 and curve["metrics"] == rows[1]


@pytest.mark.parametrize("path", ["/admin/review", "/admin/threshold/curve",
                                  "/admin/feedback/score"])
def test_console_endpoints_need_the_key(client, path) -> None:
    assert client.get(path).status_code == 401


def test_feedback_questions_added_as_alternates_are_left_out_of_tuning_and_score(
    client, loaded, faq_groups
) -> None:
    """The review loop adds a reviewed question as an alternate; it then scores 1 whatever
    the model, and tuned on it the threshold climbed while the score read 1.0 (QA)."""
    names = list(faq_groups)
    for name in names[:3]:
        asked = _ask(client, faq_groups[name][4])  # held back: not a stored phrasing
        _mark_should_get(client, asked, loaded[name])
    before = client.get("/admin/feedback/score", headers=AUTH).json()
    assert (before["n_examples"], before["n_left_out"]) == (3, 0)
    _add_alternate(client, loaded[names[0]], faq_groups[names[0]][4])

    after = client.get("/admin/feedback/score", headers=AUTH).json()
    assert (after["n_examples"], after["n_left_out"]) == (2, 1)
    tuned = client.post("/admin/threshold/tune/feedback", json={}, headers=AUTH).json()
    assert tuned["n_examples"] == 2
    last = client.get("/admin/threshold/curve", headers=AUTH).json()
    assert last["source"] == "questions with feedback (1 left out: now stored phrasings)"


def test_each_kind_keeps_its_share_of_the_page(
    client, loaded, faq_groups, unrelated_questions
) -> None:
    declined = unrelated_questions[:4]
    for question in declined:
        assert not _ask(client, question)["answered"]
    paraphrases = [sentences[3] for sentences in list(faq_groups.values())[:2]]
    for question in paraphrases:
        asked = _answered(client, question)
        _feedback(client, asked["ask_id"], False, _other_than(loaded, asked["faq_id"]))

    everything = _review(client, limit=50, suggestions=0)
    assert [i["kind"] for i in everything] == ["unanswered"] * 4 + ["wrong_answer"] * 2
    assert everything[4]["question"] == paraphrases[1]  # the newest report first
    # More than fit: half each, the odd one to the unanswered; each kind in its own order.
    assert _review(client, limit=4, suggestions=0) == everything[:2] + everything[4:]
    assert _review(client, limit=3, suggestions=0) == everything[:2] + everything[4:5]
    assert _review(client, limit=2, suggestions=0) == everything[:1] + everything[4:5]
    # A share one kind cannot fill goes to the other.
    assert _review(client, limit=5, suggestions=0) == everything[:3] + everything[4:]


def test_later_correct_feedback_on_the_ask_clears_its_wrong_answer_item(
    client, loaded, faq_groups
) -> None:
    question = next(iter(faq_groups.values()))[3]
    asked = _answered(client, question)
    _feedback(client, asked["ask_id"], False, _other_than(loaded, asked["faq_id"]))
    assert [i["ask_id"] for i in _review(client)] == [asked["ask_id"]]

    _feedback(client, asked["ask_id"], correct=True)  # the latest feedback on an ask wins
    assert _review(client) == []


def test_a_deleted_named_faq_comes_back_as_none(client, loaded, faq_groups) -> None:
    question = next(iter(faq_groups.values()))[3]
    asked = _answered(client, question)
    named = _other_than(loaded, asked["faq_id"])
    _feedback(client, asked["ask_id"], False, named)
    assert client.delete(f"/faq/{named}", headers=AUTH).status_code == 200

    [item] = _review(client, suggestions=10)
    assert item["kind"] == "wrong_answer" and item["named_faq_id"] is None
    assert named not in [s["faq_id"] for s in item["suggestions"]]
    assert all(s["score"] is not None for s in item["suggestions"])


def test_suggestions_are_at_most_n_with_the_named_faq_first(
    client, loaded, faq_groups
) -> None:
    question = next(iter(faq_groups.values()))[3]
    asked = _answered(client, question)
    top = [m["faq_id"] for m in asked["matches"][:3]]
    assert len(top) == 3 and asked["faq_id"] == top[0]
    far = _other_than(loaded, *top)  # a FAQ the model does not rank among the top 3
    _feedback(client, asked["ask_id"], False, far)

    def suggested(n: int) -> list[tuple[int, bool]]:
        [item] = _review(client, suggestions=n)
        return [(s["faq_id"], s["score"] is None) for s in item["suggestions"]]

    assert suggested(3) == [(far, True), (top[0], False), (top[1], False)]
    assert suggested(1) == [(far, True)]
    assert suggested(0) == []

    # Named among the top 3: first, with its score, then the best others (unscored where
    # fewer are asked for than its rank).
    _feedback(client, asked["ask_id"], correct=False, faq_id=top[2])
    assert suggested(3) == [(top[2], False), (top[0], False), (top[1], False)]
    assert suggested(2) == [(top[2], True), (top[0], False)]
