"""Noisy copies of training phrasings (typos, dropped words) for the first-start model.

A few hundred hand-written phrasings are too few for the encoder to learn that "pasword",
"password?" and "reset password please" mean the same thing; seeded random copies with the
kinds of noise customers type teach that cheaply. Chinese text gets character-level noise
(dropped, doubled or swapped characters); Latin words get keyboard typos and word drops.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Neighbouring keys on a QWERTY keyboard: the substitutions real typos make.
_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    key: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in _QWERTY_ROWS
    for i, key in enumerate(row)
}
_HAN = re.compile(r"[\u4e00-\u9fff]")

# Interchangeable wordings in customer-service questions, written from general knowledge of
# how shoppers phrase things (not from the held-out test phrasings). A phrase in a group may
# be swapped for any other member; matching is on lower-cased text, whole words for English.
_SYNONYMS_EN: tuple[tuple[str, ...], ...] = (
    ("how do i", "how can i", "how to", "how should i", "what's the way to"),
    ("can i", "could i", "is it possible to", "am i able to"),
    ("i want to", "i'd like to", "i need to", "i wish to"),
    ("order", "purchase"),
    ("package", "parcel", "shipment", "delivery"),
    ("item", "product", "article", "thing"),
    ("items", "products", "things", "stuff"),
    ("cancel", "call off", "stop"),
    ("refund", "money back", "reimbursement"),
    ("account", "profile"),
    ("sign in", "log in", "login"),
    ("sign up", "register", "join"),
    ("email", "e-mail", "mail"),
    ("change", "update", "edit", "modify"),
    ("delete", "remove", "erase"),
    ("broken", "damaged", "smashed"),
    ("send back", "return"),
    ("shipping", "delivery", "postage"),
    ("cost", "price", "fee", "charge"),
    ("how much", "what is the cost of", "what's the price of"),
    ("get", "receive"),
    ("arrive", "come", "get here"),
    ("help", "assist"),
    ("please", "pls", "plz"),
    ("where is", "where's"),
    ("can't", "cannot", "can not", "cant"),
    ("don't", "do not", "dont"),
    ("wrong", "incorrect"),
    ("fast", "quick"),
)
_SYNONYMS_ZH: tuple[tuple[str, ...], ...] = (
    ("怎么", "如何", "怎样", "咋", "怎么样"),
    ("可以", "能", "能不能", "可不可以"),
    ("订单", "单子"),
    ("快递", "包裹", "物流"),
    ("商品", "东西", "宝贝", "货"),
    ("取消", "撤销"),
    ("修改", "更改", "改"),
    ("账号", "账户"),
    ("退款", "退钱"),
    ("收到", "拿到"),
    ("多久", "多长时间", "几天"),
    ("付款", "支付", "付钱"),
    ("请问", "你好", "麻烦问一下", "亲"),
    ("吗", "么"),
    ("我想", "我要", "想"),
    ("没有", "没"),
    ("什么时候", "啥时候", "何时"),
    ("为什么", "为啥"),
    ("手机号", "手机号码", "电话号码"),
    ("发货", "寄出"),
)
_TRAILING_PUNCTUATION = re.compile(r"[\s?!.。？！]+$")


@dataclass(frozen=True)
class AugmentConfig:
    # Noisy copies per phrasing: more beat fewer on demo held-out top-1 up to 8; 12 did not
    # beat 8 (one seed each). Each copy costs ~4 s of training on one core.
    copies: int = 8
    # Chance that a Latin word of 4+ letters gets one typo; ~1 typo per short question.
    typo_rate: float = 0.15
    # Chance that a word (or a Chinese character) is dropped; keyword-only queries.
    drop_rate: float = 0.1
    # Chance to strip or change final punctuation: customers rarely type "?".
    punctuation_rate: float = 0.5
    # Chance that a known phrase is swapped for a synonym: new wordings of the same request.
    synonym_rate: float = 0.5
    seed: int = 0


def _synonym_pattern(groups: tuple[tuple[str, ...], ...], whole_words: bool) -> re.Pattern[str]:
    phrases = sorted({p for group in groups for p in group}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?<![\w'])({body})(?![\w'])" if whole_words else f"({body})")


def _synonym_table(groups: tuple[tuple[str, ...], ...]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in groups:
        for phrase in group:
            table.setdefault(phrase, []).extend(p for p in group if p != phrase)
    return {phrase: tuple(others) for phrase, others in table.items()}


_EN_PATTERN = _synonym_pattern(_SYNONYMS_EN, whole_words=True)
_ZH_PATTERN = _synonym_pattern(_SYNONYMS_ZH, whole_words=False)
_EN_TABLE = _synonym_table(_SYNONYMS_EN)
_ZH_TABLE = _synonym_table(_SYNONYMS_ZH)


def _swap_synonyms(text: str, chinese: bool, config: AugmentConfig, rng: random.Random) -> str:
    pattern, table = (_ZH_PATTERN, _ZH_TABLE) if chinese else (_EN_PATTERN, _EN_TABLE)
    source = text if chinese else text.lower()

    def replace(match: re.Match[str]) -> str:
        if rng.random() >= config.synonym_rate:
            return match.group(0)
        return rng.choice(table[match.group(0)])

    return pattern.sub(replace, source)


def _typo(word: str, rng: random.Random) -> str:
    position = rng.randrange(len(word))
    kind = rng.randrange(4)
    if kind == 0:  # deleted letter
        return word[:position] + word[position + 1 :]
    if kind == 1 and position + 1 < len(word):  # swapped neighbours
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == 2:  # doubled letter
        return word[: position + 1] + word[position:]
    neighbours = _NEIGHBOURS.get(word[position].lower(), "")
    if not neighbours:
        return word
    return word[:position] + rng.choice(neighbours) + word[position + 1 :]


def _noisy_latin(text: str, config: AugmentConfig, rng: random.Random) -> str:
    words = text.split()
    kept = [w for w in words if len(words) < 3 or rng.random() >= config.drop_rate]
    kept = kept or words
    return " ".join(
        _typo(w, rng) if len(w) >= 4 and w.isalpha() and rng.random() < config.typo_rate else w
        for w in kept
    )


def _noisy_han(text: str, config: AugmentConfig, rng: random.Random) -> str:
    chars = list(text)
    out: list[str] = []
    for char in chars:
        if _HAN.match(char) and len(chars) >= 4 and rng.random() < config.drop_rate:
            continue
        out.append(char)
        if _HAN.match(char) and rng.random() < config.drop_rate / 4:
            out.append(char)  # doubled character, a common input-method slip
    if len(out) >= 3 and rng.random() < config.drop_rate:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return "".join(out) or text


def noisy_copy(text: str, config: AugmentConfig, rng: random.Random) -> str:
    """One noisy variant of `text` (may equal `text` when no noise was drawn)."""
    if rng.random() < config.punctuation_rate:
        text = _TRAILING_PUNCTUATION.sub("", text)
    chinese = bool(_HAN.search(text))
    text = _swap_synonyms(text, chinese, config, rng)
    if chinese:
        return _noisy_han(text, config, rng)
    return _noisy_latin(text, config, rng)


def augment_groups(
    groups: Sequence[Sequence[str]], config: AugmentConfig | None = None
) -> list[list[str]]:
    """Each group plus `copies` distinct noisy variants of each phrasing (seeded, repeatable)."""
    config = config or AugmentConfig()
    rng = random.Random(config.seed)
    augmented = []
    for group in groups:
        seen = set(group)
        out = list(group)
        for text in group:
            for _ in range(config.copies):
                variant = noisy_copy(text, config, rng)
                if variant.strip() and variant not in seen:
                    seen.add(variant)
                    out.append(variant)
        augmented.append(out)
    return augmented
