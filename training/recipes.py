"""Recipes: how Samesay makes a model for a small FAQ set (first start and POST /admin/retrain).

The trainer's defaults target datasets of thousands of sentences (CLINC150); a help centre's
first model is trained on a few hundred hand-written phrasings, which needs other choices,
each measured on the demo set (app/demo) and explained beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import median

from model.base_model import shipped_base_path
from model.checkpoint_format import read_metadata
from model.errors import CheckpointError
from model.tokenizer import TokenizerConfig
from training.augment import AugmentConfig, augment_groups
from training.trainer import DEFAULT_ENCODER, TrainConfig


def first_start_train_config() -> TrainConfig:
    """The recipe for an FAQ set's model (first start, POST /admin/retrain): fine-tune the
    shipped base encoder when the package has it, else train from scratch."""
    base = shipped_base_path()
    return fine_tune_train_config(base) if base is not None else scratch_train_config()


def fine_tune_train_config(base: Path) -> TrainConfig:
    """Refine the base encoder on the FAQ groups.

    The network (one biGRU 128), its vocabulary and its n-gram range come from the base; the
    FAQ set's new pieces are added (seen once is enough, as from scratch). The from-scratch
    rate (2e-3, >= 300 updates) for 4 epochs instead of its 10: `samesay bench faq`, seeds 0
    and 1, demo top-1 / accuracy 0.782 / 0.742 against 0.775 / 0.718, acid_en 0.929 / 0.843
    against 0.928 / 0.832 in 60 s instead of 150 s; the Chinese sets train 300 updates
    either way (docs/quality.md, "Fewer fine-tuning epochs"). 1e-3 x 4 epochs and 4e-3 kept
    less of the FAQ set, and interpolating the weights back towards the base afterwards
    (WiSE-FT, 0.3 / 0.5 of the base) answered more questions wrongly without helping FAQs
    added later. Anchors
    (training.anchors, weight 3: the base's own vectors of 4,000 synthetic requests kept
    while fine-tuning) moved `bench faq` by less than its noise on every set (demo top-1
    0.782 vs 0.770, accuracy 0.724 vs 0.722; fin_cs_zh accuracy 0.452 vs 0.465) at twice the
    training time (acid_en 295 s vs 131 s), so they stay off.

    An FAQ with four phrasings or more scores 0.6 x its best phrasing's score + 0.4 x its
    second best's (model.faq_scoring): demo top-1 / accuracy 0.786 / 0.739 -> 0.807 / 0.753,
    acid_en 0.931 / 0.812 -> 0.932 / 0.824, the pair-shaped sets unchanged (docs/quality.md,
    "An FAQ scored by its two best phrasings").
    """
    return replace(
        scratch_train_config(),
        init_from=str(base),
        epochs=FINE_TUNE_EPOCHS,
        second_phrasing_weight=SECOND_PHRASING_WEIGHT,
    )


# The second best phrasing's share of an FAQ's score (model.faq_scoring) after a fine-tune.
SECOND_PHRASING_WEIGHT = 0.4

# Passes over the FAQ set's phrasings (and their noisy copies) when fine-tuning the base; the
# trainer's 300-update floor adds epochs for small sets.
FINE_TUNE_EPOCHS = 4


def scratch_train_config() -> TrainConfig:
    """The recipe for a model trained from a small FAQ set alone (no base model).

    Differs from the trainer's defaults, which target datasets of thousands of sentences:
    every group is trained on (no held-out groups: each one is an FAQ that must be answerable),
    and pieces seen once are kept (a few hundred phrasings contain most words once).
    """
    return TrainConfig(
        encoder=replace(
            DEFAULT_ENCODER,
            # Words and n-grams seen once still carry meaning in a few hundred phrasings.
            tokenizer=TokenizerConfig(min_count=1, min_n=2, max_n=4),
            # One biGRU 128, not the trainer's 3-member ensemble (CLINC150 in-scope +0.5-0.6
            # pts): on the demo an ensemble (2 x 96; 3 x 96 not measured there) ranked better
            # (held-out top-1 EN 0.646 -> 0.667) but abstained worse (cross-validated accuracy
            # 0.648 -> 0.621, unanswerable declined 82 % -> 65 %), one seed each
            # (bench.demo_measure).
            hidden_size=128,
            members=1,
        ),
        # Every FAQ must be trained on: held-out groups would be unanswerable ones.
        holdout_fraction=0.0,
        min_groups_for_holdout=1_000_000_000,
        # Demo set, one seed: 6 epochs matched 10 in tuned accuracy (0.656 vs 0.659) but its
        # looser clusters declined fewer unrelated questions (ZH off-topic 62 % vs 86 %) and
        # were no better at any wrong-answer rate. 10 epochs: ~37 s of one core.
        epochs=10,
        # The demo numbers (README) were measured with these; the trainer's defaults (4e-3,
        # word dropout 0.1) were tuned on CLINC150 and are not measured on small FAQ sets.
        learning_rate=2e-3,
        word_dropout=0.0,
        # A safety net for pathologically slow machines only (keeps the best epoch so far):
        # the demo needs ~30 s of one core, and fewer epochs decline fewer unrelated questions.
        max_train_seconds=300.0,
        # One thread: ~30-40 s of CPU for the demo. A second thread gains little on a model
        # this small and, on a busy machine, made training several times slower (spinning);
        # POST /admin/retrain also uses this recipe beside /ask in the serving process.
        num_threads=1,
    )


@dataclass(frozen=True)
class FaqRecipe:
    """The training config plus the noisy copies added to the FAQ phrasings."""

    train: TrainConfig = field(default_factory=first_start_train_config)
    # None trains on the stored phrasings only.
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    # A fine-tune keeps the base beside it (TrainConfig.keep_base: the mean of both networks'
    # cosines) when the median FAQ has at most this many phrasings; 0 = never. 5: measured
    # gains at 2 and 5 phrasings per FAQ (CLINC150, the demo cut to 2, fin_cs_zh), a loss
    # with the demo's 15 (training.companion); nothing between 5 and 15 was measured.
    keep_base_max_phrasings: int = 5
    # The base kept beside the fine-tune is not served: the fine-tuned network is distilled
    # towards the pair's ensemble (the mean of their cosines) for `distil_steps` updates, on
    # the FAQ phrasings and on `distil_anchor_sentences` synthetic general requests, which
    # carry what the base knows beyond the FAQ set (TrainConfig.distil_steps). So /ask costs
    # one network and 256-number vectors for every FAQ set; 0 serves the pair side by side.
    # Six pair-shaped sets, `samesay bench faq` medians of seeds 0 and 1, top-1 / accuracy
    # pair -> distilled: fin_cs_zh 0.578 / 0.491 -> 0.579 / 0.496, oppo_xiaobu_zh 0.862 /
    # 0.762 -> 0.860 / 0.768, CLINC150 at 2 phrasings 0.682 / 0.625 -> same, acid_en at 2
    # 0.650 / 0.566 -> 0.647 / 0.559, chinese_sts_zh 0.986 / 0.963 -> 0.985 / 0.959, lcqmc_zh
    # 0.990 / 0.962 -> 0.990 / 0.961; 300 updates with 4,000 requests, or none, lost up to
    # 1.4 points. /ask in `bench service`: 1,235-1,456 -> 1,566-1,624/s at 32 clients, CPU
    # 1.29-1.50 -> 1.13-1.16 ms (docs/quality.md, "One network for every FAQ set").
    distil_steps: int = 600
    distil_anchor_sentences: int = 8000
    # Networks fine-tuned from the base, each from its own seed, for the other FAQ sets (more
    # phrasings per FAQ), served as one ensemble (the mean of their cosines). 1 is the
    # default: 3 ranked and abstained better (`samesay bench faq --members 3`, median top-1 /
    # accuracy: demo 0.786 / 0.734 -> 0.804 / 0.742, acid_en 0.931 / 0.811 -> 0.933 / 0.837)
    # but cost 3x the fine-tune and, with vectors 3x as wide, ~2x the CPU per /ask at 10k
    # FAQs (0.68 -> 1.45 ms; 2,709 -> 1,291/s at 32 clients), past #12's 0.8 ms: an
    # operator's choice (Settings.faq_members); docs/quality.md, "Three fine-tuned networks".
    # Distilled into one network like the kept base they kept less (CLINC150 in-scope 93.8 %
    # median, not 94.1 %; demo top-1 0.789-0.800, not 0.804): docs/quality.md.
    members: int = 1

    def training_groups(self, groups: Sequence[Sequence[str]]) -> list[list[str]]:
        """Each FAQ's phrasings, with the recipe's noisy copies when it has any."""
        if self.augment is None:
            return [list(group) for group in groups]
        return augment_groups(groups, self.augment)

    def train_config(self, groups: Sequence[Sequence[str]]) -> TrainConfig:
        """The training config for these FAQs (their own phrasings, before noisy copies)."""
        few = bool(groups) and median(len(g) for g in groups) <= self.keep_base_max_phrasings
        base = self.train.init_from
        if few and base and self.train.encoder.members == 1 and _one_network(Path(base)):
            return replace(
                self.train,
                keep_base=True,
                distil_steps=self.distil_steps,
                distil_anchor_sentences=self.distil_anchor_sentences,
            )
        if base and self.members > 1 and not few:
            return replace(self.train, encoder=replace(self.train.encoder, members=self.members))
        return self.train


def _one_network(checkpoint: Path) -> bool:
    """Whether a checkpoint is one network (the shipped base is; an ensemble base has no one
    starting network to keep). Unreadable: False, and the trainer says what is wrong."""
    try:
        return int(read_metadata(checkpoint)["encoder"].get("members", 1)) == 1
    except (CheckpointError, KeyError, TypeError, ValueError):
        return False
