"""An FAQ's score from its phrasings' scores: the best one, or the best blended with the
second best.

Scoring an FAQ by its best phrasing alone lets one phrasing that matches a question by
accident (a shared brand name, "gift card" for "can I pay by card") outscore an FAQ that two
phrasings agree on. `(1 - w) * best + w * second` is a small nearest-neighbour vote: on the
demo (15 phrasings per FAQ) w = 0.4 took held-out top-1 from 0.786 to 0.807 and
answer-or-abstain accuracy from 0.739 to 0.753, on acid_en (~60) accuracy from 0.812 to
0.824. Where FAQs have few phrasings it penalises those with a second against those with
one (oppo_xiaobu_zh accuracy -0.9 points if every FAQ votes; fin_cs_zh -1.1 if FAQs of
three do, -0.2 from four), so FAQs with fewer than `min_phrasings` keep their best score
(docs/quality.md, "An FAQ scored by its two best phrasings").

A phrasing asked word for word (cosine and TF-IDF both 1) is the one exception: its FAQ
scores that match alone (`WORD_FOR_WORD`), else a stored question asked exactly as stored
could lose to an FAQ of one phrasing that only resembles it (0.84 blended against 0.87).

The searcher sees only the phrasings it fetched (the best cosines); a second phrasing it did
not fetch stands in at the lowest score it did fetch, which agreed with the full score
matrix to a question on the demo and acid_en.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# A best score at least this high is a phrasing asked word for word (the same pieces give
# the same vector; float32 cosines of equal unit vectors land within 1e-6 of 1).
WORD_FOR_WORD = 1.0 - 1e-4


@dataclass(frozen=True)
class FaqScoring:
    second_weight: float = 0.0  # 0: an FAQ scores as its best phrasing
    min_phrasings: int = 4

    def __post_init__(self) -> None:
        if not 0.0 <= self.second_weight < 1.0:
            raise ValueError(f"second_weight must lie in [0, 1), got {self.second_weight}")
        if self.min_phrasings < 2:
            raise ValueError(f"min_phrasings must be at least 2, got {self.min_phrasings}")

    @property
    def votes(self) -> bool:
        return self.second_weight > 0.0

    def weight_for(self, phrasings: int) -> float:
        """The second phrasing's share for an FAQ with this many phrasings."""
        return self.second_weight if phrasings >= self.min_phrasings else 0.0

    def combine(self, best: np.ndarray, second: np.ndarray, phrasings: np.ndarray) -> np.ndarray:
        """Scores of FAQs (broadcast: `best` and `second` (..., G), `phrasings` (G,))."""
        weight = np.where(phrasings >= self.min_phrasings, self.second_weight, 0.0)
        # An FAQ of one phrasing has -inf for a second; it never votes (0 x -inf is NaN).
        second = np.where(weight > 0.0, second, best)
        return blend(best, second, weight).astype(best.dtype, copy=False)

    def to_dict(self) -> dict[str, Any]:
        return {"second_weight": self.second_weight, "min_phrasings": self.min_phrasings}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaqScoring:
        return cls(float(data["second_weight"]), int(data["min_phrasings"]))


BEST_PHRASING = FaqScoring()


def blend(best: Any, second: Any, weight: Any) -> Any:
    """`(1 - weight) * best + weight * second`, for numbers or arrays: the one formula the
    offline scoring (`FaqScoring.combine`) and the index's best-per-FAQ step share. A best
    score of a phrasing asked word for word (`WORD_FOR_WORD`) is kept as it is."""
    if isinstance(best, np.ndarray):
        weight = np.where(best < WORD_FOR_WORD, weight, 0.0)
    elif best >= WORD_FOR_WORD:
        return best
    return (1.0 - weight) * best + weight * second
