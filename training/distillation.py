"""Sentence-level distillation: a student's vectors learn a teacher encoder's geometry.

Two terms, both over a batch of sentences the teacher has embedded:
- direct: a linear map of the student vector (a training device, dropped afterwards) regresses
  the teacher's unit vector by cosine (as in tokenlearn, or Tang et al. 2019 for BiLSTMs);
- relational: the student's own cosine matrix regresses the teacher's (MSE). The service ranks
  and thresholds by the student's cosines, so this is the geometry it must copy; the map alone
  would let the student's space differ from the teacher's by any linear warp.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DistillationLoss(nn.Module):
    """(B, student_dim) student vectors, (B, teacher_dim) unit teacher vectors → scalar loss."""

    def __init__(self, student_dim: int, teacher_dim: int, relation_weight: float = 5.0) -> None:
        super().__init__()
        self.project = nn.Linear(student_dim, teacher_dim, bias=False)
        self.relation_weight = relation_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = student.float()
        projected = F.normalize(self.project(student), dim=-1)
        direct = (1.0 - (projected * teacher).sum(-1)).mean()
        if self.relation_weight == 0:
            return direct
        unit = F.normalize(student, dim=-1)
        relation = F.mse_loss(unit @ unit.T, teacher @ teacher.T)
        return direct + self.relation_weight * relation
