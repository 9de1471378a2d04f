"""`samesay bench faq`: the split rules, the 2-fold threshold scoring, and a tiny real run."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench import faq_columns
from bench.config import BenchError
from bench.faq import FaqBenchConfig, load_set, score
from bench.faq import run as run_bench
from bench.faq_samesay import ColumnScores
from bench.faq_sets import FaqSet, Question, demo_set, load_group_set, split_groups
from cli.main import main as samesay_main
from model.text import normalize


def _groups(sizes: list[int]) -> dict[str, list[tuple[str, str | None]]]:
    return {
        f"g{i:02d}": [(f"group {i} way {j}", None) for j in range(n)] for i, n in enumerate(sizes)
    }


def _group_of(text: str) -> str:
    return f"g{int(text.split()[1]):02d}"


def test_split_puts_a_fifth_aside_and_half_rounded_up_into_each_faq() -> None:
    sizes = [1, 2, 3, 4, 5, 6, 7, 2, 3, 9]
    groups = _groups(sizes)
    faq_set = split_groups("toy", groups, seed=3)
    assert faq_set.counts["aside_groups"] == 2
    assert len(faq_set.faqs) == 8
    aside = {_group_of(q.text) for q in faq_set.questions if q.gold is None}
    assert len(aside) == 2
    for group_id in aside:  # every phrasing of an aside group is a near miss
        asked = [q.text for q in faq_set.questions if _group_of(q.text) == group_id]
        assert sorted(asked) == sorted(text for text, _ in groups[group_id])
    for index, faq in enumerate(faq_set.faqs):
        group_id = _group_of(faq.question)
        size = len(groups[group_id])
        assert {_group_of(t) for t in faq.phrasings} == {group_id}
        assert len(faq.phrasings) == math.ceil(size / 2)
        asked = [q.text for q in faq_set.questions if q.gold == index]
        assert len(asked) == size - math.ceil(size / 2)
        assert not set(asked) & set(faq.phrasings)
    # A single phrasing becomes an FAQ with nothing to ask (when it is not aside).
    if "g00" not in aside:
        single = next(i for i, f in enumerate(faq_set.faqs) if _group_of(f.question) == "g00")
        assert not [q for q in faq_set.questions if q.gold == single]


def test_split_is_seeded_and_repeatable() -> None:
    groups = _groups([4] * 20)
    first, again = split_groups("toy", groups, seed=7), split_groups("toy", groups, seed=7)
    assert first.faqs == again.faqs and first.questions == again.questions
    other = split_groups("toy", groups, seed=8)
    assert (other.faqs, other.questions) != (first.faqs, first.questions)


def test_split_column_train_rows_are_the_faq() -> None:
    groups = {
        f"g{i:02d}": [(f"group {i} train {j}", "train") for j in range(3)]
        + [(f"group {i} test {j}", "test") for j in range(2)]
        for i in range(5)
    }
    faq_set = split_groups("toy", groups, seed=0)
    assert len(faq_set.faqs) == 4  # round(0.2 * 5) = 1 aside
    for index, faq in enumerate(faq_set.faqs):
        assert all(" train " in text for text in faq.phrasings)
        assert len(faq.phrasings) == 3  # all train rows, not half of five rounded up
        asked = [q.text for q in faq_set.questions if q.gold == index]
        assert len(asked) == 2 and all(" test " in text for text in asked)


def test_max_phrasings_keeps_that_many_per_faq_and_asks_the_same_questions() -> None:
    groups = _groups([8] * 10)
    full, few = (
        split_groups("toy", groups, seed=4),
        split_groups("toy", groups, seed=4, max_phrasings=2),
    )
    assert [len(faq.phrasings) for faq in full.faqs] == [4] * 8
    assert [len(faq.phrasings) for faq in few.faqs] == [2] * 8
    assert [faq.phrasings[:2] for faq in full.faqs] == [faq.phrasings for faq in few.faqs]
    assert few.questions == full.questions  # the dropped phrasings are not asked
    assert few.counts["surplus_dropped"] == 8 * 2


def test_out_of_scope_sentences_are_asked_once_with_no_answer() -> None:
    groups = _groups([4] * 10)
    off_topic = ["what is the weather", "What is the WEATHER ", "tell me a joke", "group 1 way 0"]
    plain = split_groups("toy", groups, seed=2)
    faq_set = split_groups("toy", groups, seed=2, out_of_scope=off_topic)
    assert faq_set.faqs == plain.faqs
    added = [q for q in faq_set.questions if q not in plain.questions]
    # Normalised duplicates count once; a stored phrasing is never asked.
    assert [q.text for q in added] == ["what is the weather", "tell me a joke"]
    assert all(q.gold is None for q in added)
    assert faq_set.counts["out_of_scope"] == 3


def _write_clinc(path: Path) -> None:
    """A CLINC150-shaped data_full.json: 10 intents, 4 train / 1 val / 2 test each."""
    data: dict[str, list[list[str]]] = {}
    for split, count in (("train", 4), ("val", 1), ("test", 2)):
        data[split] = [
            [f"intent {i} {split} {j}", f"i{i}"] for i in range(10) for j in range(count)
        ]
        data[f"oos_{split}"] = [[f"off topic {split} {j}", "oos"] for j in range(3)]
    path.mkdir(parents=True)
    (path / "data_full.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_clinc150_folder_stores_train_rows_and_asks_the_rest_and_its_out_of_scope(
    tmp_path: Path,
) -> None:
    _write_clinc(tmp_path / "clinc")
    faq_set = load_group_set(tmp_path / "clinc", seed=0, max_groups=None, max_phrasings=2)
    assert len(faq_set.faqs) == 8  # two of ten intents put aside
    for index, faq in enumerate(faq_set.faqs):
        assert len(faq.phrasings) == 2 and all(" train " in t for t in faq.phrasings)
        asked = [q.text for q in faq_set.questions if q.gold == index]
        assert len(asked) == 3 and not any(" train " in t for t in asked)
    no_answer = [q.text for q in faq_set.questions if q.gold is None]
    off_topic = sorted(t for t in no_answer if t.startswith("off topic"))
    # CLINC's oos_train is a training split: never asked.
    assert off_topic == [f"off topic {s} {j}" for s in ("test", "val") for j in range(3)]
    assert len(no_answer) == 2 * 7 + 6  # the aside intents' every phrasing, then off-topic


def test_a_folder_with_no_dataset_is_a_bench_error_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    config = FaqBenchConfig(data=[str(tmp_path / "empty")], columns=["bm25"], seeds=[0, 1])
    with pytest.raises(BenchError, match="holds none of data_full.json, groups.tsv"):
        load_set(str(tmp_path / "empty"), 0, config)
    with pytest.raises(BenchError, match="is not a dataset folder"):
        load_set(str(tmp_path / "missing"), 0, config)


def test_demo_max_phrasings_keeps_the_question_first() -> None:
    full, few = demo_set(), demo_set(max_phrasings=3)
    assert all(len(faq.phrasings) == 3 for faq in few.faqs)
    assert [f.question for f in few.faqs] == [f.question for f in full.faqs]
    assert few.questions == full.questions


def test_no_asked_question_repeats_a_stored_phrasing() -> None:
    # Case and width variants normalise to one text; one group repeats another's phrasing.
    groups = {
        "a": [
            ("Reset password", None),
            ("reset  PASSWORD", None),
            ("forgot my password", None),
            ("cannot log in", None),
        ],
        "b": [("track order", None), ("where is my parcel", None)],
        "c": [("Reset password", None), ("refund please", None)],
        "d": [("change address", None), ("move delivery address", None)],
        "e": [("cancel order", None), ("stop my order", None)],
    }
    for seed in range(10):
        faq_set = split_groups("toy", groups, seed=seed)
        stored = {normalize(t) for faq in faq_set.faqs for t in faq.phrasings}
        assert all(normalize(q.text) not in stored for q in faq_set.questions)
        asked = [normalize(q.text) for q in faq_set.questions]
        assert len(asked) == len(set(asked))


def _scored(scores: list[float], predicted: list[int], gold: list[int | None]) -> dict:
    found = ColumnScores(np.array(scores), np.array(predicted), cpu_ms_per_ask=0.0)
    faq_set = FaqSet("toy", [], [Question(f"q{i}", g) for i, g in enumerate(gold)])
    return score(faq_set, found, seed=0)


def test_threshold_scoring_on_a_case_with_a_known_answer() -> None:
    # Right answers score 0.8-0.9, no-answer questions 0.1-0.2, one wrong answer 0.05: any
    # threshold tuned on either half lies between 0.2 and 0.8, so the held-out half is all
    # right except the low wrong answer, which is declined (counted as a miss, not wrong).
    gold: list[int | None] = [0, 1, 2, 3, 0, 1, None, None, None, None, 2, 3]
    predicted = [0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 2, 0]
    scores = [0.9, 0.85, 0.8, 0.82, 0.88, 0.86, 0.1, 0.2, 0.15, 0.12, 0.84, 0.05]
    result = _scored(scores, predicted, gold)
    assert result["top1"] == pytest.approx(7 / 8)
    assert result["accuracy"] == pytest.approx(11 / 12)  # each fold misses only that one
    assert result["answered_wrong"] == 0.0
    assert result["answered_right"] == pytest.approx(7 / 8, abs=1 / 8)
    assert 0.2 < result["threshold"] < 0.8


def test_first_start_accuracy_is_scored_at_the_threshold_the_store_was_left_with() -> None:
    gold: list[int | None] = [0, 1, 2, 3, 0, 1, None, None, None, None, 2, 3]
    predicted = np.array([0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 2, 0])
    scores = np.array([0.9, 0.85, 0.8, 0.82, 0.88, 0.86, 0.1, 0.2, 0.15, 0.12, 0.84, 0.05])
    faq_set = FaqSet("toy", [], [Question(f"q{i}", g) for i, g in enumerate(gold)])

    def at(threshold: float | None) -> dict[str, float | None]:
        found = ColumnScores(scores, predicted, 0.0, first_start_threshold=threshold)
        return score(faq_set, found, seed=0)

    # 0.5: every right answer but the 0.05 one, every no-answer question declined.
    assert at(0.5)["first_start_accuracy"] == pytest.approx(11 / 12)
    # 0.95 answers nothing: only the four no-answer questions are handled right.
    assert at(0.95)["first_start_accuracy"] == pytest.approx(4 / 12)
    assert at(0.95)["first_start_answered_wrong"] == 0.0
    assert at(0.11)["first_start_answered_wrong"] == pytest.approx(3 / 12)  # 0.12, 0.15, 0.2
    assert at(0.5)["first_start_threshold"] == 0.5
    assert "first_start_accuracy" not in at(None)  # a baseline column has no store


def _reference_fold(
    tune: list[int],
    test: list[int],
    scores: np.ndarray,
    predicted: np.ndarray,
    gold: list[int | None],
) -> tuple[float, float]:
    """Accuracy on `test` at the best-accuracy midpoint threshold of `tune`, by brute force."""

    def outcome(t: float, rows: list[int]) -> tuple[float, float]:
        right = sum(
            (gold[i] is None and scores[i] < t)
            or (gold[i] is not None and scores[i] >= t and predicted[i] == gold[i])
            for i in rows
        )
        wrong = sum(scores[i] >= t and predicted[i] != gold[i] for i in rows)
        return right / len(rows), wrong / len(rows)

    distinct = sorted({float(scores[i]) for i in tune})
    pairs = zip(distinct[:-1], distinct[1:], strict=True)
    candidates = [distinct[0] - 1e-3] + [(a + b) / 2 for a, b in pairs]
    candidates.append(distinct[-1] + 1e-3)
    best = max(candidates, key=lambda t: (outcome(t, tune)[0], -outcome(t, tune)[1], -t))
    return outcome(best, test)[0], best


def test_threshold_scoring_matches_a_brute_force_two_fold_reference() -> None:
    rng = np.random.default_rng(5)
    gold = [int(g) if g < 6 else None for g in rng.integers(0, 9, size=41)]
    predicted = np.where(rng.random(41) < 0.7, [g if g is not None else 0 for g in gold], 5)
    scores = np.round(rng.random(41), 2)  # ties on purpose
    result = _scored(list(scores), list(predicted), gold)
    order = np.random.default_rng(0).permutation(41)
    halves = (list(order[:20]), list(order[20:]))
    folds = [
        _reference_fold(halves[0], halves[1], scores, predicted, gold),
        _reference_fold(halves[1], halves[0], scores, predicted, gold),
    ]
    assert result["accuracy"] == pytest.approx(np.mean([a for a, _ in folds]))
    assert result["threshold"] == pytest.approx(np.mean([t for _, t in folds]))


def _write_fixture(folder: Path) -> None:
    # Each group's phrasings share a keyword no other group uses: easy, on purpose.
    topics = {
        "password": [
            "reset password",
            "password forgotten",
            "password change",
            "password reset link",
            "new password",
        ],
        "refund": ["refund please", "refund status", "refund money back", "want refund"],
        "parcel": ["track parcel", "parcel location", "parcel tracking number"],
        "address": ["change address", "address update", "address wrong"],
        "invoice": ["invoice download", "invoice copy", "send invoice"],
        "cancel": ["cancel purchase", "cancel now", "cancel it", "cancel request"],
        "account": ["delete account", "account closing", "account removal"],
        "voucher": ["voucher invalid", "voucher apply", "voucher broken"],
        "hours": ["opening hours"],
        "card": ["card payment", "card declined", "card failed"],
    }
    folder.mkdir(parents=True)
    lines = [f"{group}\t{text}" for group, texts in topics.items() for text in texts]
    (folder / "groups.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_the_command_runs_end_to_end_on_a_tiny_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_fixture(tmp_path / "tiny_en")
    recipe = faq_columns.scratch_train_config
    # The real from-scratch recipe, shrunk so that two trainings take seconds.
    monkeypatch.setattr(
        faq_columns,
        "scratch_train_config",
        lambda: dataclasses.replace(
            recipe(),
            encoder=dataclasses.replace(recipe().encoder, embedding_dim=32, hidden_size=32),
            min_steps=150,
        ),
    )
    code = samesay_main(
        [
            "bench",
            "faq",
            "--data",
            str(tmp_path / "tiny_en"),
            "--columns",
            "scratch,bm25",
            "--seeds",
            "0",
            "1",
            "--epochs",
            "8",
            "--no-progress",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "out" / "faq.json").read_text())
    entry = report["sets"]["tiny_en"]
    assert set(entry["seeds"]) == {"0", "1"}
    for run in entry["seeds"].values():
        assert run["faqs"] == 8 and run["counts"]["aside_groups"] == 2
        assert 0 < run["answerable"] < run["questions"]
        for column in ("scratch", "bm25"):
            metrics = run["columns"][column]
            for name in ("top1", "accuracy", "answered_right", "answered_wrong"):
                assert 0.0 <= metrics[name] <= 1.0
            assert metrics["cpu_ms_per_ask"] > 0
        assert run["columns"]["scratch"]["train_seconds"] > 0
        assert run["columns"]["bm25"]["train_seconds"] is None
        assert 0.0 <= run["columns"]["scratch"]["first_start_accuracy"] <= 1.0
        assert -1.0 <= run["columns"]["scratch"]["first_start_threshold"] <= 1.0
        assert run["columns"]["scratch"]["rehearsal_seconds"] > 0  # FAQs of 2-3 phrasings
        assert "first_start_accuracy" not in run["columns"]["bm25"]
        # Shared words make these paraphrases easy for BM25: a broken split or id mapping
        # (question asked against the wrong FAQ list) would drop it far below this.
        assert run["columns"]["bm25"]["top1"] >= 0.8
        assert run["columns"]["scratch"]["top1"] >= 0.5
    median = entry["median"]["bm25"]["top1"]
    seeds = [run["columns"]["bm25"]["top1"] for run in entry["seeds"].values()]
    assert median == pytest.approx(np.median(seeds))
    table = capsys.readouterr().out
    assert "| tiny_en | scratch | median |" in table and "| tiny_en | bm25 | 0 |" in table
    assert "shipped" not in table  # not asked for: no skip note either


@pytest.mark.slow
def test_shipped_starts_the_first_start_recipe_from_the_base(
    tmp_path: Path, tiny_encoder_path: Path
) -> None:
    _write_fixture(tmp_path / "tiny_en")
    overrides = {"epochs": 2, "min_steps": 0}
    context = faq_columns.ColumnContext(base=tiny_encoder_path, train_overrides=overrides)
    recipe = faq_columns._recipe("shipped", 1, context)
    assert recipe.init_from == str(tiny_encoder_path) and recipe.seed == 1
    assert faq_columns._recipe("scratch", 1, context).init_from is None
    config = FaqBenchConfig(
        data=(str(tmp_path / "tiny_en"),),
        columns=("shipped",),
        seeds=(0, 1),
        base=tiny_encoder_path,
        progress=False,
        train_overrides=overrides,
    )
    report = run_bench(config, tmp_path / "out")
    assert report["skipped"] == {}
    for seed in ("0", "1"):
        metrics = report["sets"]["tiny_en"]["seeds"][seed]["columns"]["shipped"]  # type: ignore[index]
        assert metrics["train_seconds"] > 0 and 0.0 <= metrics["accuracy"] <= 1.0


def test_shipped_runs_on_the_packaged_base_and_without_one_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = faq_columns.ColumnContext()
    assert faq_columns.skip_reason("shipped", context) is None  # the packaged base model
    monkeypatch.setattr(faq_columns, "shipped_base_path", lambda: None)  # a build without it
    assert "--base" in (faq_columns.skip_reason("shipped", context) or "")
    context.base = tmp_path
    assert faq_columns.skip_reason("shipped", context) is None
