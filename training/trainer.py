"""Trains the sentence encoder on groups of paraphrases and writes a checkpoint directory."""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from model.checkpoint import load_encoder, save_checkpoint
from model.encoder import (
    EncoderConfig,
    EnsembleEncoder,
    GruEncoder,
    member_networks,
)
from model.faq_scoring import FaqScoring
from model.lexical import LexicalModel
from model.losses import LossName, build_loss
from model.sentence_encoder import SentenceEncoder
from model.tokenizer import Tokenizer, TokenizerConfig
from training.anchors import Anchors, anchor_sentences
from training.batches import Batcher, length_batches
from training.companion import companion_network, imprinted_class_vectors
from training.ensemble_distillation import distil_ensemble
from training.errors import TrainingError
from training.optimizers import build_optimizers
from training.trainable_rows import piece_ids, training_rows, whole_table

ProgressCallback = Callable[[float, str], None]
# Member m of an ensemble trains with seed + m · stride: runs with nearby seeds (0, 1, 2, ...)
# share no member, so they are independent repeats.
MEMBER_SEED_STRIDE = 1000
LrSchedule = Literal["constant", "linear", "cosine"]


DEFAULT_ENCODER = EncoderConfig(
    # Bilingual subword tokens: +20 pts unseen top-1 over characters on English intents.
    tokenizer=TokenizerConfig(),
    # Embedding 128 as in the reference. Hidden 96 per member: two members of 96 matched two
    # of 128 on CLINC150 (val 0.925 vs 0.926) at 1.3x one 128's encode time, against 1.7x.
    embedding_dim=128,
    hidden_size=96,
    # biGRU + max pooling: the best measured combination on unseen intents.
    bidirectional=True,
    pooling="max",
    # Dropout on the piece embeddings while training (see docs/quality.md).
    embedding_dropout=0.0,
    # Networks trained one after the other on the same data (seeds: MEMBER_SEED_STRIDE)
    # and kept together as one ensemble encoder (vectors concatenated, cosine = their mean).
    # Three members: CLINC150 in-scope 92.6 → 93.1-93.2 %, closed-set 0.931 → 0.935 (members
    # make different mistakes, seeds 0 and 1); two were less steady across seeds
    # (docs/quality.md). Costs 3x the training time and ~1.6x the encode time of one biGRU 128.
    members=3,
)
_ENCODER_FIELDS = frozenset(f.name for f in fields(EncoderConfig)) - {"vocab_size"}


@dataclass(frozen=True)
class TrainConfig:
    """The default recipe; each default was chosen by measurement (docs/quality.md)."""

    # The network to train; vocab_size is filled from the tokenizer when it is built.
    encoder: EncoderConfig = DEFAULT_ENCODER
    # AM-softmax (s=30, m=0.35): the margin beats plain softmax by ~4 pts (paper + ours).
    loss: LossName = "am_softmax"
    scale: float = 30.0
    margin: float = 0.35
    # Label smoothing of the cross-entropy (0 = none).
    label_smoothing: float = 0.0
    # Training-time augmentation: each word (token position) of a training sentence is
    # dropped with this probability, afresh every epoch (0 = off). CLINC150 closed-set/val
    # accuracy up ~0.2-0.4 pts at 0.1; 0.2 was worse (docs/quality.md).
    word_dropout: float = 0.1
    # CLINC-sized data: held-out top-1 peaked by epoch ~6; early stopping ends sooner.
    epochs: int = 10
    # Small FAQ sets (a few batches per epoch) get extra epochs up to this many updates.
    min_steps: int = 300
    # Reference batch size; small enough for many updates per epoch on small FAQ sets.
    batch_size: int = 100
    # AdamW with a mild decay. 4e-3 beat 2e-3 on CLINC150 (closed 0.927 → 0.929, val 0.922 →
    # 0.931); 6e-3 / 8e-3 were no better (docs/quality.md).
    learning_rate: float = 4e-3
    weight_decay: float = 0.01
    # Learning rate over the planned updates (epochs × batches): "constant", or a "linear" /
    # "cosine" decay from learning_rate to min_lr_fraction · learning_rate, after
    # warmup_steps updates of linear warm-up. Applies to both optimizers. Decay to 0 over
    # the 10 epochs under-trained (CLINC150 closed 0.918 vs 0.927 constant), so: constant.
    lr_schedule: LrSchedule = "constant"
    warmup_steps: int = 0
    min_lr_fraction: float = 0.0
    # Fixed seed: the same data gives the same model.
    seed: int = 0
    # Held-out groups for model selection, only when there are enough groups to spare
    # (0 = train on every group, e.g. a closed-set model scored by its class vectors).
    holdout_fraction: float = 0.1
    min_groups_for_holdout: int = 20
    # Epochs without held-out improvement before stopping.
    patience: int = 3
    # Stop (keeping the best model so far) after this long; None = no limit.
    max_train_seconds: float | None = None
    # Start from this checkpoint (fine-tuning: e.g. a base model trained on the public
    # datasets, refined on an FAQ's own groups); None = train from scratch.
    init_from: str | None = None
    # "auto" = CUDA when available (cuDNN GRU + mixed precision), else CPU.
    device: str = "auto"
    # Embedding rows updated lazily (SparseAdam): a batch touches ~10 % of the table, and the
    # dense AdamW update of the whole table was ~40 % of a CPU training step.
    sparse_embeddings: bool = True
    # CPU threads for training; None = torch's default (all cores). On a shared machine 1
    # avoids oversubscription, which made 2 threads ~8x slower than 1 under load.
    num_threads: int | None = None
    # Sentences of similar length share a batch (shuffled within pools of this many
    # batches): less padding means less GRU work, without a fixed batch order.
    bucket_batches: int = 50
    # Lexical share of the fused score (model.lexical) for Chinese and for other questions;
    # 0 and 0 = plain cosine. Chosen on cmedqq_zh (not an evaluation set) and the demo:
    # docs/quality.md, "Lexical fusion".
    lexical_weight_cjk: float = 0.4
    lexical_weight_latin: float = 0.25
    # An FAQ with at least 4 phrasings scores (1 - w) * its best phrasing's score + w * its
    # second best (model.faq_scoring); 0 = the best alone. training.recipes sets it for FAQ
    # sets; CLINC150's protocols score by the best phrasing, as the baselines do.
    second_phrasing_weight: float = 0.0
    # Fine-tuning only (init_from): each update also pulls the network's vectors of
    # `anchor_sentences` synthetic requests towards the base model's own (training.anchors),
    # `anchor_batch` of them a step, weighted by `anchor_weight` (0 = off).
    anchor_weight: float = 0.0
    anchor_sentences: int = 4000
    anchor_batch: int = 64
    # Fine-tuning only (init_from, one member): save the starting network, untrained, as a
    # second ensemble member beside the fine-tuned one, so that a text's score is the mean
    # of both networks' cosines (training.companion). training.recipes sets it for FAQ sets
    # with few phrasings per FAQ, where the base's general knowledge counts most.
    keep_base: bool = False
    # Where the model would be several networks (members > 1, or keep_base), save one: the
    # first trained network, this many more updates towards their ensemble's vectors
    # (training.ensemble_distillation), on the training sentences and, with
    # distil_anchor_sentences > 0, that many synthetic general requests (training.anchors).
    # 0 = save the networks side by side.
    distil_steps: int = 0
    distil_anchor_sentences: int = 0

    def encoder_config(self, vocab_size: int) -> EncoderConfig:
        """The config of one member network (an ensemble is assembled from trained members)."""
        return replace(self.encoder, vocab_size=vocab_size, members=1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Reads both shapes: `encoder` nested, and the flat one of older checkpoints (the
        encoder's fields beside the training ones). Missing encoder fields keep our defaults."""
        data = dict(data)
        encoder = DEFAULT_ENCODER.to_dict()
        encoder.update({k: data.pop(k) for k in _ENCODER_FIELDS if k in data})
        encoder.update(data.pop("encoder", {}))
        return cls(encoder=EncoderConfig.from_dict(encoder), **data)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _clean_groups(groups: Sequence[Sequence[str]]) -> tuple[list[list[str]], list[int]]:
    """(groups with their empty sentences dropped, each kept group's index in `groups`)."""
    cleaned, kept = [], []
    for index, group in enumerate(groups):
        if isinstance(group, str):
            raise TrainingError("each group must be a sequence of sentences, not a string")
        sentences = [s for s in group if isinstance(s, str) and s.strip()]
        if sentences:
            cleaned.append(sentences)
            kept.append(index)
    if len(cleaned) < 2:
        raise TrainingError(
            f"training needs at least 2 groups with a non-empty sentence, got {len(cleaned)}"
        )
    return cleaned, kept


def _split_holdout_indices(
    groups: list[list[str]], config: TrainConfig
) -> tuple[list[list[str]], list[list[str]], list[int]]:
    """(train groups, held-out groups, index in `groups` of each training group = its class
    id); held-out groups only when enough multi-sentence groups exist (and
    holdout_fraction > 0)."""
    multi = [i for i, g in enumerate(groups) if len(g) >= 2]
    if (
        config.holdout_fraction <= 0
        or len(groups) < config.min_groups_for_holdout
        or len(multi) < 4
    ):
        return groups, [], list(range(len(groups)))
    rng = random.Random(config.seed)
    n_holdout = max(2, round(len(groups) * config.holdout_fraction))
    held = set(rng.sample(multi, min(n_holdout, len(multi) // 2)))
    trained = [i for i in range(len(groups)) if i not in held]
    return [groups[i] for i in trained], [groups[i] for i in sorted(held)], trained


def _evaluate_holdout(
    network: GruEncoder,
    tokenizer: Tokenizer,
    holdout: list[list[str]],
    distractors: list[str],
) -> float:
    """Top-1 of held-out sentences ranking the other held-out sentences AND training
    sentences (distractors): a new FAQ must win against the trained ones, as in service.
    Without distractors a few held-out groups saturate near 0.97 and pick epochs by noise."""
    sentences = [s for g in holdout for s in g]
    labels = np.array([i for i, g in enumerate(holdout) for _ in g])
    with whole_table(network):  # the NumPy fast path reads embedding.weight
        encoder = SentenceEncoder(network, tokenizer, content_hash="")
        held = encoder.encode(sentences)  # (H, dim)
        others = encoder.encode(distractors)  # (D, dim)
    network.train()
    sims = held @ held.T  # (H, H)
    np.fill_diagonal(sims, -np.inf)
    same = labels[:, None] == labels[None, :]
    best_same = np.where(same, sims, -np.inf).max(1)  # (H,)
    best_other = np.where(same, -np.inf, sims).max(1)
    if len(distractors):
        best_other = np.maximum(best_other, (held @ others.T).max(1))
    has_paraphrase = same.sum(1) > 1
    return float((best_same > best_other)[has_paraphrase].mean())


def train_encoder(
    groups: Sequence[Sequence[str]],
    out_dir: Path,
    config: TrainConfig | None = None,
    progress: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Train on `groups` (each inner sequence = one group of paraphrases); write a checkpoint
    directory to `out_dir` and return it. Raises TrainingError on unusable input."""
    config = config or TrainConfig()
    cleaned, kept = _clean_groups(groups)
    seed_everything(config.seed)
    device = resolve_device(config.device)
    previous_threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        return _train(cleaned, kept, Path(out_dir), config, device, progress, on_progress)
    finally:
        torch.set_num_threads(previous_threads)


def lr_factor(step: int, total_steps: int, config: TrainConfig) -> float:
    """Multiplier of learning_rate for update `step` (0-based) of `total_steps`."""
    if config.lr_schedule not in ("constant", "linear", "cosine"):
        raise TrainingError(
            f"unknown lr_schedule {config.lr_schedule!r}: constant, linear or cosine"
        )
    warmup = max(config.warmup_steps, 0)
    if step < warmup:
        return (step + 1) / warmup
    if config.lr_schedule == "constant":
        return 1.0
    progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
    if config.lr_schedule == "linear":
        decay = 1.0 - progress
    else:
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    floor = config.min_lr_fraction
    return floor + (1.0 - floor) * decay


def _warm_start(
    base_path: Path, sentences: list[str], config: TrainConfig
) -> tuple[list[GruEncoder], Tokenizer, int]:
    """The base checkpoint's member networks, their vocabulary extended with this data's new
    pieces (new embedding rows start random; known pieces keep what the base model learned),
    and the base's vocabulary size (the added pieces' ids start there)."""
    base = load_encoder(base_path)
    fresh = Tokenizer.build(
        sentences, replace(base.tokenizer.config, min_count=config.encoder.tokenizer.min_count)
    )
    # Pieces only: the special slots' labels are not pieces (an old base labels its padding
    # slot "<pad>", which is also the word piece of "pad").
    known = set(base.tokenizer.word_pieces)
    added = [piece for piece in fresh.word_pieces if piece not in known]
    tokenizer = Tokenizer(base.tokenizer.config, [*base.tokenizer.vocabulary, *added])
    networks = []
    for base_member in member_networks(base.network):
        network = GruEncoder(replace(base_member.config, vocab_size=len(tokenizer)))
        state = base_member.state_dict()
        # New pieces start at the spread of the learned rows: nn.Embedding's N(0, 1) would
        # be far larger than a trained base's rows and drown the known pieces they mix with.
        spread = state["embedding.weight"][2:].std()
        extra_rows = torch.randn(len(added), base.config.embedding_dim) * spread
        state["embedding.weight"] = torch.cat([state["embedding.weight"], extra_rows])
        network.load_state_dict(state)
        networks.append(network)
    return networks, tokenizer, len(base.tokenizer)


def _member_seed(config: TrainConfig, member: int) -> int:
    return config.seed + MEMBER_SEED_STRIDE * member


@dataclass
class _MemberRun:
    """One member network's training: the best epoch's weights and class vectors."""

    network: GruEncoder
    head: torch.Tensor  # (C, member_dim) class vectors of the best epoch
    loss_config: dict[str, Any]
    record: dict[str, Any]  # best_epoch, stop_reason, train_seconds, history


def _train(
    cleaned: list[list[str]],
    kept: list[int],
    out_dir: Path,
    config: TrainConfig,
    device: torch.device,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> Path:
    train_groups, holdout, trained = _split_holdout_indices(cleaned, config)
    sentences = [s for g in train_groups for s in g]
    labels = [i for i, g in enumerate(train_groups) for _ in g]
    members = config.encoder.members
    if members < 1:
        raise TrainingError(f"members must be at least 1, got {members}")
    faq_scoring = _faq_scoring(config)  # before minutes of training, not after

    base_members: list[GruEncoder] = []
    base_vocabulary = 0
    if config.init_from:
        base_members, tokenizer, base_vocabulary = _warm_start(
            Path(config.init_from), sentences, config
        )
    else:
        tokenizer = Tokenizer.build(sentences, config.encoder.tokenizer)
    if config.keep_base and (len(base_members) != 1 or members != 1):
        raise TrainingError("keep_base needs init_from a one-network base and members = 1")
    batcher = Batcher(tokenizer, sentences, labels)
    anchor_batcher = None
    if base_members and config.anchor_weight > 0:
        made = anchor_sentences(tokenizer, sentences, config.anchor_sentences, config.seed)
        anchor_batcher = Batcher(tokenizer, made, list(range(len(made))))
    # A fine-tune trains only the base's rows its sentences use (training.trainable_rows).
    trained_rows = None
    if base_members and config.sparse_embeddings:
        trained_rows = piece_ids(
            [*batcher.encoded, *(anchor_batcher.encoded if anchor_batcher else [])]
        )
    # A fixed sample of training sentences competes with the held-out paraphrases.
    distractors = random.Random(config.seed).sample(sentences, min(len(sentences), 3000))
    started = time.perf_counter()
    runs: list[_MemberRun] = []
    # Progress: one stage per member, one more for distilling several networks into one.
    distils = config.distil_steps > 0 and members + int(config.keep_base) > 1
    stages = members + int(distils)
    for member in range(members):
        if member > 0:  # member 0 draws from the seed set by train_encoder, as a lone model
            torch.manual_seed(_member_seed(config, member))
        if base_members:
            start = base_members[member % len(base_members)]
            # The base itself where nothing reads it afterwards: a copy would hold one more
            # embedding table while training.
            last_use = members == 1 and not config.keep_base
            network = start if last_use else copy.deepcopy(start)
        else:
            network = GruEncoder(config.encoder_config(len(tokenizer)))

        anchors = None
        if anchor_batcher is not None and len(anchor_batcher):
            anchors = Anchors(anchor_batcher)
            anchors.fix_targets(network.to(device), device)

        def member_progress(fraction: float, message: str, member: int = member) -> None:
            if on_progress is not None:
                label = f"member {member + 1}/{members}, " if members > 1 else ""
                on_progress((member + fraction) / stages, label + message)

        with _trained_rows(network.to(device), trained_rows):
            run = _fit_member(
                network,
                batcher,
                len(train_groups),
                holdout,
                distractors,
                tokenizer,
                config,
                member,
                device,
                progress,
                member_progress,
                anchors,
            )
        runs.append(run)
    first = runs[0]
    networks = [r.network.cpu() for r in runs]
    heads = [r.head.cpu() for r in runs]
    if config.keep_base:  # the untrained base as one more member (training.companion)
        companion = companion_network(base_members[0], tokenizer, sentences, base_vocabulary)
        base_members.clear()  # its last use: one table less while distilling
        networks.append(companion)
        heads.append(imprinted_class_vectors(companion, tokenizer, train_groups))
    distilled_from = len(networks) if distils else 0

    def distil_progress(fraction: float) -> None:
        if on_progress is not None:
            on_progress((members + fraction) / stages, "distilling into one network")

    if distilled_from:
        sources = [batcher]
        if config.distil_anchor_sentences > 0:
            made = anchor_sentences(
                tokenizer, sentences, config.distil_anchor_sentences, config.seed
            )
            sources.append(Batcher(tokenizer, made, [0] * len(made)))
        networks = [
            distil_ensemble(
                networks,
                sources,
                config.distil_steps,
                config.learning_rate,
                config.weight_decay,
                config.batch_size,
                config.word_dropout,
                np.random.default_rng(config.seed),
                device,
                progress,
                distil_progress,
            )
        ]
        heads = [imprinted_class_vectors(networks[0], tokenizer, train_groups)]
    train_seconds = time.perf_counter() - started
    if len(networks) == 1:
        final: GruEncoder | EnsembleEncoder = networks[0]
        class_weights = heads[0]
    else:
        final = EnsembleEncoder(replace(first.network.config, members=len(networks)), networks)
        # cos(query, class) over the concatenation = the members' mean cosine, as for texts.
        units = [torch.nn.functional.normalize(head, dim=-1) for head in heads]
        class_weights = torch.cat(units, dim=-1) / math.sqrt(len(networks))
    metrics = {
        "train_config": config.to_dict(),
        "loss_config": first.loss_config,
        "device": str(device),
        "groups": len(train_groups),
        "holdout_groups": len(holdout),
        "sentences": len(sentences),
        "vocabulary_size": len(tokenizer),
        # Class i of the saved class_weights = the i-th group given to train_encoder.
        "class_groups": [kept[i] for i in trained],
        **first.record,  # best_epoch, stop_reason, history: of the first member
        "train_seconds": train_seconds,
    }
    if len(runs) > 1:
        metrics["members"] = [r.record for r in runs]
    if distilled_from:
        metrics["distilled_from_networks"] = distilled_from
    save_checkpoint(
        final.cpu(),
        tokenizer,
        out_dir,
        metrics,
        class_weights=class_weights,
        lexical=_fit_lexical([s for group in cleaned for s in group], config),
        faq_scoring=faq_scoring,
    )
    if on_progress is not None:
        on_progress(1.0, "done")
    return out_dir


def _trained_rows(
    network: GruEncoder, rows: torch.Tensor | None
) -> AbstractContextManager[object]:
    return nullcontext() if rows is None else training_rows(network, rows)


def _faq_scoring(config: TrainConfig) -> FaqScoring:
    try:
        return FaqScoring(second_weight=config.second_phrasing_weight)
    except ValueError as error:
        raise TrainingError(str(error)) from error


def _fit_lexical(sentences: list[str], config: TrainConfig) -> LexicalModel | None:
    """IDF over every phrasing given (held-out groups too: they are the customer's words)."""
    if config.lexical_weight_cjk == 0 and config.lexical_weight_latin == 0:
        return None
    for weight in (config.lexical_weight_cjk, config.lexical_weight_latin):
        if not 0.0 <= weight <= 1.0:
            raise TrainingError(f"lexical weights must lie in [0, 1], got {weight}")
    return LexicalModel.fit(sentences, config.lexical_weight_cjk, config.lexical_weight_latin)


def _fit_member(
    network: GruEncoder,
    batcher: Batcher,
    n_classes: int,
    holdout: list[list[str]],
    distractors: list[str],
    tokenizer: Tokenizer,
    config: TrainConfig,
    member: int,
    device: torch.device,
    progress: bool,
    on_progress: ProgressCallback,
    anchors: Anchors | None = None,
) -> _MemberRun:
    """Train one member network with its own classifier head; keep its best epoch."""
    loss_fn = build_loss(
        config.loss,
        network.config.dim,
        n_classes,
        config.scale,
        config.margin,
        config.label_smoothing,
    ).to(device)
    optimizers = build_optimizers(
        network, loss_fn, config.learning_rate, config.weight_decay, config.sparse_embeddings
    )
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    steps_per_epoch = math.ceil(len(batcher) / config.batch_size)
    epochs = max(config.epochs, math.ceil(config.min_steps / steps_per_epoch))
    if config.epochs == 0:
        epochs = 0  # explicit "no training" (an untrained baseline in tests)
    total_steps = max(steps_per_epoch * epochs, 1)
    schedulers = [
        torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, total_steps, config)
        )
        for optimizer in optimizers
    ]
    rng = np.random.default_rng(_member_seed(config, member))
    members = config.encoder.members
    # The time limit is for the whole run: each member gets its share.
    time_limit = (
        config.max_train_seconds / members if config.max_train_seconds is not None else None
    )

    history: list[dict[str, float]] = []
    best_state = copy.deepcopy(network.state_dict())
    best_head = loss_fn.head.weight.detach().clone()
    best_score, best_epoch, stale = -math.inf, 0, 0
    started = time.perf_counter()
    desc = f"training {member + 1}/{members}" if members > 1 else "training"
    bar = tqdm(total=total_steps, disable=not progress, desc=desc, unit="batch")
    network.train()
    step = 0
    stop_reason = "epochs"
    for epoch in range(1, epochs + 1):
        loss_sum, correct, seen = 0.0, 0, 0
        for rows in length_batches(batcher.lengths, config.batch_size, config.bucket_batches, rng):
            ids, lengths, target = batcher.collate(rows, config.word_dropout, rng)
            ids, target = ids.to(device), target.to(device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                embeddings = network(ids, lengths)  # (B, dim)
            loss = loss_fn(embeddings, target)
            if anchors is not None:
                anchor_loss = anchors.loss(network, config.anchor_batch, rng, device)
                loss = loss + config.anchor_weight * anchor_loss
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            for optimizer in optimizers:
                scaler.step(optimizer)
            scaler.update()
            for scheduler in schedulers:
                scheduler.step()
            with torch.no_grad():
                predicted = loss_fn.head(embeddings).argmax(1)
            loss_sum += float(loss.detach()) * len(target)
            correct += int((predicted == target).sum())
            seen += len(target)
            step += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
            on_progress(step / total_steps, f"epoch {epoch}/{epochs}")
        record = {"epoch": epoch, "loss": loss_sum / seen, "train_accuracy": correct / seen}
        record["learning_rate"] = optimizers[-1].param_groups[0]["lr"]  # after this epoch
        if holdout:
            record["holdout_top1"] = _evaluate_holdout(network, tokenizer, holdout, distractors)
            score = record["holdout_top1"]
        else:
            score = -record["loss"]
        if score > best_score:
            best_score, best_epoch, stale = score, epoch, 0
            best_state = copy.deepcopy(network.state_dict())
            best_head = loss_fn.head.weight.detach().clone()
        else:
            stale += 1
        record["seconds"] = time.perf_counter() - started
        history.append(record)
        if progress:
            bar.write(", ".join(f"{k} {v:.4g}" for k, v in record.items()))
        if holdout and stale >= config.patience:
            stop_reason = "early_stopping"
            break
        if time_limit is not None and record["seconds"] > time_limit:
            stop_reason = "time_limit"
            break
    bar.close()
    network.load_state_dict(best_state)
    network.embedding.sparse = False  # a training detail, not part of the saved model
    return _MemberRun(
        network=network.eval().cpu(),
        head=best_head.cpu(),
        loss_config=loss_fn.get_config_dict(),
        record={
            "best_epoch": best_epoch,
            "stop_reason": stop_reason,
            "train_seconds": time.perf_counter() - started,
            "history": history,
        },
    )
