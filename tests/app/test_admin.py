"""Threshold tuning, feedback and the unanswered log, and retraining, through the HTTP API."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bootstrap import demo_drafts
from app.config import Settings
from app.demo import LANGUAGES, load_faqs, load_unanswerable
from app.last_tuning import DEMO_SOURCE, REHEARSAL_SOURCE, mark_learned
from app.model_files import models_dir
from app.schemas import TARGET_NEEDS_PRECISION
from model.checkpoint import load_encoder
from store.faq_store import FaqStore
from store.records import AskRecord
from tests.app.conftest import AUTH, THRESHOLD, faq_body, make_settings
from tests.fixtures.model_fixtures import tiny_train_config


def _best(client, question: str) -> tuple[float, int]:
    body = client.post("/ask", json={"question": question}).json()
    return body["score"], body["matches"][0]["faq_id"]


def test_tune_matches_a_hand_computed_threshold(
    client, loaded, faq_groups, unrelated_questions
) -> None:
    names = list(faq_groups)[:5]
    inside = [(faq_groups[n][3], loaded[n]) for n in names]
    scored_in = sorted(((*_best(client, q), q, gold) for q, gold in inside), reverse=True)
    assert all(predicted == gold for _, predicted, _, gold in scored_in)
    outside = [_best(client, q)[0] for q in unrelated_questions[:5]]
    top_score, _, top_question, _ = scored_in[0]
    # The operator says the best-scoring question should NOT be answered: 4 in scope, 6 out.
    examples = [{"question": top_question, "faq_id": None}]
    examples += [{"question": q, "faq_id": gold} for _, _, q, gold in scored_in[1:]]
    examples += [{"question": q, "faq_id": None} for q in unrelated_questions[:5]]
    min_in = min(score for score, *_ in scored_in[1:])
    max_out = max(outside)
    assert max_out < min_in < top_score  # the tiny model separates them (see conftest)

    # By hand: at (min_in + max_out) / 2 the 4 in-scope are answered right, the 5 unrelated
    # abstain, the relabelled one is answered wrongly: accuracy 9/10, precision 4/5.
    # Any higher threshold loses in-scope answers; any lower answers unrelated ones.
    response = client.post(
        "/admin/threshold/tune", json={"examples": examples, "objective": "accuracy"},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["threshold"] == pytest.approx((min_in + max_out) / 2, abs=1e-6)
    assert body["metrics"]["accuracy"] == pytest.approx(0.9)
    assert body["metrics"]["precision"] == pytest.approx(0.8)
    assert body["metrics"]["abstain_rate_out_of_scope"] == pytest.approx(5 / 6)
    assert body["metrics"]["coverage"] == pytest.approx(0.5)
    assert (body["n_examples"], body["n_in_scope"], body["n_out_of_scope"]) == (10, 4, 6)
    assert not body["applied"]
    assert len(body["curve"]) >= 3
    assert Path(body["plot_path"]).read_bytes()[:4] == b"\x89PNG"

    # Precision 0.95 is out of reach (the top score is a wrong answer): answer nothing.
    precise = client.post(
        "/admin/threshold/tune",
        json={"examples": examples, "objective": "precision", "target": 0.95, "apply": True},
        headers=AUTH,
    ).json()
    assert not precise["target_met"]
    assert precise["threshold"] == pytest.approx(min(top_score + 1e-3, 1.0), abs=1e-6)
    assert precise["applied"]
    stored = client.get("/admin/threshold", headers=AUTH).json()
    assert stored == {"threshold": precise["threshold"], "source": "store"}
    assert client.post("/ask", json={"question": top_question}).json()["threshold"] == (
        precise["threshold"]
    )


def test_tuning_keeps_only_the_latest_plots(client, loaded, monkeypatch) -> None:
    import app.tuning

    monkeypatch.setattr(app.tuning, "KEPT_PLOTS", 2)
    examples = [{"question": "where is my order", "faq_id": next(iter(loaded.values()))},
                {"question": "hello", "faq_id": None}]
    paths = [
        Path(client.post("/admin/threshold/tune", json={"examples": examples},
                         headers=AUTH).json()["plot_path"])
        for _ in range(3)
    ]
    assert [p.exists() for p in paths] == [False, True, True]
    assert sorted(paths[0].parent.glob("threshold-*.png")) == paths[1:]


def test_tune_rejects_unknown_faq_ids(client, loaded) -> None:
    examples = [{"question": "where is my order", "faq_id": max(loaded.values()) + 1000},
                {"question": "hello", "faq_id": None}]
    response = client.post("/admin/threshold/tune", json={"examples": examples}, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_faq_ids"
    assert error["details"][0]["field"] == "examples[0].faq_id"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/admin/threshold/tune", {"objective": "accuracy", "target": 0.9}),
        ("/admin/threshold/tune", {"objective": "f1", "target": 0.5}),
        ("/admin/threshold/tune", {"target": 0.9}),  # the default objective is accuracy
        ("/admin/threshold/tune/feedback", {"objective": "accuracy", "target": 0.9}),
        ("/admin/threshold/tune/feedback", {"target": 0.9}),
    ],
)
def test_target_is_refused_unless_tuning_for_precision(client, path, body) -> None:
    # It would be ignored: the caller asked for a precision and got an accuracy tuning.
    if path == "/admin/threshold/tune":
        body = {"examples": [{"question": "hello", "faq_id": None}], **body}
    response = client.post(path, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {"field": "target", "message": f"Value error, {TARGET_NEEDS_PRECISION}",
         "type": "value_error"}
    ]
    # A null target is no target; with precision, a target passes validation (409 here: the
    # store is empty, there is no feedback).
    for allowed in ({**body, "target": None}, {**body, "objective": "precision"}):
        assert client.post(path, json=allowed, headers=AUTH).status_code == 409, allowed


def test_threshold_get_put(client) -> None:
    assert client.get("/admin/threshold", headers=AUTH).json() == {
        "threshold": THRESHOLD, "source": "default"
    }
    assert client.put("/admin/threshold", json={"threshold": 0.5}, headers=AUTH).json() == {
        "threshold": 0.5, "source": "store"
    }
    assert client.put("/admin/threshold", json={"threshold": 1.5}, headers=AUTH).status_code == 422


def test_feedback_round_trip(client, loaded, faq_groups) -> None:
    names = list(faq_groups)
    asked = client.post("/ask", json={"question": faq_groups[names[0]][3]}).json()
    response = client.post(
        "/feedback",
        json={"ask_id": asked["ask_id"], "correct": False, "faq_id": loaded[names[1]]},
        headers=AUTH,
    )
    assert response.status_code == 201, response.text
    feedback = response.json()
    assert feedback["question"] == faq_groups[names[0]][3]
    assert feedback["answered_faq_id"] == asked["faq_id"]
    assert (feedback["correct"], feedback["faq_id"]) == (False, loaded[names[1]])
    listed = client.get("/admin/feedback", headers=AUTH).json()
    assert [item["id"] for item in listed] == [feedback["id"]]

    unknown = client.post("/feedback", json={"ask_id": "0" * 32, "correct": True}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ask_not_found"
    bad_faq = client.post(
        "/feedback", json={"ask_id": asked["ask_id"], "correct": False, "faq_id": 10**9},
        headers=AUTH,
    )
    assert bad_faq.status_code == 404 and bad_faq.json()["error"]["code"] == "faq_not_found"
    contradiction = client.post(
        "/feedback",
        json={"ask_id": asked["ask_id"], "correct": True, "faq_id": loaded[names[1]]},
        headers=AUTH,
    )
    assert contradiction.status_code == 422
    assert contradiction.json()["error"]["details"][0]["field"] == "faq_id"


def test_unanswered_most_frequent_first(client, loaded, unrelated_questions) -> None:
    often, once = unrelated_questions[0], unrelated_questions[1]
    for variant in (often, often.upper(), f"  {often}  "):
        assert not client.post("/ask", json={"question": variant}).json()["answered"]
    client.post("/ask", json={"question": once})
    items = client.get("/admin/unanswered", headers=AUTH).json()["items"]
    assert items[0]["count"] == 3
    assert items[0]["question"].casefold() == often.casefold()
    assert items[1] == {**items[1], "question": once, "count": 1}


def test_unanswered_leaves_out_asks_only_the_callers_stricter_threshold_declined(
    client, loaded, faq_groups, unrelated_questions
) -> None:
    covered = faq_groups[next(iter(faq_groups))][3]  # a held-back paraphrase of a stored FAQ
    strict = client.post("/ask", json={"question": covered, "threshold": 0.99}).json()
    assert not strict["answered"] and THRESHOLD <= strict["score"] < 0.99
    gap = unrelated_questions[0]
    assert not client.post("/ask", json={"question": gap}).json()["answered"]
    service = client.app.state.service
    # As the log held asks before it kept the service's threshold: no way to tell, so counted.
    service.store.record_asks([
        AskRecord("0" * 32, "Logged before?", False, None, 0.9, 0.95, datetime.now(UTC))
    ])

    for path in ("/admin/unanswered", "/admin/review"):
        items = client.get(path, headers=AUTH).json()["items"]
        assert sorted(item["question"] for item in items) == ["Logged before?", gap], path
    logged = service.store.get_ask(strict["ask_id"])
    assert (logged.threshold, logged.service_threshold) == (0.99, THRESHOLD)


def test_retrain_swaps_the_model_without_a_failed_request(
    client, loaded, faq_groups, tmp_path, database_url, tiny_encoder_path, settings, make_client
) -> None:
    before = client.get("/admin/retrain", headers=AUTH).json()
    assert before["state"] == "idle"
    old_version = before["model_version"]
    questions = [sentences[3] for sentences in faq_groups.values()]
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def keep_asking() -> None:
        i = 0
        while not stop.is_set():
            response = client.post("/ask", json={"question": questions[i % len(questions)]})
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert response.json()["matches"]
                versions.add(response.json()["model_version"])
            i += 1

    # A second worker on the same database and data directory, running during the retrain.
    other = make_client(make_settings(settings.data_dir, database_url, tiny_encoder_path))
    askers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for thread in askers:
        thread.start()
    try:
        started = client.post("/admin/retrain", headers=AUTH)
        assert started.status_code == 202, started.text
        again = client.post("/admin/retrain", headers=AUTH)
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        deadline = time.monotonic() + 300
        while (status := client.get("/admin/retrain", headers=AUTH).json())["state"] == "running":
            assert time.monotonic() < deadline, status
            assert 0.0 <= status["progress"] <= 1.0
            time.sleep(0.2)
        time.sleep(0.3)  # a few asks on the new model
    finally:
        stop.set()
        for thread in askers:
            thread.join()
    assert status["state"] == "succeeded", status
    assert status["progress"] == 1.0
    new_version = status["new_model_version"]
    assert new_version != old_version and status["model_version"] == new_version
    assert statuses and set(statuses) == {200}, "a request failed during the swap"
    assert new_version in versions
    assert client.get("/readyz").json()["model_version"] == new_version
    # The model is recorded in the store: the running worker follows it...
    deadline = time.monotonic() + 60
    while other.get("/readyz").json()["model_version"] != new_version:
        assert time.monotonic() < deadline, "the other worker never loaded the new model"
        time.sleep(0.1)
    # ...and a worker started now serves it too.
    late = make_client(make_settings(settings.data_dir, database_url, tiny_encoder_path))
    assert late.get("/readyz").json()["model_version"] == new_version


def test_a_retrain_prunes_the_checkpoints_nobody_serves(client, loaded, settings) -> None:
    from app.model_files import PRUNE_MIN_AGE_S

    stale = models_dir(settings) / ("e" * 64)  # a retrain of long ago, no longer served
    stale.mkdir(parents=True)
    (stale / "checkpoint.json").write_text("{}")
    stamp = time.time() - PRUNE_MIN_AGE_S - 60
    os.utime(stale, (stamp, stamp))
    _retrain(client)
    assert not stale.exists()
    served = client.get("/admin/retrain", headers=AUTH).json()["model_version"]
    assert [p.name[:12] for p in models_dir(settings).iterdir()] == [served]


def _retrain(client) -> dict:
    assert client.post("/admin/retrain", headers=AUTH).status_code == 202
    deadline = time.monotonic() + 300
    while (status := client.get("/admin/retrain", headers=AUTH).json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["state"] == "succeeded", status
    return status


def test_retrain_to_a_model_of_another_width_keeps_answering(
    settings, make_client, faq_groups
) -> None:
    """A fine-tune that keeps the base doubles the vector width (training.companion), one
    that stops keeping it halves it: the swap re-embeds every phrasing at the new width."""
    client = make_client(settings, train_config=tiny_train_config(members=1, epochs=3))
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    ids = client.post("/faq", json={"items": items}, headers=AUTH).json()["ids"]
    before = client.get("/readyz").json()["model_version"]
    status = _retrain(client)
    assert status["new_model_version"] != before
    served = load_encoder(next(models_dir(settings).glob(status["new_model_version"] + "*")))
    assert served.dim != load_encoder(settings.model_path).dim  # one network, not three
    for (name, sentences), faq_id in zip(faq_groups.items(), ids, strict=True):
        body = client.post("/ask", json={"question": sentences[0]}).json()
        assert body["faq_id"] == faq_id and body["model_version"] != before, (name, body)


def test_retrain_learns_a_threshold_nobody_chose_and_keeps_one_set_by_hand(
    settings, make_client, faq_groups
) -> None:
    """No SAMESAY_DEFAULT_THRESHOLD and none stored: the retrain's rehearsal learns one for
    the new model; once a person sets one, later retrains keep it."""
    unchosen = Settings(_env_file=None, **settings.model_dump(exclude={"default_threshold"}))
    client = make_client(unchosen, train_config=tiny_train_config(members=1, epochs=3))
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201
    assert client.get("/admin/threshold", headers=AUTH).json()["source"] == "default"

    status = _retrain(client)
    assert "learned for it by a rehearsal" in status["message"]
    learned = client.get("/admin/threshold", headers=AUTH).json()
    assert learned["source"] == "store"
    curve = client.get("/admin/threshold/curve", headers=AUTH).json()
    assert curve["source"] == REHEARSAL_SOURCE
    assert curve["threshold"] == pytest.approx(learned["threshold"])
    # 10 FAQs of 3 phrasings, 2 rehearsals: 8 kept and asked 1 each, 2 aside asked 3 each.
    assert (curve["n_in_scope"], curve["n_out_of_scope"]) == (16, 12)

    # A second retrain relearns it (the one in force is the last rehearsal's)...
    status = _retrain(client)
    assert "learned for it by a rehearsal" in status["message"]
    # ...until a person sets one.
    put = client.put("/admin/threshold", json={"threshold": 0.123}, headers=AUTH)
    assert put.status_code == 200, put.text
    status = _retrain(client)
    assert "rehearsal" not in status["message"]
    assert client.get("/admin/threshold", headers=AUTH).json()["threshold"] == pytest.approx(0.123)


def test_retrain_tunes_the_first_starts_demo_threshold_again_then_rehearses_without_the_demo(
    settings, make_client, faq_groups
) -> None:
    """The first start's threshold, tuned on the demo, is the service's own: a retrain tunes
    it again for its new model on the demo's held-out questions while the demo is in the
    store, and learns it by a rehearsal once the user's own FAQs have replaced the demo."""
    unchosen = Settings(_env_file=None, **settings.model_dump(exclude={"default_threshold"}))
    client = make_client(unchosen, train_config=tiny_train_config(members=1, epochs=2))
    store = FaqStore(unchosen.resolved_database_url)
    try:
        demo_ids = [entry.id for entry in store.add(demo_drafts())]
        store.set_threshold(0.5)  # what the first start does after tuning on the demo
        mark_learned(store, 0.5)
    finally:
        store.close()

    status = _retrain(client)
    assert "tuned for it on the demo's held-out questions" in status["message"]
    curve = client.get("/admin/threshold/curve", headers=AUTH).json()
    assert curve["source"] == DEMO_SOURCE
    heldout = sum(len(faq.heldout) for lang in LANGUAGES for faq in load_faqs(lang))
    unanswerable = sum(len(load_unanswerable(lang)) for lang in LANGUAGES)
    assert (curve["n_in_scope"], curve["n_out_of_scope"]) == (heldout, unanswerable)
    tuned = client.get("/admin/threshold", headers=AUTH).json()
    assert tuned == {"threshold": pytest.approx(curve["threshold"]), "source": "store"}
    assert tuned["threshold"] != 0.5

    # The user replaces the demo with their own FAQs: no labels left, so a rehearsal.
    for faq_id in demo_ids:
        assert client.delete(f"/faq/{faq_id}", headers=AUTH).status_code == 200
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201
    status = _retrain(client)
    assert "learned for it by a rehearsal" in status["message"]
    assert client.get("/admin/threshold/curve", headers=AUTH).json()["source"] == (
        REHEARSAL_SOURCE
    )


def test_retrain_keeps_the_configured_default_threshold(client, loaded) -> None:
    """SAMESAY_DEFAULT_THRESHOLD set (the fixtures' settings): the operator chose it."""
    status = _retrain(client)
    assert "rehearsal" not in status["message"]
    threshold = client.get("/admin/threshold", headers=AUTH).json()
    assert threshold == {**threshold, "threshold": THRESHOLD, "source": "default"}
