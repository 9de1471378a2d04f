"""Synthetic Chinese requests: jieba's dictionary words put into real requests, Chinese FAQ
frames and keyword bags (jieba itself, as the base recipe uses it)."""

from __future__ import annotations

import re

from training.synthetic_requests_zh import (
    FRAMES_ZH,
    chinese_content_spans,
    chinese_words,
    synthetic_requests_zh,
)

SENTENCES = ["帮我订一张餐厅的桌子", "明天北京的天气怎么样", "放一首周杰伦的歌"]
WORDS = ["还款", "额度", "信用卡", "退货", "发票", "密码"]


def test_dictionary_words_are_chinese_content_words_most_frequent_first() -> None:
    words = chinese_words(limit=30_000)
    assert len(words) == 30_000 == len(set(words))
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", w) for w in words)
    # Words an FAQ set uses and the licence-clean requests never do.
    assert {"贷款", "利息", "密码", "账户", "信用卡"} <= set(words)
    # Shape words are kept out: they are what a replacement must leave alone.
    assert not {"可以", "什么", "怎么"} & set(words)
    assert words.index("公司") < words.index("信用卡")


def test_content_spans_are_the_topic_words_of_a_request() -> None:
    sentence = "明天北京的天气怎么样"
    spans = [sentence[a:b] for a, b in chinese_content_spans(sentence)]
    assert "天气" in spans and "北京" in spans
    assert "怎么样" not in spans and "的" not in spans


def test_count_distinct_seeded_and_every_sentence_carries_a_word() -> None:
    made = synthetic_requests_zh(SENTENCES, WORDS, 200, seed=3)
    assert len(made) == 200 == len(set(made))
    assert made == synthetic_requests_zh(SENTENCES, WORDS, 200, seed=3)
    assert made != synthetic_requests_zh(SENTENCES, WORDS, 200, seed=4)
    for text in made:
        assert any(w in text for w in WORDS), text
        assert "{}" not in text and " " not in text  # frames filled, bags written unspaced


def test_replacements_keep_the_request_shape() -> None:
    made = synthetic_requests_zh(SENTENCES, WORDS, 40, seed=1)
    replaced = [t for t in made if t.endswith("怎么样")]
    assert replaced and all(t.startswith("明天") or "的" in t for t in replaced)
    assert any(f.format(*["还款"] * f.count("{}")) in made for f in FRAMES_ZH)
