"""The distillation loss on its own: each term is zero where the student copies the teacher."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.distillation import DistillationLoss


def _clustered_teacher(rows: int = 48, dim: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(6, dim, generator=generator)
    noise = 0.4 * torch.randn(rows, dim, generator=generator)
    return F.normalize(centres[torch.arange(rows) % 6] + noise, dim=-1)


def test_listwise_term_is_zero_for_the_teachers_own_geometry() -> None:
    teacher = _clustered_teacher()
    loss = DistillationLoss(32, 32, relation_weight=0.0, listwise_weight=1.0)
    sims = teacher @ teacher.T
    assert float(loss._listwise(sims, sims)) < 1e-5
    shuffled = teacher[torch.randperm(len(teacher), generator=torch.Generator().manual_seed(1))]
    assert float(loss._listwise(shuffled @ shuffled.T, sims)) > 1.0


def test_listwise_term_trains_a_student_towards_the_teachers_neighbours() -> None:
    torch.manual_seed(0)
    teacher = _clustered_teacher()
    student = torch.nn.Parameter(torch.randn(len(teacher), 16))
    loss = DistillationLoss(16, 32, relation_weight=0.0, listwise_weight=1.0)
    optimizer = torch.optim.Adam([student, *loss.parameters()], lr=0.05)

    def neighbour_agreement() -> float:
        unit = F.normalize(student.detach(), dim=-1)
        s_sims, t_sims = unit @ unit.T, teacher @ teacher.T
        s_sims.fill_diagonal_(-2.0)
        t_sims.fill_diagonal_(-2.0)
        return float((s_sims.argmax(1) == t_sims.argmax(1)).float().mean())

    before = neighbour_agreement()
    for _ in range(200):
        optimizer.zero_grad()
        loss(student, teacher).backward()
        optimizer.step()
    assert neighbour_agreement() > max(0.8, before + 0.3)


def test_loss_without_relational_terms_is_the_direct_cosine_only() -> None:
    teacher = _clustered_teacher()
    loss = DistillationLoss(32, 32, relation_weight=0.0, listwise_weight=0.0)
    with torch.no_grad():
        loss.project.weight.copy_(torch.eye(32))
    assert float(loss(teacher, teacher).detach()) < 1e-5
