"""Training in a spawned child process: retraining's training step, and the first start's
threshold rehearsal beside the real fine-tune.

In the worker's own thread, training imported torch (~180 MB of RSS that stayed until the
worker restarted) and held the GIL for most of each step, so /ask latency rose for as long
as it ran. A spawned child has its own interpreter: it imports torch, trains, writes the
checkpoint and exits; the worker only relays progress and loads the result with the NumPy
encoder. At the first start (app.bootstrap) the rehearsal's two fine-tunes run in a child
on the second core while the first-start process trains the real model on the first.
Spawned, not forked: a fork would copy the worker's threads' locks mid-use. The messages go
through a pipe, not a multiprocessing.Queue: a Queue needs POSIX semaphores, which
containers without a writable /dev/shm refuse (PermissionError in our own image).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.recipes import FaqRecipe
    from training.rehearsal import Rehearsal, RehearsalConfig
    from training.threshold import Objective, ThresholdChoice
    from training.trainer import TrainConfig

# How often the worker checks that the child is still alive while no message comes.
_POLL_S = 0.5


class TrainingFailed(Exception):
    """Training stopped in the child: its error as `Type: message`, or how the child died."""


@dataclass(frozen=True)
class ChildResult:
    checkpoint: Path
    # The threshold a rehearsal chose for the new model (training.rehearsal), when asked
    # for and the FAQs gave enough questions.
    rehearsal: ThresholdChoice | None = None
    # What the rehearsal's questions alone chose, when the base's prior raised it.
    raised_from: float | None = None


# A cancelled job's message: the service stops, and the child must not outlive it.
CANCELLED = "interrupted: the service stopped"


class TrainingCancelled(TrainingFailed):
    """The job was cancelled (ChildJob.result's `cancel`); its child is killed."""


def train_in_child(
    groups: list[list[str]],
    out: Path,
    config: TrainConfig | None,
    torch_threads: int,
    on_progress: Callable[[float, str], None],
    keep_base_max_phrasings: int,
    rehearse: bool = False,
    members: int = 1,
    cancel: threading.Event | None = None,
) -> ChildResult:
    """Train on the FAQs' phrasing `groups` into checkpoint directory `out` in a spawned
    child. `config` None means the first-start recipe (its config and its noisy copies: a
    retrained model is built like the one it replaces), chosen in the child because the
    recipes import torch; `keep_base_max_phrasings` and `members` are that recipe's
    (Settings.keep_base_max_phrasings, Settings.faq_members). `rehearse` first learns the
    new model's threshold by a rehearsal built the same way (app.bootstrap does it at the
    first start).

    Blocks until the child is done; `on_progress(fraction, message)` is called in this
    thread as the child reports. Raises TrainingFailed when the child fails or dies, or when
    `cancel` is set (the child is then killed).
    """
    job = ChildJob(
        _train,
        (groups, str(out), config, torch_threads, keep_base_max_phrasings, members, rehearse),
        "samesay-retrain",
    )
    try:
        checkpoint, rehearsal, raised_from = job.result(on_progress, cancel)
    finally:
        job.stop()
    return ChildResult(Path(checkpoint), rehearsal, raised_from)


@dataclass(frozen=True)
class RehearsalJob:
    """`training.rehearsal.rehearse_threshold`'s arguments, for a child to run."""

    groups: list[list[str]]
    recipe: FaqRecipe
    objective: Objective
    target: float | None
    config: RehearsalConfig
    torch_threads: int


@dataclass(frozen=True)
class RehearsalResult:
    rehearsal: Rehearsal | None  # None: the FAQs give too few questions
    seconds: float  # the child's own wall time for the rehearsal


def start_rehearsal(job: RehearsalJob) -> ChildJob:
    """Start the rehearsal in a spawned child and return at once; the child's `poll()` or
    `result()` gives (RehearsalResult,)."""
    return ChildJob(_rehearse, (job,), "samesay-rehearsal")


class ChildJob:
    """One job in a spawned child that reports ("progress", fraction, text) messages and ends
    with ("done", *payload) or ("failed", "Type: message")."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], name: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._receiver, sender = context.Pipe(duplex=False)
        self._child = context.Process(
            target=target,
            args=(*args, sender),
            name=name,
            daemon=True,  # a process that exits takes its child with it
        )
        self._child.start()
        sender.close()  # only the child writes: its exit closes the pipe
        self._payload: tuple[Any, ...] | None = None
        self._ended = False  # the child sent its last message ("done" or "failed")

    def poll(
        self, on_progress: Callable[[float, str], None] | None = None
    ) -> tuple[Any, ...] | None:
        """The payload if the child is done, else None at once (progress messages are passed
        on). Raises TrainingFailed when the child failed or died."""
        while self._payload is None and self._receiver.poll(0):
            self._take(on_progress)
        if self._payload is None and not self._child.is_alive() and not self._receiver.poll(0):
            raise _died(self._child)
        return self._payload

    def result(
        self,
        on_progress: Callable[[float, str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[Any, ...]:
        """Block until the child is done; its payload. Raises TrainingFailed, also when
        `cancel` is set (stop() then kills the child)."""
        while self._payload is None:
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled(CANCELLED)
            if self._receiver.poll(_POLL_S):
                self._take(on_progress)
            elif not self._child.is_alive():
                raise _died(self._child)
        return self._payload

    def stop(self) -> None:
        """Close the pipe and end the child: given time to exit once it has sent its last
        message, killed at once when it has not."""
        self._receiver.close()
        self._child.join(timeout=30 if self._ended else 0)
        if self._child.is_alive():
            self._child.kill()
            self._child.join()

    def _take(self, on_progress: Callable[[float, str], None] | None) -> None:
        try:
            message = self._receiver.recv()
        except EOFError:
            raise _died(self._child) from None
        if message[0] == "progress":
            if on_progress is not None:
                on_progress(message[1], message[2])
            return
        self._ended = True
        if message[0] == "done":
            self._payload = tuple(message[1:])
        else:
            raise TrainingFailed(message[1])


def _died(child: Any) -> TrainingFailed:
    child.join(timeout=5)
    return TrainingFailed(f"the training process exited (code {child.exitcode}) before finishing")


def _train(
    groups: list[list[str]],
    out: str,
    config: TrainConfig | None,
    torch_threads: int,
    keep_base_max_phrasings: int,
    members: int,
    rehearse: bool,
    messages: Any,
) -> None:
    """The child's whole life: every outcome becomes one last message."""
    _thread_lock_for_bars()
    try:
        import torch

        from training.recipes import FaqRecipe
        from training.rehearsal import rehearse_threshold
        from training.trainer import train_encoder

        torch.set_num_threads(torch_threads)
        # A given config trains on the phrasings as they are, and keeps no base beside it.
        recipe = (
            FaqRecipe(keep_base_max_phrasings=keep_base_max_phrasings, members=members)
            if config is None
            else FaqRecipe(train=config, augment=None, keep_base_max_phrasings=0)
        )
        rehearsal = None
        if rehearse:
            messages.send(("progress", 0.0, "rehearsing to learn the answer threshold"))
            rehearsal = rehearse_threshold(groups, recipe, progress=False)
        path = train_encoder(
            recipe.training_groups(groups),
            Path(out),
            recipe.train_config(groups),
            progress=False,
            on_progress=lambda fraction, text: messages.send(("progress", fraction, text)),
        )
        if rehearsal is None:
            messages.send(("done", str(path), None, None))
        else:
            messages.send(("done", str(path), rehearsal.choice, rehearsal.raised_from))
    except Exception as error:  # reported to the worker, which logs it and keeps serving
        messages.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        messages.close()


def _rehearse(job: RehearsalJob, messages: Any) -> None:
    """The rehearsal child's whole life: every outcome becomes one last message."""
    _thread_lock_for_bars()
    try:
        import torch

        from training.rehearsal import rehearse_threshold

        torch.set_num_threads(job.torch_threads)
        started = time.perf_counter()
        rehearsal = rehearse_threshold(
            job.groups, job.recipe, job.objective, job.target, job.config, progress=False
        )
        messages.send(("done", RehearsalResult(rehearsal, time.perf_counter() - started)))
    except Exception as error:  # reported to the first start, which rehearses itself
        messages.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        messages.close()


def _thread_lock_for_bars() -> None:
    """Give tqdm a thread lock before its first bar. Its default is a multiprocessing RLock,
    made even for disabled bars: a POSIX semaphore that a child killed mid-run (a cancelled
    retrain) leaves behind, and the resource tracker then warns of a leak at shutdown. The
    child's bars are written from its one training thread."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
