"""Noisy copies for first-start training: seeded, original phrasings kept, realistic noise."""

from __future__ import annotations

import random

from training.augment import AugmentConfig, augment_groups, noisy_copy

GROUPS = [
    ["How do I cancel my order?", "cancel order", "stop my order"],
    ["怎么查看物流信息？", "查物流", "我的快递到哪了"],
]


def test_same_seed_same_copies_and_originals_come_first() -> None:
    first = augment_groups(GROUPS, AugmentConfig(copies=4, seed=3))
    again = augment_groups(GROUPS, AugmentConfig(copies=4, seed=3))
    other = augment_groups(GROUPS, AugmentConfig(copies=4, seed=4))
    assert first == again
    assert first != other
    for original, augmented in zip(GROUPS, first, strict=True):
        assert augmented[: len(original)] == original
        assert len(augmented) == len(set(augmented))  # no duplicate variants
        assert len(original) < len(augmented) <= len(original) * 5


def test_no_noise_configured_means_no_new_phrasings() -> None:
    quiet = AugmentConfig(copies=3, typo_rate=0, drop_rate=0, punctuation_rate=0, synonym_rate=0)
    # English is lower-cased by the synonym pass, which is how the tokenizer sees it anyway.
    assert augment_groups([["cancel order", "查物流"]], quiet) == [["cancel order", "查物流"]]


def test_synonyms_and_typos_produce_what_customers_type() -> None:
    rng = random.Random(0)
    config = AugmentConfig(synonym_rate=1.0, typo_rate=0.0, drop_rate=0.0, punctuation_rate=1.0)
    variants = {noisy_copy("How do I cancel my order?", config, rng) for _ in range(50)}
    # Every phrase of a synonym group is swapped: "how do i" and "order" always change.
    assert all(not v.startswith("how do i ") and "order" not in v.split() for v in variants)
    assert any("purchase" in v for v in variants)
    assert all(not v.endswith("?") for v in variants)

    typo_config = AugmentConfig(synonym_rate=0.0, typo_rate=1.0, drop_rate=0.0)
    typos = [noisy_copy("password", typo_config, rng) for _ in range(50)]
    assert sum(t != "password" for t in typos) >= 40
    assert all(abs(len(t) - len("password")) <= 1 for t in typos)


def test_chinese_noise_stays_chinese_and_close_to_the_original() -> None:
    rng = random.Random(1)
    config = AugmentConfig(drop_rate=0.3, synonym_rate=0.0)
    text = "下单后多久能收到货"
    for _ in range(50):
        variant = noisy_copy(text, config, rng)
        assert variant
        assert set(variant) <= set(text)  # only drops, doubles and swaps of its characters
