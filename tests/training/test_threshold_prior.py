"""A base's threshold prior, found by the base's content hash (the floor it puts under a
rehearsed threshold: tests/training/test_rehearsal.py)."""

from __future__ import annotations

from pathlib import Path

from model.base_model import shipped_base_path
from model.checkpoint_format import META_FILE, read_metadata
from training.threshold_prior import SHIPPED_BASE_PRIOR, ThresholdPrior, threshold_floor


def test_the_shipped_base_has_a_measured_prior() -> None:
    # A new base fails here until its prior is measured (training.threshold_prior).
    base = shipped_base_path()
    assert base is not None
    assert threshold_floor(base) == SHIPPED_BASE_PRIOR.threshold


def test_scratch_models_and_unknown_bases_get_no_floor(
    tiny_encoder_path: Path, tmp_path: Path
) -> None:
    assert threshold_floor(None) is None
    assert threshold_floor("") is None
    assert threshold_floor(tiny_encoder_path) is None
    assert threshold_floor(tmp_path / "missing") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / META_FILE).write_text("{not json", encoding="utf-8")
    assert threshold_floor(broken) is None


def test_a_prior_is_found_by_its_bases_content_hash(tiny_encoder_path: Path) -> None:
    content_hash = read_metadata(tiny_encoder_path)["content_hash"]
    mine = ThresholdPrior(content_hash, 0.5, "a test")
    assert threshold_floor(tiny_encoder_path, (SHIPPED_BASE_PRIOR, mine)) == 0.5
    other = ThresholdPrior(content_hash[::-1], 0.6, "another base")
    assert threshold_floor(tiny_encoder_path, (other,)) is None
