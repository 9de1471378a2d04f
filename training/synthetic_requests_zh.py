"""Synthetic Chinese requests for distillation, as training.synthetic_requests makes English
ones: the licence-clean Chinese text (crosswoz_user_zh, kdconv_zh) is about tourism, films
and music, so the student never reads 还款, 额度, 退货 or 发票 in a sentence. Sentences made
here carry the words of a general Chinese dictionary, and USE's vectors of them (computed at
build time) teach the student what those character sequences do to a sentence's meaning.

Words and segmentation come from jieba (MIT; the `teacher` extra, build time only): its
dictionary lists ~350k words with frequencies and part-of-speech tags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from training.synthetic_requests import synthetic_requests

# Question frames of the kind people type into a Chinese FAQ box; {} takes a random word.
FRAMES_ZH = (
    "{}怎么办？",
    "怎么{}？",
    "如何{}{}？",
    "可以{}吗？",
    "{}是什么意思？",
    "你们有{}吗？",
    "我想{}",
    "我的{}为什么{}了？",
    "{}需要多久？",
    "{}多少钱？",
    "在哪里可以{}？",
    "{}失败了怎么办",
    "怎么{}我的{}",
    "{}可以{}吗",
    "为什么不能{}？",
    "请问{}",
    "关于{}的问题",
    "{}有什么要求？",
    "{}找谁？",
    "{}收费吗？",
    "能不能帮我{}",
    "{}的流程是什么",
    "我要{}",
    "{}在哪里看？",
    "{}{}",
)

# jieba tags of content words: nouns (general, proper, place, organisation), verbs, verbal
# nouns, adjectives and set phrases. Person names (nr) would mostly teach names.
_CONTENT_TAGS = frozenset({"n", "nz", "ns", "nt", "v", "vn", "a", "an", "ad", "l"})
# Content-tagged words that carry a request's shape rather than its topic: never replaced.
_KEEP = frozenset(
    "可以 需要 知道 没有 告诉 推荐 帮忙 谢谢 喜欢 觉得 想要 希望 应该 能够 不能 是不是 "
    "有没有 可能 问题 时候 东西 事情 情况 办法 什么 怎么 为什么 好的".split()
)
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def chinese_words(limit: int = 40_000) -> list[str]:
    """The `limit` most frequent content words (2-4 CJK characters) of jieba's dictionary,
    most frequent first."""
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[2] in _CONTENT_TAGS and _CJK_WORD.match(parts[0]):
            rows.append((int(parts[1]), parts[0]))
    rows.sort(key=lambda row: -row[0])
    return list(dict.fromkeys(word for _, word in rows if word not in _KEEP))[:limit]


@lru_cache(maxsize=200_000)
def chinese_content_spans(sentence: str) -> list[tuple[int, int]]:
    """Where `sentence`'s content words are, by jieba's segmentation and tags."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)  # its dictionary-loading chatter would cut through the progress bar
    spans, start = [], 0
    for token in jieba.posseg.lcut(sentence):
        end = start + len(token.word)
        word = token.word
        if token.flag in _CONTENT_TAGS and _CJK_WORD.match(word) and word not in _KEEP:
            spans.append((start, end))
        start = end
    return spans


def synthetic_requests_zh(
    sentences: Sequence[str], words: Sequence[str], count: int, seed: int = 0
) -> list[str]:
    """`count` distinct Chinese sentences: real requests with a content word or two
    swapped, FAQ question frames and keyword bags (written without spaces, as people type
    them), from `words` most frequent first."""
    return synthetic_requests(
        sentences,
        words,
        count,
        seed,
        frames=FRAMES_ZH,
        content_spans=chinese_content_spans,
        joiner="",
    )
