"""A base's threshold prior: the least threshold a rehearsal may learn for its fine-tunes.

Where FAQs have one or two phrasings, each rehearsal model (training.rehearsal) keeps one
of them, scores new paraphrases lower than the real model (trained on all of them) will,
and learns a threshold that answers too readily: 0.34-0.42 on CLINC150 and acid_en at two
phrasings per FAQ, where 0.44 and up did better (docs/quality.md). What a fine-tune of the
same base learned on labelled questions of our own, the demo's held-out and unanswerable
ones, is a floor under it. It was chosen on 16 `bench faq` runs and checked on 16 fresh ones
(docs/quality.md, "A floor under the rehearsed threshold").

A prior belongs to one base, so it is keyed by that base's content hash: a fine-tune of
another base (a new shipped one, `--init-from` a model of one's own) or a model trained from
scratch gets no floor until its prior is measured (tests/training/test_threshold_prior.py fails
when the shipped base has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model.checkpoint_format import read_metadata
from model.errors import CheckpointError


@dataclass(frozen=True)
class ThresholdPrior:
    base_content_hash: str
    threshold: float
    measured_on: str


SHIPPED_BASE_PRIOR = ThresholdPrior(
    base_content_hash="3c7448211458a1401615406206df2bc03ac52a21372356b082d5804e7ee61fdd",
    threshold=0.372,
    measured_on=(
        "the demo's first start (`python -m bench.demo_measure`, 2026-12-06): the base "
        "fine-tuned on the demo FAQs, threshold tuned for accuracy on their 280 held-out and "
        "92 unanswerable questions (0.3719)"
    ),
)
# The max-pooled base shipped until 2026-12-06: fine-tunes started from a copy of it keep
# the floor it was validated with.
PREVIOUS_BASE_PRIOR = ThresholdPrior(
    base_content_hash="afbe7e07c2bd23e8014c769e18b0620c47af450e1bc064cdb03d2875ccbdc3f0",
    threshold=0.395,
    measured_on=(
        "the demo's first start (`make run`, 2026-12-05): the base fine-tuned on the demo FAQs, "
        "threshold tuned for accuracy on their 280 held-out and 92 unanswerable questions"
    ),
)
PRIORS: tuple[ThresholdPrior, ...] = (SHIPPED_BASE_PRIOR, PREVIOUS_BASE_PRIOR)


def threshold_floor(
    init_from: str | Path | None, priors: tuple[ThresholdPrior, ...] = PRIORS
) -> float | None:
    """The prior of the base a fine-tune starts from; None from scratch, or from a base
    (or an unreadable checkpoint) with no measured prior."""
    if not init_from:
        return None
    try:
        content_hash = read_metadata(Path(init_from)).get("content_hash")
    except CheckpointError:
        return None
    for prior in priors:
        if prior.base_content_hash == content_hash:
            return prior.threshold
    return None
