"""Sentence-level distillation: a student's vectors learn a teacher encoder's geometry.

Two terms, both over a batch of sentences the teacher has embedded:
- direct: a linear map of the student vector (a training device, dropped afterwards) regresses
  the teacher's unit vector by cosine (as in tokenlearn, or Tang et al. 2019 for BiLSTMs);
- relational: the student's own cosine matrix regresses the teacher's (MSE). The service ranks
  and thresholds by the student's cosines, so this is the geometry it must copy; the map alone
  would let the student's space differ from the teacher's by any linear warp;
- listwise (optional): per sentence, the student's softmax over its cosines with the rest of
  the batch matches the teacher's (KL, temperature `temperature`). MSE weighs every pair
  alike, and most pairs in a batch are unrelated; retrieval only needs the nearest ones in
  the right order, which is what a sharp softmax weighs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DistillationLoss(nn.Module):
    """(B, student_dim) student vectors, (B, teacher_dim) unit teacher vectors → scalar loss."""

    def __init__(
        self,
        student_dim: int,
        teacher_dim: int,
        relation_weight: float = 5.0,
        listwise_weight: float = 0.0,
        temperature: float = 0.05,
    ) -> None:
        super().__init__()
        self.project = nn.Linear(student_dim, teacher_dim, bias=False)
        self.relation_weight = relation_weight
        self.listwise_weight = listwise_weight
        self.temperature = temperature

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = student.float()
        projected = F.normalize(self.project(student), dim=-1)
        direct = (1.0 - (projected * teacher).sum(-1)).mean()
        if self.relation_weight == 0 and self.listwise_weight == 0:
            return direct
        unit = F.normalize(student, dim=-1)
        student_sims, teacher_sims = unit @ unit.T, teacher @ teacher.T
        loss = direct + self.relation_weight * F.mse_loss(student_sims, teacher_sims)
        if self.listwise_weight > 0 and len(student) > 2:
            loss = loss + self.listwise_weight * self._listwise(student_sims, teacher_sims)
        return loss

    def _listwise(self, student_sims: torch.Tensor, teacher_sims: torch.Tensor) -> torch.Tensor:
        # A sentence is not its own neighbour: the diagonal leaves both softmaxes.
        self_pairs = torch.eye(len(student_sims), dtype=torch.bool, device=student_sims.device)
        student_logits = (student_sims / self.temperature).masked_fill(self_pairs, -1e4)
        teacher_logits = (teacher_sims / self.temperature).masked_fill(self_pairs, -1e4)
        return F.kl_div(
            F.log_softmax(student_logits, dim=-1),
            F.log_softmax(teacher_logits, dim=-1),
            log_target=True,
            reduction="batchmean",
        )
