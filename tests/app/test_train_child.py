"""POST /admin/retrain's training child with the first-start recipe (config None): it honours
Settings.keep_base_max_phrasings and Settings.faq_members, passed across the spawn."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.train_child import CANCELLED, ChildJob, TrainingFailed, train_in_child
from model.base_model import shipped_base_path
from model.checkpoint import read_metadata
from training.recipes import fine_tune_train_config
from training.threshold_prior import threshold_floor

GROUPS = [
    ["How do I reset my password?", "forgot my password", "change password"],
    ["Where is my order?", "track my parcel", "order status"],
    ["Can I get a refund?", "money back", "return an item for a refund"],
]


@pytest.mark.skipif(shipped_base_path() is None, reason="needs the packaged base model")
@pytest.mark.parametrize("members", [1, 2])
def test_the_child_fine_tunes_as_many_networks_as_told(tmp_path: Path, members: int) -> None:
    progress: list[float] = []
    result = train_in_child(
        GROUPS,
        tmp_path / "model",
        None,
        1,
        on_progress=lambda fraction, _: progress.append(fraction),
        keep_base_max_phrasings=0,  # three phrasings each would keep the base by default
        members=members,
    )
    assert result.rehearsal is None  # not asked for
    metadata = read_metadata(result.checkpoint)
    assert metadata["encoder"]["members"] == members
    training = metadata["training"]
    assert training["train_config"]["keep_base"] is False
    assert training["train_config"]["init_from"] == str(shipped_base_path())
    assert progress and progress[-1] == pytest.approx(1.0)


# Ten unrelated topics: a rehearsal's near misses score far below its paraphrases, so the
# lowest threshold that separates them lies under the base's prior.
TOPICS = [
    ["How do I reset my password?", "forgot my password", "change my password", "new password"],
    ["Where is my order?", "track my parcel", "order status", "when does my order arrive"],
    ["Can I get a refund?", "money back please", "refund my purchase", "I want a refund"],
    ["Do you ship abroad?", "international shipping", "ship to another country", "overseas"],
    ["What are your opening hours?", "when are you open", "opening times", "hours today"],
    ["Is there a student discount?", "discount for students", "student price", "students save"],
    ["How do I delete my account?", "close my account", "remove my account", "delete profile"],
    ["Which payment methods do you take?", "can I pay by card", "payment options", "pay how"],
    ["Do you have gift cards?", "buy a gift card", "gift voucher", "gift certificate"],
    ["How can I contact support?", "talk to a human", "customer service phone", "support email"],
]


@pytest.mark.skipif(shipped_base_path() is None, reason="needs the packaged base model")
def test_the_child_reports_a_rehearsed_threshold_the_bases_prior_raised(tmp_path: Path) -> None:
    base = shipped_base_path()
    quick = replace(
        fine_tune_train_config(base), epochs=1, min_steps=0, device="cpu", num_threads=1
    )
    result = train_in_child(
        TOPICS,
        tmp_path / "model",
        quick,
        1,
        on_progress=lambda *_: None,
        keep_base_max_phrasings=0,
        rehearse=True,
    )
    assert result.rehearsal is not None
    prior = threshold_floor(base)
    assert result.raised_from is not None and result.raised_from < prior
    assert result.rehearsal.threshold == prior


def _sleep_then_report(seconds: float, sender) -> None:  # noqa: ANN001 — a Connection
    time.sleep(seconds)
    sender.send(("done", "never this late"))


def test_a_cancelled_job_raises_at_once_and_its_child_is_killed() -> None:
    """A stopping service cancels its retrain: the child must not outlive the worker."""
    job = ChildJob(_sleep_then_report, (60.0,), "samesay-test-sleeper")
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(TrainingFailed, match=CANCELLED):
        job.result(cancel=cancel)
    job.stop()
    assert time.monotonic() - started < 10
    assert not job._child.is_alive()


_KILL_MID_TRAINING = """
import sys, time
from app.train_child import ChildJob, _train
groups = [["How do I reset my password?", "forgot my password"], ["Where is my order?", "track it"]]
job = ChildJob(_train, (groups, sys.argv[1], None, 1, 0, 1, False), "samesay-test-trainer")
texts = []
while not texts and job.poll(lambda fraction, text: texts.append(text)) is None:
    time.sleep(0.1)
job.stop()
print("killed after:", texts)
"""


@pytest.mark.skipif(shipped_base_path() is None, reason="needs the packaged base model")
def test_a_training_child_killed_mid_run_leaves_no_semaphore(tmp_path: Path) -> None:
    """tqdm's default lock is a POSIX semaphore: a killed child used to leave one, and the
    resource tracker warned of a leak as the service exited."""
    done = subprocess.run(
        [sys.executable, "-c", _KILL_MID_TRAINING, str(tmp_path / "model")],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert "killed after: ['" in done.stdout  # mid-run: training had reported progress
    assert "leaked semaphore" not in done.stderr
