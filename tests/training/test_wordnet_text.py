"""WordNet's data files → definition and example sentences (training.wordnet_text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.wordnet import write_tiny_wordnet
from training.errors import TrainingError
from training.wordnet_text import wordnet_sentences


@pytest.fixture
def wordnet_dir(tmp_path: Path) -> Path:
    return write_tiny_wordnet(tmp_path / "wordnet")


def test_definitions_lead_with_their_words_and_examples_follow(wordnet_dir: Path) -> None:
    assert wordnet_sentences(wordnet_dir) == [
        "porch, stoop: a structure attached to the exterior of a building often forming a "
        "covered entrance",
        "she waited on the porch",
        "steal: take without the owner's consent",
        "Someone stole my wallet on the train",
        "big, heavy: prodigious",  # the (a) markers go; "big spender" is an example too
        "big spender",
        "big eater",
        "heavy investor",
        "able: having the necessary means",
    ]  # the header, the fragment "go", the bad line and the repeated example are left out


def test_a_limit_takes_a_fixed_sample_in_file_order(wordnet_dir: Path) -> None:
    every = wordnet_sentences(wordnet_dir)
    sample = wordnet_sentences(wordnet_dir, limit=4)
    assert len(sample) == 4 and sample == wordnet_sentences(wordnet_dir, limit=4)
    assert sample == sorted(sample, key=every.index)
    assert wordnet_sentences(wordnet_dir, limit=100) == every


def test_a_missing_wordnet_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="apt-get install wordnet-base"):
        wordnet_sentences(tmp_path)
