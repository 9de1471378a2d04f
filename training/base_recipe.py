"""The base recipe: the pre-trained bilingual encoder that every FAQ set is fine-tuned from.

    samesay train --recipe base --data ../shared/data --out build/base

One GRU network learns, at once and batch by batch:
- the geometry of two teacher encoders, from their precomputed vectors of unlabelled user
  requests (`training.distillation`): all-MiniLM-L6-v2 on English, USE multilingual v3 on
  Chinese;
- AM-softmax on labelled paraphrase groups (the seed's objective), so that its clusters are
  as tight as an FAQ set needs.

Only sources whose licence allows shipping derived weights are read (`SHIPPABLE_SOURCES`,
from ../shared/data/README.md): the research-only sets and CLINC150 stay clean benchmarks.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from model.checkpoint import save_checkpoint
from model.encoder import EncoderConfig, GruEncoder
from model.encoder_config import Pooling
from model.losses import build_loss
from model.tokenizer import CJK_CHAR, PAD, UNK, Tokenizer, TokenizerConfig
from training.batches import Batcher, length_batches
from training.distillation import DistillationLoss
from training.errors import TrainingError
from training.optimizers import build_optimizers
from training.readers import read_dataset
from training.synthetic_requests import synthetic_requests
from training.synthetic_requests_zh import chinese_words, synthetic_requests_zh
from training.teacher_cache import cached_teacher_vectors
from training.teachers import TEACHERS, TeacherVectors, read_teacher
from training.token_init import teacher_words, token_init_table
from training.topic_batches import topic_batches, topic_clusters
from training.trainer import resolve_device, seed_everything
from training.wordnet_text import WORDNET_DIR, wordnet_sentences

ProgressCallback = Callable[[float, str], None]

# Licence-clean sources and their licences (../shared/data/README.md); sgd_user_en's
# share-alike makes the weights CC BY-SA 4.0. cmedqq_zh's own terms are unstated: left out.
SOURCE_LICENCES = {
    "hwu64_en": "CC BY 4.0",
    "sgd_user_en": "CC BY-SA 4.0",
    "crosswoz_user_zh": "Apache-2.0",
    "kdconv_zh": "Apache-2.0",
    # Not a ../shared/data folder: Debian's wordnet-base (training.wordnet_text).
    "wordnet": "WordNet 3.0 licence (Princeton University; derived works allowed with its notice)",
}
SHIPPABLE_SOURCES = frozenset(SOURCE_LICENCES)


@dataclass(frozen=True)
class BaseRecipe:
    """How the shipped base model is made; each choice is measured in docs/quality.md."""

    teachers: tuple[str, ...] = TEACHERS
    # Labelled paraphrase groups trained with AM-softmax beside the distillation.
    group_sets: tuple[str, ...] = ("hwu64_en",)
    # fastText n-grams 3-5 as the FAQ default; pieces seen 3+ times across ~160k requests.
    tokenizer: TokenizerConfig = field(default_factory=lambda: TokenizerConfig(min_count=3))
    # The most frequent pieces kept: the embedding table is most of the shipped file
    # (60k x 128 half floats = 15.4 MB of the 16 MB allowed).
    max_vocabulary: int = 60_000
    # Also know the teacher's whole-word vocabulary (~21k English words, most of them never
    # in the training requests) and start every row from the teachers' token vectors
    # (training.token_init). Needs the `teacher` extra.
    teacher_vocabulary: bool = True
    token_init: bool = True
    embedding_dim: int = 128
    # One biGRU 128 (256-d vectors): the one-question encode budget is 0.5 ms of one core.
    hidden_size: int = 128
    # Mean pooling, as the teachers pool: the student follows them closer (held-out MiniLM /
    # USE cosine corr 0.809 / 0.874 with max pooling, 0.839 / 0.900 with mean) and ranks
    # better zero-shot, Chinese most (fin_cs_zh top-1 0.371 -> 0.447, demo ZH 0.675 ->
    # 0.741); docs/quality.md, "Mean pooling for the base". Max pooling stays the from-scratch
    # default (model.encoder_config), measured on CLINC150's unseen intents.
    pooling: Pooling = "mean"
    # One layer: a second (1-epoch probe) moved zero-shot top-1 by -0.7 to +2.3 points for
    # 1.5x the training time and a second recurrence in every encode.
    num_layers: int = 1
    # WordNet's definitions and usage examples (training.wordnet_text) distilled from MiniLM
    # through the English map, up to this many (0 = none; all of them: 165,853). In 1-epoch
    # probes English zero-shot top-1 +1.8 to +5.5 points; in the full recipe +0.9 to +1.2,
    # and fine-tuned a wash: not in the shipped base (docs/quality.md, "WordNet's
    # definitions for the base").
    wordnet_en: int = 0
    wordnet_dir: str = str(WORDNET_DIR)
    epochs: int = 4
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 0.01
    # Augmented copies (Tang et al.): the teacher's vector of the whole sentence stays the
    # target when words are dropped from the student's input.
    word_dropout: float = 0.1
    relation_weight: float = 5.0
    # The listwise term of training.distillation (0 = off) and its softmax temperature.
    listwise_weight: float = 0.0
    listwise_temperature: float = 0.05
    # Topic-aware batches (training.topic_batches): this share of each distillation batch
    # comes from one cluster of about `topic_rows` rows of the teacher's vectors (0 = off:
    # 0.5 raised nearest-neighbour agreement but fine-tuned to a wash, fin_cs_zh +3.8 top-1,
    # oppo_xiaobu_zh -1.4, CLINC150 out-of-scope recall -3.7; docs/quality.md).
    topic_share: float = 0.0
    topic_rows: int = 200
    # Synthetic English requests carrying the teacher's whole vocabulary
    # (training.synthetic_requests), embedded by MiniLM at build time (~11 min on 2 cores)
    # and cached in `teacher_cache` (default: teacher_cache/ beside the output); distilled
    # through the same head as the real English requests. 300k: zero-shot demo EN top-1
    # 0.646 -> 0.742, acid_en 0.822 -> 0.871 (120k: 0.711 / 0.851); docs/quality.md,
    # "Synthetic requests".
    synthetic_en: int = 300_000
    # The same for Chinese (training.synthetic_requests_zh: jieba's dictionary words in the
    # licence-clean Chinese requests and Chinese FAQ frames), embedded by USE at build time
    # (~1.5 min on 2 cores) and distilled through the real Chinese rows' head. 150k:
    # zero-shot oppo_xiaobu_zh top-1 0.715 -> 0.763, fin_cs_zh 0.330 -> 0.371, demo ZH
    # 0.650 -> 0.675, English unchanged; fine-tuned a wash (docs/quality.md, "Synthetic
    # Chinese requests").
    synthetic_zh: int = 150_000
    teacher_cache: str | None = None
    group_weight: float = 1.0
    # Passes over each source per epoch (teacher names, "groups" for the labelled groups):
    # the Chinese requests (25k) are a twentieth of the English ones with the synthetic
    # rows, so they are seen four times (twice, before those: the fine-tuned demo ZH lost
    # 1.5 points with 120k synthetic rows and 2 passes).
    passes: dict[str, int] = field(default_factory=lambda: {"use_zh": 4})
    # Teacher rows held out to measure the student's agreement each epoch.
    holdout_rows: int = 2000
    seed: int = 0
    num_threads: int | None = None
    device: str = "auto"
    max_train_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Task:
    name: str
    batcher: Batcher
    loss: torch.nn.Module
    targets: torch.Tensor | None  # (N, d) teacher vectors, or None for a group task
    passes: int
    # Topic cluster of each of the batcher's rows (topic-aware batches), or None.
    clusters: np.ndarray | None = None


def _teachers(data_root: Path, recipe: BaseRecipe) -> list[TeacherVectors]:
    folder = data_root / "teacher_vectors"
    return [read_teacher(folder, name).restricted(SHIPPABLE_SOURCES) for name in recipe.teachers]


def _synthetic_teachers(
    teachers: list[TeacherVectors], held: dict[str, list[int]], recipe: BaseRecipe, cache: Path
) -> list[TeacherVectors]:
    """Each teacher's vectors of the made-up requests in its language (none from held-out
    rows, which stay an honest agreement check), computed once and cached."""
    made = []
    for teacher in teachers:
        count = {"minilm_en": recipe.synthetic_en, "use_zh": recipe.synthetic_zh}.get(teacher.name)
        if not count:
            continue
        skip = set(held.get(teacher.name, ()))
        sources = [s for i, s in enumerate(teacher.sentences) if i not in skip]
        if teacher.name == "minilm_en":
            # Without the teacher's vocabulary, the requests' own words (a smaller gain, but
            # the recipe stays runnable and testable without the extra).
            words = _teacher_words() if recipe.teacher_vocabulary else _own_words(sources)
            sentences = synthetic_requests(sources, words, count, recipe.seed)
        else:
            sentences = synthetic_requests_zh(sources, _chinese_words(), count, recipe.seed)
        vectors = cached_teacher_vectors(sentences, teacher.name, cache)
        if vectors.shape[1] != teacher.dim:
            raise TrainingError(
                f"the {teacher.name} teacher package gives {vectors.shape[1]}-d vectors but "
                f"the data root's {teacher.name} vectors are {teacher.dim}-d: they were not "
                "made by it"
            )
        sources_made = [SYNTHETIC_SOURCES[teacher.name]] * len(sentences)
        made.append(TeacherVectors(f"{teacher.name}{SYNTHETIC}", sentences, sources_made, vectors))
    if recipe.wordnet_en:  # _train refused it without minilm_en
        sentences = wordnet_sentences(Path(recipe.wordnet_dir), recipe.wordnet_en)
        vectors = cached_teacher_vectors(sentences, "minilm_en", cache)
        wordnet = [WORDNET_SOURCE] * len(sentences)
        made.append(TeacherVectors(f"minilm_en{WORDNET}", sentences, wordnet, vectors))
    return made


def _own_words(sentences: list[str]) -> list[str]:
    """The lower-case words of `sentences`, most frequent first."""
    counts = Counter(w for s in sentences for w in re.findall(r"[a-z]{2,}", s.lower()))
    return [w for w, _ in counts.most_common()]


# Synthetic rows are made from the licence-clean requests and MiniLM's (Apache-2.0) or
# jieba's (MIT) vocabulary.
SYNTHETIC = "+synthetic"
WORDNET = "+wordnet"
WORDNET_SOURCE = "wordnet"
SYNTHETIC_SOURCES = {
    "minilm_en": "synthetic (made from sgd_user_en / hwu64_en and MiniLM's vocabulary)",
    "use_zh": "synthetic (made from crosswoz_user_zh / kdconv_zh and jieba's dictionary)",
}


def _group_sentences(data_root: Path, recipe: BaseRecipe) -> list[list[str]]:
    groups: list[list[str]] = []
    for name in recipe.group_sets:
        if name not in SHIPPABLE_SOURCES:
            raise TrainingError(f"{name} may not go into shipped weights (licence)")
        groups += list(read_dataset(data_root / name).groups().values())
    return groups


def build_vocabulary(
    texts: list[str], recipe: BaseRecipe, extra_words: Sequence[str] = ()
) -> Tokenizer:
    """Every one of `extra_words` as a whole-word piece, and the most frequent other pieces
    of `texts` (Tokenizer.build sorts them by count) up to `max_vocabulary` in all.

    An extra word that the texts use keeps its counted place (the rows stay in the same
    order when the table is under the limit), however rare it is there: at the limit it
    must not be cut with the rare n-grams."""
    counted = Tokenizer.build(texts, recipe.tokenizer).word_pieces
    extra = list(dict.fromkeys(f"<{w}>" for w in extra_words))
    wanted = set(extra)
    room = max(recipe.max_vocabulary - 2 - len(extra), 0)
    kept: list[str] = []
    for piece in counted:
        if piece in wanted:
            kept.append(piece)
        elif room > 0:
            kept.append(piece)
            room -= 1
    known = set(kept)
    return Tokenizer(recipe.tokenizer, [PAD, UNK, *kept, *(w for w in extra if w not in known)])


def _teacher_words() -> list[str]:
    try:
        return teacher_words()
    except ImportError as error:
        raise TrainingError(f"{_TEACHER_HINT} ({error})") from error


def _chinese_words() -> list[str]:
    try:
        return chinese_words()
    except ImportError as error:
        hint = "synthetic_zh needs jieba: pip install -e '.[teacher]'"
        raise TrainingError(f"{hint} ({error})") from error


def _token_table(tokenizer: Tokenizer, recipe: BaseRecipe) -> np.ndarray:
    try:
        from training.teacher_encoders import MiniLm, UseM3

        encoders = MiniLm(), UseM3()
    except ImportError as error:
        raise TrainingError(f"{_TEACHER_HINT} ({error})") from error
    return token_init_table(tokenizer, recipe.embedding_dim, *encoders, seed=recipe.seed)


_TEACHER_HINT = (
    "the base recipe's token start needs the teacher encoders: pip install -e '.[teacher]' "
    "(or set teacher_vocabulary and token_init off)"
)


def train_base(
    data_root: Path,
    out_dir: Path,
    recipe: BaseRecipe | None = None,
    progress: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Train the base encoder from `data_root` (../shared/data) into checkpoint `out_dir`."""
    recipe = recipe or BaseRecipe()
    seed_everything(recipe.seed)
    previous_threads = torch.get_num_threads()
    if recipe.num_threads is not None:
        torch.set_num_threads(recipe.num_threads)
    try:
        return _train(Path(data_root), Path(out_dir), recipe, progress, on_progress)
    finally:
        torch.set_num_threads(previous_threads)


def _train(
    data_root: Path,
    out_dir: Path,
    recipe: BaseRecipe,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> Path:
    if recipe.wordnet_en < 0 or (recipe.wordnet_en and "minilm_en" not in recipe.teachers):
        # Said before the teachers' vectors are read: silently training without WordNet would
        # cost a 40-minute build that is not the one asked for.
        raise TrainingError(
            f"wordnet_en {recipe.wordnet_en}: WordNet's sentences are distilled from the "
            f"minilm_en teacher, so it needs a count >= 0 and minilm_en among the teachers "
            f"(got {', '.join(recipe.teachers) or 'none'})"
        )
    device = resolve_device(recipe.device)
    teachers = _teachers(data_root, recipe)
    groups = _group_sentences(data_root, recipe)
    rng = random.Random(recipe.seed)
    held: dict[str, list[int]] = {}
    for teacher in teachers:
        count = min(recipe.holdout_rows, len(teacher.sentences) // 2)
        held[teacher.name] = sorted(rng.sample(range(len(teacher.sentences)), count))
    texts = [s for t in teachers for s in t.sentences] + [s for g in groups for s in g]
    cache = Path(recipe.teacher_cache) if recipe.teacher_cache else out_dir.parent / "teacher_cache"
    synthetic = _synthetic_teachers(teachers, held, recipe, cache)
    distilled = [*teachers, *synthetic]
    # Chinese synthetic rows bring characters the real requests never use: count those (only:
    # their numbers and Latin words are the real requests', copied many times over).
    texts += [
        "".join(CJK_CHAR.findall(s))
        for t in synthetic
        if t.name.startswith("use_zh")
        for s in t.sentences
    ]
    tokenizer = build_vocabulary(
        texts, recipe, _teacher_words() if recipe.teacher_vocabulary else ()
    )
    config = EncoderConfig(
        vocab_size=len(tokenizer),
        embedding_dim=recipe.embedding_dim,
        hidden_size=recipe.hidden_size,
        num_layers=recipe.num_layers,
        pooling=recipe.pooling,
        tokenizer=recipe.tokenizer,
    )
    network = GruEncoder(config)
    if recipe.token_init:
        table = _token_table(tokenizer, recipe)
        network.embedding.weight.data.copy_(torch.from_numpy(table))
    network = network.to(device)
    tasks = []
    # One head per teacher space: the synthetic rows share the real English rows' map.
    heads_by_space: dict[str, DistillationLoss] = {}
    for teacher in distilled:
        skip = set(held.get(teacher.name, ()))
        rows = [i for i in range(len(teacher.sentences)) if i not in skip]
        batcher = Batcher(tokenizer, [teacher.sentences[i] for i in rows], rows)
        space = teacher.name.partition("+")[0]
        if space not in heads_by_space:
            heads_by_space[space] = DistillationLoss(
                config.dim,
                teacher.dim,
                recipe.relation_weight,
                recipe.listwise_weight,
                recipe.listwise_temperature,
            ).to(device)
        targets = torch.from_numpy(teacher.vectors).to(device)
        clusters = None
        if recipe.topic_share > 0:
            clusters = topic_clusters(teacher.vectors[rows], recipe.topic_rows, recipe.seed)
        tasks.append(
            _Task(
                teacher.name,
                batcher,
                heads_by_space[space],
                targets,
                recipe.passes.get(teacher.name, 1),
                clusters,
            )
        )
    if groups:
        sentences = [s for g in groups for s in g]
        labels = [i for i, g in enumerate(groups) for _ in g]
        loss = build_loss("am_softmax", config.dim, len(groups)).to(device)
        tasks.append(
            _Task(
                "groups",
                Batcher(tokenizer, sentences, labels),
                loss,
                None,
                recipe.passes.get("groups", 1),
            )
        )

    heads = torch.nn.ModuleList(dict.fromkeys(task.loss for task in tasks))
    optimizers = build_optimizers(network, heads, recipe.learning_rate, recipe.weight_decay)
    np_rng = np.random.default_rng(recipe.seed)
    per_epoch = sum(
        task.passes * math.ceil(len(task.batcher) / recipe.batch_size) for task in tasks
    )
    total = max(per_epoch * recipe.epochs, 1)
    # Cosine decay to 0 over the planned updates: one long run, no early stopping.
    schedulers = [
        torch.optim.lr_scheduler.LambdaLR(
            o, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / total, 1.0)))
        )
        for o in optimizers
    ]
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, desc="base model", unit="batch")
    step, stop_reason = 0, "epochs"
    for epoch in range(1, recipe.epochs + 1):
        network.train()
        sums: dict[str, list[float]] = {task.name: [0.0, 0] for task in tasks}
        for task, rows in _schedule(tasks, recipe.batch_size, recipe.topic_share, np_rng):
            ids, lengths, target = task.batcher.collate(rows, recipe.word_dropout, np_rng)
            embeddings = network(ids.to(device), lengths)
            if task.targets is None:
                loss = recipe.group_weight * task.loss(embeddings, target.to(device))
            else:
                loss = task.loss(embeddings, task.targets[target.to(device)])
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            for scheduler in schedulers:
                scheduler.step()
            sums[task.name][0] += float(loss.detach()) * len(rows)
            sums[task.name][1] += len(rows)
            step += 1
            bar.update(1)
            if on_progress is not None:
                on_progress(step / total, f"epoch {epoch}/{recipe.epochs}")
        record: dict[str, float] = {"epoch": epoch}
        record.update({f"loss_{name}": s / max(n, 1) for name, (s, n) in sums.items()})
        record.update(_agreement(network, tokenizer, teachers, held))
        record["seconds"] = time.perf_counter() - started
        history.append(record)
        if progress:
            bar.write(", ".join(f"{k} {v:.4g}" for k, v in record.items()))
        limit = recipe.max_train_seconds
        if limit is not None and record["seconds"] > limit:
            stop_reason = "time_limit"
            break
    bar.close()
    network.embedding.sparse = False
    metrics = {
        "recipe": "base",
        "base_recipe": recipe.to_dict(),
        "sources": sorted(
            {s for t in distilled for s in t.sources if s in SOURCE_LICENCES}
            | set(recipe.group_sets)
        ),
        "teachers": {t.name: len(t.sentences) for t in distilled},
        "groups": len(groups),
        "vocabulary_size": len(tokenizer),
        "device": str(device),
        "stop_reason": stop_reason,
        "history": history,
        "train_seconds": time.perf_counter() - started,
    }
    save_checkpoint(network.eval().cpu(), tokenizer, out_dir, metrics, half_precision=True)
    if on_progress is not None:
        on_progress(1.0, "done")
    return out_dir


def _schedule(
    tasks: list[_Task], batch_size: int, topic_share: float, rng: np.random.Generator
) -> list[tuple[_Task, np.ndarray]]:
    """Every task's batches for one epoch, interleaved at random: topic-aware where the task
    has clusters, else similar lengths together."""
    batches: list[tuple[_Task, np.ndarray]] = []
    for task in tasks:
        for _ in range(task.passes):
            if task.clusters is not None:
                rows = topic_batches(task.clusters, batch_size, topic_share, rng)
            else:
                rows = length_batches(
                    task.batcher.lengths, batch_size, 50, rng, shuffle_batches=False
                )
            batches += [(task, batch) for batch in rows]
    return [batches[i] for i in rng.permutation(len(batches))]


@torch.no_grad()
def _agreement(
    network: GruEncoder,
    tokenizer: Tokenizer,
    teachers: list[TeacherVectors],
    held: dict[str, list[int]],
) -> dict[str, float]:
    """Per teacher, on held-out rows: correlation of the student's pairwise cosines with the
    teacher's, and how often both agree on a sentence's nearest neighbour."""
    network.eval()
    out: dict[str, float] = {}
    for teacher in teachers:
        rows = held.get(teacher.name, [])
        if len(rows) < 3:  # a correlation needs at least 3 pairs
            continue
        ids, lengths = tokenizer.batch([teacher.sentences[i] for i in rows])
        device = next(network.parameters()).device
        student = network(torch.from_numpy(ids).to(device), torch.from_numpy(lengths)).cpu()
        target = torch.from_numpy(teacher.vectors[rows])
        s_sims, t_sims = student @ student.T, target @ target.T
        upper = torch.triu_indices(len(rows), len(rows), 1)
        pairs = torch.stack([s_sims[upper[0], upper[1]], t_sims[upper[0], upper[1]]])
        out[f"{teacher.name}_cosine_corr"] = float(torch.corrcoef(pairs)[0, 1])
        s_sims.fill_diagonal_(-2.0)
        t_sims.fill_diagonal_(-2.0)
        out[f"{teacher.name}_nn_agree"] = float(
            (s_sims.argmax(1) == t_sims.argmax(1)).float().mean()
        )
    network.train()
    return out
