"""One network that scores like an ensemble: a member distilled from all of them.

A fine-tune scored together with the base it started from (few phrasings per FAQ:
training.companion), or several fine-tunes together, answer better than one fine-tune, but
cost each member's encode and a wider vector on /ask. Here the first member, already
fine-tuned, keeps training on the FAQ set's sentences (and general synthetic requests when
given, which carry what the base knows beyond the FAQ set) so that its vectors regress the
ensemble's: a linear map to the ensemble's vector by cosine, and its own cosine matrix to
the ensemble's (training.distillation). The ensemble is dropped afterwards; measured in
docs/quality.md, "One network for every FAQ set". The ensemble reads each sentence whole,
once (EnsembleTargets); with word dropout the student learns its dropped copies towards that.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch
from tqdm.auto import tqdm

from model.encoder import EnsembleEncoder, GruEncoder
from training.batches import Batcher, length_batches
from training.distillation import DistillationLoss
from training.optimizers import build_optimizers


def distil_ensemble(
    members: Sequence[GruEncoder],
    batchers: Sequence[Batcher],
    steps: int,
    learning_rate: float,
    weight_decay: float,
    batch_size: int,
    word_dropout: float,
    rng: np.random.Generator,
    device: torch.device,
    progress: bool = False,
    on_step: Callable[[float], None] | None = None,
) -> GruEncoder:
    """A copy of `members[0]` trained `steps` updates towards the ensemble of `members`,
    on batches drawn in turn from `batchers`; `on_step(fraction done)` after each."""
    # The members themselves, not copies: only the student (a copy) is trained, and a copy
    # of each would hold one more embedding table per member while distilling.
    teacher = EnsembleEncoder(replace(members[0].config, members=len(members)), list(members))
    teacher = teacher.to(device)
    teacher.eval()
    student = copy.deepcopy(members[0]).to(device)
    student.train()
    loss_fn = DistillationLoss(student.config.dim, teacher.config.dim).to(device)
    optimizers = build_optimizers(student, loss_fn, learning_rate, weight_decay)
    targets = [EnsembleTargets(teacher, batcher, device) for batcher in batchers]
    queues: list[list[np.ndarray]] = [[] for _ in batchers]
    bar = tqdm(total=steps, disable=not progress, desc="distilling into one network")
    for step in range(steps):
        which = step % len(batchers)
        batcher = batchers[which]
        if not queues[which]:
            queues[which] = length_batches(batcher.lengths, batch_size, 50, rng)
        rows = queues[which].pop()
        ids, lengths, _ = batcher.collate(rows, word_dropout, rng)
        target = targets[which](rows)
        loss = loss_fn(student(ids.to(device), lengths), target)
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        bar.update(1)
        if on_step is not None:
            on_step((step + 1) / steps)
    bar.close()
    student.embedding.sparse = False
    return student.eval().cpu()


class EnsembleTargets:
    """The ensemble's vector of each row of a Batcher, whole (no word dropout), computed the
    first time the row is drawn and kept: the teacher never changes, and 600 updates of 100
    rows draw each of a small FAQ set's rows and 8,000 general requests several times over
    (a quarter of the distillation's CPU, measured in docs/quality.md). Lazily, unlike
    training.anchors' targets: a store's phrasings can outnumber the rows 600 updates draw."""

    def __init__(self, teacher: EnsembleEncoder, batcher: Batcher, device: torch.device) -> None:
        self.teacher = teacher
        self.batcher = batcher
        self.device = device
        self.vectors = torch.zeros(len(batcher), teacher.config.dim, device=device)
        self.known = np.zeros(len(batcher), dtype=bool)

    @torch.no_grad()
    def __call__(self, rows: np.ndarray) -> torch.Tensor:
        """(len(rows), dim): the vectors of `rows` (distinct row indices), in their order."""
        missing = rows[~self.known[rows]]
        if len(missing):
            ids, lengths, _ = self.batcher.collate(missing)
            index = torch.from_numpy(missing).to(self.device)
            self.vectors[index] = self.teacher(ids.to(self.device), lengths).float()
            self.known[missing] = True
        return self.vectors[torch.from_numpy(rows).to(self.device)]
