"""Margin losses over a cosine classification head (the classifier is only a training device).

All three share `CosineHead`: a bias-free linear layer whose class weight vectors are
unit-normalised, so with unit embeddings its logits are cosines. They differ only in what
happens to the target class's cosine before everything is multiplied by the scale `s`:

- ``SoftmaxLoss``: nothing (plain softmax on scaled cosines).
- ``AMSoftmaxLoss``: cos θ_y − m (additive margin; CosFace). Wang et al., "Additive Margin
  Softmax for Face Verification", 2018.
- ``SimplerASoftmaxLoss``: min(cos θ_y, cos 4θ_y), cos 4θ = 1 − 8c² + 8c⁴ (the angular margin
  of A-softmax without its piecewise ψ).

Inputs: embeddings (B, D) (normalised again here, so raw vectors are fine), labels (B,) int64
class ids (sparse, no one-hot). Output: the mean cross-entropy, computed by
`F.cross_entropy` on logits (log-sum-exp inside, numerically stable).

Example:
    loss_fn = AMSoftmaxLoss(dim=256, num_classes=100)
    loss = loss_fn(encoder(ids, lengths), labels)
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

LossName = Literal["softmax", "am_softmax", "simpler_a_softmax"]


class CosineHead(nn.Module):
    """(B, D) embeddings → (B, C) cosines with every class weight vector."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, dim))
        nn.init.normal_(self.weight)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        weight = F.normalize(self.weight.float(), dim=-1)  # (C, D) unit rows
        return F.normalize(embeddings.float(), dim=-1) @ weight.T  # (B, C)


class _MarginLoss(nn.Module):
    """Cosine head + target-logit transform + scaled cross-entropy."""

    name: str = "base"

    def __init__(
        self, dim: int, num_classes: int, scale: float = 30.0, label_smoothing: float = 0.0
    ) -> None:
        super().__init__()
        self.head = CosineHead(dim, num_classes)
        self.scale = scale
        self.label_smoothing = label_smoothing

    def target_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        """The target class's cosine (B,) after the loss's margin."""
        raise NotImplementedError

    def logits(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(B, C) scaled logits with the margin applied to the target class only."""
        cosines = self.head(embeddings)  # (B, C)
        target = cosines.gather(1, labels[:, None]).squeeze(1)  # (B,)
        margined = cosines.scatter(1, labels[:, None], self.target_cosine(target)[:, None])
        return self.scale * margined

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(
            self.logits(embeddings, labels), labels, label_smoothing=self.label_smoothing
        )

    def get_config_dict(self) -> dict[str, float | str]:
        config: dict[str, float | str] = {"loss": self.name, "scale": self.scale}
        if self.label_smoothing:
            config["label_smoothing"] = self.label_smoothing
        return config


class SoftmaxLoss(_MarginLoss):
    """Plain softmax cross-entropy on scaled cosines (no margin)."""

    name = "softmax"

    def target_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        return cosine


class AMSoftmaxLoss(_MarginLoss):
    """Additive-margin softmax: target logit s·(cos θ_y − m)."""

    name = "am_softmax"

    def __init__(
        self,
        dim: int,
        num_classes: int,
        scale: float = 30.0,
        margin: float = 0.35,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(dim, num_classes, scale, label_smoothing)
        self.margin = margin

    def target_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        return cosine - self.margin

    def get_config_dict(self) -> dict[str, float | str]:
        return {**super().get_config_dict(), "margin": self.margin}


class SimplerASoftmaxLoss(_MarginLoss):
    """Angular margin: target cosine replaced by min(cos θ, cos 4θ)."""

    name = "simpler_a_softmax"

    def target_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        c2 = cosine * cosine
        cos4 = 1.0 - 8.0 * c2 + 8.0 * c2 * c2
        return torch.minimum(cosine, cos4)


def build_loss(
    name: LossName,
    dim: int,
    num_classes: int,
    scale: float = 30.0,
    margin: float = 0.35,
    label_smoothing: float = 0.0,
) -> _MarginLoss:
    """The loss module named in a training config (`label_smoothing`: the cross-entropy's
    share of the target spread uniformly over all classes, 0 = none)."""
    if name == "softmax":
        return SoftmaxLoss(dim, num_classes, scale, label_smoothing)
    if name == "am_softmax":
        return AMSoftmaxLoss(dim, num_classes, scale, margin, label_smoothing)
    if name == "simpler_a_softmax":
        return SimplerASoftmaxLoss(dim, num_classes, scale, label_smoothing)
    raise ValueError(f"unknown loss {name!r}: softmax, am_softmax or simpler_a_softmax")
