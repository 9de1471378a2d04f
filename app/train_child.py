"""Retraining's training step in a child process, so the serving worker never loads torch.

In the worker's own thread, training imported torch (~180 MB of RSS that stayed until the
worker restarted) and held the GIL for most of each step, so /ask latency rose for as long
as it ran. A spawned child has its own interpreter: it imports torch, trains, writes the
checkpoint and exits; the worker only relays progress and loads the result with the NumPy
encoder. Spawned, not forked: a fork would copy the worker's threads' locks mid-use. The
messages go through a pipe, not a multiprocessing.Queue: a Queue needs POSIX semaphores,
which containers without a writable /dev/shm refuse (PermissionError in our own image).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.threshold import ThresholdChoice
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


def train_in_child(
    groups: list[list[str]],
    out: Path,
    config: TrainConfig | None,
    torch_threads: int,
    on_progress: Callable[[float, str], None],
    keep_base_max_phrasings: int,
    rehearse: bool = False,
    members: int = 1,
) -> ChildResult:
    """Train on the FAQs' phrasing `groups` into checkpoint directory `out` in a spawned
    child. `config` None means the first-start recipe (its config and its noisy copies: a
    retrained model is built like the one it replaces), chosen in the child because the
    recipes import torch; `keep_base_max_phrasings` and `members` are that recipe's
    (Settings.keep_base_max_phrasings, Settings.faq_members). `rehearse` first learns the
    new model's threshold by a rehearsal built the same way (app.bootstrap does it at the
    first start).

    Blocks until the child is done; `on_progress(fraction, message)` is called in this
    thread as the child reports. Raises TrainingFailed when the child fails or dies.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_train,
        args=(
            groups,
            str(out),
            config,
            torch_threads,
            keep_base_max_phrasings,
            members,
            rehearse,
            sender,
        ),
        name="samesay-retrain",
        daemon=True,  # a worker that exits takes its training child with it
    )
    child.start()
    sender.close()  # only the child writes: its exit closes the pipe
    try:
        while True:
            if not receiver.poll(_POLL_S):
                if not child.is_alive():
                    raise _died(child)
                continue
            try:
                message = receiver.recv()
            except EOFError:
                raise _died(child) from None
            if message[0] == "progress":
                on_progress(message[1], message[2])
            elif message[0] == "done":
                return ChildResult(Path(message[1]), message[2], message[3])
            else:
                raise TrainingFailed(message[1])
    finally:
        receiver.close()
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join()


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
