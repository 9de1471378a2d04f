"""A retrain seen from every worker on the store, and one that died with its worker."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

import app.retrain
from app.main import create_app
from app.retrain_record import RETRAIN_KEY, STALE_AFTER
from app.train_child import CANCELLED, TrainingCancelled, TrainingFailed
from store.faq_store import FaqStore
from tests.app.conftest import AUTH, faq_body, make_settings
from tests.fixtures.model_fixtures import tiny_train_config


def _other_worker(settings, database_url, tiny_encoder_path, make_client):
    return make_client(make_settings(settings.data_dir, database_url, tiny_encoder_path))


def _wait_until_done(client) -> dict:
    deadline = time.monotonic() + 300
    while (status := client.get("/admin/retrain", headers=AUTH).json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    return status


def _record(heartbeat: datetime, **fields) -> dict:
    started = heartbeat - timedelta(seconds=5)
    return {
        "state": "running",
        "progress": 0.4,
        "message": "training: epoch 2/5",
        "started_at": started.isoformat(),
        "finished_at": None,
        "new_model_version": None,
        "error": None,
        "run_id": "elsewhere",
        "heartbeat_at": heartbeat.isoformat(),
        "owner": "another-host:4242",
        **fields,
    }


def _put_record(database_url: str, record: dict) -> None:
    store = FaqStore(database_url)
    try:
        store.set_setting(RETRAIN_KEY, record)
    finally:
        store.close()


def _stored_record(database_url: str) -> dict:
    store = FaqStore(database_url)
    try:
        return store.get_setting(RETRAIN_KEY)
    finally:
        store.close()


def test_every_worker_sees_the_run_and_none_starts_a_second(
    client, loaded, settings, database_url, tiny_encoder_path, make_client
) -> None:
    other = _other_worker(settings, database_url, tiny_encoder_path, make_client)
    assert other.get("/admin/retrain", headers=AUTH).json()["state"] == "idle"

    started = client.post("/admin/retrain", headers=AUTH)
    assert started.status_code == 202, started.text
    seen = other.get("/admin/retrain", headers=AUTH).json()
    assert seen["state"] == "running"
    assert seen["started_at"] == started.json()["started_at"]
    refused = other.post("/admin/retrain", headers=AUTH)
    assert refused.status_code == 409
    assert "another worker" in refused.json()["error"]["message"]

    done = _wait_until_done(client)
    assert done["state"] == "succeeded", done
    # The other worker reports the same run, from the store, once it has finished.
    theirs = other.get("/admin/retrain", headers=AUTH).json()
    assert theirs["state"] == "succeeded"
    assert theirs["new_model_version"] == done["new_model_version"]
    assert theirs["progress"] == 1.0 and theirs["finished_at"] == done["finished_at"]


def test_no_worker_says_the_run_ended_before_the_others_can_read_it(
    client, loaded, settings, database_url, tiny_encoder_path, make_client, monkeypatch
) -> None:
    """The running worker reported "succeeded" from memory while the store still said
    "running" to the others (CI hit the window under load): a slow store write widens it."""
    real_publish = app.retrain.publish

    def slow_last_word(store, state):
        if state.state != "running":
            time.sleep(1.0)
        real_publish(store, state)

    monkeypatch.setattr(app.retrain, "publish", slow_last_word)
    other = _other_worker(settings, database_url, tiny_encoder_path, make_client)
    assert client.post("/admin/retrain", headers=AUTH).status_code == 202
    done = _wait_until_done(client)
    theirs = other.get("/admin/retrain", headers=AUTH).json()
    assert (done["state"], theirs["state"]) == ("succeeded", "succeeded")
    assert theirs["finished_at"] == done["finished_at"]


def test_a_replica_that_cannot_load_the_new_model_says_so(
    client, loaded, tmp_path, database_url, tiny_encoder_path, make_client
) -> None:
    """A replica with its own data directory cannot load a model another one retrained: it
    keeps serving its own beside the store's new threshold, silently until now (QA)."""
    replica = make_client(make_settings(tmp_path / "replica", database_url, tiny_encoder_path))
    assert replica.get("/readyz").json()["model_error"] is None
    assert client.post("/admin/retrain", headers=AUTH).status_code == 202
    done = _wait_until_done(client)
    assert done["state"] == "succeeded", done
    assert client.get("/readyz").json()["model_error"] is None  # it serves the new model

    service = replica.app.state.service
    service.refresh_settings()  # what its settings follower does within a second
    ready = replica.get("/readyz")
    assert ready.status_code == 200  # still answering: degraded, not down
    error = ready.json()["model_error"]
    assert f"not the store's active model {done['new_model_version']}" in error
    assert str(tmp_path / "replica") in error
    status = replica.get("/admin/retrain", headers=AUTH).json()
    assert status["model_version"] != done["new_model_version"]
    assert f"this worker still serves {status['model_version']}" in status["message"]


def test_a_run_whose_worker_died_reads_as_interrupted_and_blocks_nothing(
    client, loaded, database_url
) -> None:
    silent_since = datetime.now(UTC) - STALE_AFTER - timedelta(seconds=5)
    _put_record(database_url, _record(silent_since))

    status = client.get("/admin/retrain", headers=AUTH).json()
    assert status["state"] == "failed"
    assert status["message"].startswith("retrain interrupted")
    assert status["error"].startswith("interrupted: no word from the worker running it since")
    assert status["finished_at"] == silent_since.isoformat().replace("+00:00", "Z")

    assert client.post("/admin/retrain", headers=AUTH).status_code == 202
    assert _wait_until_done(client)["state"] == "succeeded"


def test_a_live_run_of_another_worker_blocks_a_start(client, loaded, database_url) -> None:
    _put_record(database_url, _record(datetime.now(UTC)))

    refused = client.post("/admin/retrain", headers=AUTH)
    assert refused.status_code == 409
    assert "already running in another worker" in refused.json()["error"]["message"]
    status = client.get("/admin/retrain", headers=AUTH).json()
    assert (status["state"], status["progress"]) == ("running", 0.4)
    assert status["message"] == "training: epoch 2/5"


def test_a_service_stopping_mid_run_ends_it_and_records_it_as_interrupted(
    settings, database_url, faq_groups, monkeypatch
) -> None:
    cancelled = threading.Event()

    def long_training(*args, cancel, **kwargs):  # training itself is not tested here
        if cancel.wait(60):
            cancelled.set()
            raise TrainingCancelled(CANCELLED)  # what ChildJob.result raises, the child killed
        raise TrainingFailed("never cancelled")

    monkeypatch.setattr(app.retrain, "train_in_child", long_training)
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    app_ = create_app(settings, train_config=tiny_train_config(epochs=3))
    with TestClient(app_, raise_server_exceptions=False) as client:
        assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201
        assert client.post("/admin/retrain", headers=AUTH).status_code == 202
    # The lifespan has ended (Service.stop) while the run was still training.
    assert cancelled.is_set()
    record = _stored_record(database_url)
    assert (record["state"], record["error"]) == ("failed", CANCELLED), record
    assert record["message"].startswith("retrain interrupted: the service stopped")


def test_a_late_heartbeat_never_outlives_the_runs_last_word(
    settings, database_url, faq_groups, monkeypatch
) -> None:
    """A beat that read "running" just before the run ended must not write it after the
    run's final state: the record would say running, then interrupted, for a finished run."""
    beat_waiting, final_written = threading.Event(), threading.Event()
    real_publish = app.retrain.publish

    def publish(store, state):
        if state.state == "running":
            beat_waiting.set()
            final_written.wait(2)  # the run ends meanwhile
            return real_publish(store, state)
        real_publish(store, state)
        final_written.set()

    def failing_training(*args, **kwargs):
        beat_waiting.wait(10)
        raise TrainingFailed("boom")

    monkeypatch.setattr(app.retrain, "HEARTBEAT_S", 0.05)
    monkeypatch.setattr(app.retrain, "publish", publish)
    monkeypatch.setattr(app.retrain, "train_in_child", failing_training)
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    app_ = create_app(settings, train_config=tiny_train_config(epochs=3))
    with TestClient(app_, raise_server_exceptions=False) as client:
        assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201
        assert client.post("/admin/retrain", headers=AUTH).status_code == 202
        app_.state.service.retrainer.join(30)
        time.sleep(0.3)  # any beat still running has written by now
        record = _stored_record(database_url)
    assert (record["state"], record["error"]) == ("failed", "boom"), record
