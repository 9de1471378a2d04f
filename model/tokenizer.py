"""Tokenizers: text → token positions, each position a bag of vocabulary piece ids.

Three kinds share one representation so the encoder never cares which is used:
- ``char``: the reference design — one position per character, one piece each (right for
  Chinese, weak for English words).
- ``subword``: fastText style — one position per word, pieces = the word itself plus its
  character 3–5-grams; the encoder averages the pieces' embeddings, so unseen or misspelt
  words still land near their known relatives.
- ``bilingual`` (default): CJK characters are single-piece positions, Latin-script words get
  subword pieces, other symbols (punctuation, emoji) are single-piece positions; mixed
  Chinese/English input is handled in one pass.

Id 0 is padding and id 1 is unknown. Empty input becomes one unknown position, so every text
has a valid encoding.

The two special ids are reserved slots, not pieces: the piece → id table only holds
vocabulary[2:], so no word can ever map to padding or unknown. (The word "pad" has the piece
"<pad>", which is just a piece like any other.) New vocabularies label the slots with
spellings that contain a NUL, which `normalize` always removes, so no piece can equal them;
vocabularies saved before this change label them "<pad>", "<unk>" and still load.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from model.errors import TokenizerError
from model.text import normalize

PAD_ID = 0
UNK_ID = 1
# Labels of the reserved slots 0 and 1; the NUL makes them impossible as pieces (pieces come
# from normalised text, which never contains a control character).
PAD, UNK = "\x00<pad>", "\x00<unk>"
SPECIALS = (PAD, UNK)
# How checkpoints written before the slots were reserved label them; accepted when loading.
LEGACY_SPECIALS = ("<pad>", "<unk>")

TokenizerKind = Literal["char", "subword", "bilingual"]

# CJK ideographs, kana and Hangul: written without spaces, one character carries a meaning.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff"
_BILINGUAL_SPLIT = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
_SUBWORD_SPLIT = re.compile(r"\w+|[^\w\s]")
# One CJK character (a single-piece position of the bilingual tokenizer).
CJK_CHAR = re.compile(rf"[{_CJK}]")
_CACHE_LIMIT = 200_000  # bounded token→ids cache: the service runs forever
# A position none of whose pieces is known.
UNKNOWN_POSITION = (UNK_ID,)


def _is_symbol(token: str) -> bool:
    """A lone punctuation mark, symbol or emoji: its own piece, and no word to read."""
    return len(token) == 1 and not token.isalnum()


@dataclass(frozen=True)
class TokenizerConfig:
    # bilingual: one tokenizer for Chinese, English and mixed FAQs.
    kind: TokenizerKind = "bilingual"
    # Positions kept per text: FAQ questions are short; 32 words covers >99.9 % of them.
    max_tokens: int = 32
    # Pieces kept per word (word + n-grams); bounds memory for very long words.
    max_pieces: int = 24
    # fastText's n-gram range: 3–5 character n-grams of "<word>".
    min_n: int = 3
    max_n: int = 5
    # Pieces seen fewer times are unknown; 2 drops one-off typos without losing FAQ words.
    min_count: int = 2


class Tokenizer:
    """Maps text to a (positions, pieces) id grid with a vocabulary counted from training data."""

    def __init__(self, config: TokenizerConfig, vocabulary: Sequence[str]) -> None:
        if config.kind not in ("char", "subword", "bilingual"):
            raise TokenizerError(f"unknown tokenizer kind {config.kind!r}")
        if not isinstance(vocabulary, Sequence) or isinstance(vocabulary, str):
            raise TokenizerError("vocabulary must be a list of strings")
        vocabulary = list(vocabulary)
        if tuple(vocabulary[:2]) not in (SPECIALS, LEGACY_SPECIALS):
            raise TokenizerError(
                "vocabulary must start with the padding and unknown slots "
                f"{list(SPECIALS)!r} (or, in older checkpoints, {list(LEGACY_SPECIALS)!r})"
            )
        if config.max_tokens < 1 or config.max_pieces < 1:
            raise TokenizerError("max_tokens and max_pieces must be at least 1")
        word_pieces = vocabulary[2:]
        if not all(isinstance(piece, str) and piece for piece in word_pieces):
            raise TokenizerError("vocabulary pieces must be non-empty strings")
        if any(piece in SPECIALS for piece in word_pieces):
            raise TokenizerError("vocabulary lists a special slot label as a piece")
        self.config = config
        self.vocabulary: list[str] = vocabulary
        # Pieces only: slots 0 and 1 are never looked up, whatever their label.
        self._ids = {piece: i for i, piece in enumerate(word_pieces, start=2)}
        if len(self._ids) != len(word_pieces):
            duplicates = sorted(p for p, n in Counter(word_pieces).items() if n > 1)[:5]
            raise TokenizerError(f"vocabulary has duplicate pieces: {duplicates!r}")
        self._cache: dict[str, tuple[int, ...]] = {}

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, texts: Iterable[str], config: TokenizerConfig | None = None) -> Tokenizer:
        """Count pieces over `texts`; keep those seen at least `min_count` times."""
        config = config or TokenizerConfig()
        probe = cls(config, [PAD, UNK])
        token_counts: Counter[str] = Counter()
        for text in texts:
            token_counts.update(probe.split(text))
        counts: Counter[str] = Counter()
        for token, n in token_counts.items():  # pieces once per distinct token: 10x faster
            for piece in probe.pieces(token):
                counts[piece] += n
        kept = sorted(
            (piece for piece, n in counts.items() if n >= config.min_count),
            key=lambda piece: (-counts[piece], piece),  # frequent first, deterministic
        )
        return cls(config, [PAD, UNK, *kept])

    def __len__(self) -> int:
        return len(self.vocabulary)

    @property
    def word_pieces(self) -> list[str]:
        """The pieces (vocabulary[2:], ids 2, 3, ...): everything but the special slots."""
        return self.vocabulary[2:]

    def piece_id(self, piece: str) -> int | None:
        """Id of a piece, None when unknown; never a special id."""
        return self._ids.get(piece)

    def to_dict(self) -> dict:
        return {"config": asdict(self.config), "vocabulary": self.vocabulary}

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        try:
            return cls(TokenizerConfig(**data["config"]), data["vocabulary"])
        except (KeyError, TypeError) as error:
            raise TokenizerError(f"invalid tokenizer description: {error}") from error

    # ---- splitting ------------------------------------------------------------------------
    def split(self, text: str) -> list[str]:
        """Normalised text → tokens (characters, words or symbols, depending on the kind)."""
        text = normalize(text)
        if self.config.kind == "char":
            tokens = list(text)
        elif self.config.kind == "subword":
            tokens = _SUBWORD_SPLIT.findall(text)
        else:
            tokens = _BILINGUAL_SPLIT.findall(text)
        return tokens[: self.config.max_tokens]

    def pieces(self, token: str) -> list[str]:
        """The vocabulary pieces of one token: itself, plus char n-grams for words."""
        if self.config.kind == "char" or _is_symbol(token):
            return [token]
        if self.config.kind == "bilingual" and CJK_CHAR.fullmatch(token):
            return [token]
        marked = f"<{token}>"
        out = [marked]
        seen = {marked}
        for n in range(self.config.min_n, self.config.max_n + 1):
            for start in range(len(marked) - n + 1):
                gram = marked[start : start + n]
                if gram not in seen:
                    seen.add(gram)
                    out.append(gram)
        return out

    def token_ids(self, token: str) -> tuple[int, ...]:
        """Known piece ids of a token (at most max_pieces); (UNK_ID,) when none is known."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        ids = [i for i in map(self._ids.get, self.pieces(token)) if i is not None]
        result = tuple(ids[: self.config.max_pieces]) or UNKNOWN_POSITION
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = result
        return result

    def encode_read(self, text: str) -> tuple[list[tuple[int, ...]], bool]:
        """`encode`, and whether some word of the text has a known piece. A text with none (a
        script the vocabulary never saw, emoji or punctuation alone, a code like "j1") is
        unknown tokens or symbols only, and all such texts encode to nearly the same vector:
        any two would score as paraphrases. The encoders give them a zero vector instead."""
        tokens = self.split(text)
        positions = [self.token_ids(token) for token in tokens]
        read = any(
            ids != UNKNOWN_POSITION and not _is_symbol(token)
            for token, ids in zip(tokens, positions, strict=True)
        )
        return positions or [UNKNOWN_POSITION], read

    def encode_read_many(
        self, texts: Sequence[str]
    ) -> tuple[list[list[tuple[int, ...]]], np.ndarray]:
        """`encode_read` of each text: the positions, and a bool mask of the texts read."""
        pairs = [self.encode_read(text) for text in texts]
        return [p for p, _ in pairs], np.fromiter((r for _, r in pairs), bool, len(pairs))

    def reads(self, text: str) -> bool:
        return self.encode_read(text)[1]

    def encode(self, text: str) -> list[tuple[int, ...]]:
        """One text → piece ids per position; never empty (empty text = one unknown)."""
        return [self.token_ids(token) for token in self.split(text)] or [(UNK_ID,)]

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Texts → (ids int64 (B, T, P) zero-padded, lengths int64 (B,))."""
        encoded = [self.encode(text) for text in texts]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        width = max((len(ids) for e in encoded for ids in e), default=1)
        ids = np.zeros((len(encoded), int(lengths.max(initial=1)), width), dtype=np.int64)
        for row, positions in enumerate(encoded):
            for col, piece_ids in enumerate(positions):
                ids[row, col, : len(piece_ids)] = piece_ids
        return ids, lengths
