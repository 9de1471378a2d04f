"""English sentences from WordNet 3.0 for the base's distillation: each synset's definition,
led by up to three of its words ("porch: a structure attached to the exterior of a building
often forming a covered entrance"), and its quoted usage examples.

Why: the licence-clean English requests (sgd_user_en) cover 20 assistant domains, and the
synthetic requests only swap random words into their frames. WordNet's 166k sentences tie
~150k English words to what they mean, in natural sentences. Distilled from MiniLM they
moved the base's English zero-shot top-1 by +1.8 to +5.5 points in 1-epoch probes, by about
one point in the full recipe, and fine-tuned bases not at all (docs/quality.md, "WordNet's
definitions for the base"): an option of the base recipe, off.

Licence: WordNet 3.0 licence (Princeton University), which allows derived works provided its
notice goes with them (`WORDNET_NOTICE`). Read from Debian's `wordnet-base` package
(`apt-get install wordnet-base`): a build-time input, like the teacher packages, never
needed to serve.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from training.errors import TrainingError

WORDNET_DIR = Path("/usr/share/wordnet")
PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
WORDNET_NOTICE = (
    "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
    'THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO '
    "REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED."
)
# Usage examples are the gloss's double-quoted parts; shorter ones are fragments ("a big").
_EXAMPLE = re.compile(r'"([^"]{8,})"')
# Adjective markers: "big(a)" -> "big".
_MARKER = re.compile(r"\([a-z]+\)$")
# The sample drawn when fewer than all sentences are asked for: fixed, not the recipe's
# seed, so that every seed's build reads the same teacher cache.
_SAMPLE_SEED = 0


def wordnet_sentences(folder: Path = WORDNET_DIR, limit: int | None = None) -> list[str]:
    """Definitions and usage examples of every synset in `folder`'s data.* files, each once;
    file order, or a fixed random `limit` of them."""
    missing = [p for p in PARTS_OF_SPEECH if not (folder / f"data.{p}").is_file()]
    if missing:
        raise TrainingError(
            f"WordNet's data.{missing[0]} is not in {folder}: apt-get install wordnet-base "
            "(or set the recipe's wordnet_en to 0)"
        )
    sentences: list[str] = []
    for part in PARTS_OF_SPEECH:
        text = (folder / f"data.{part}").read_text(encoding="utf-8")
        for line in text.splitlines():
            sentences += _synset_sentences(line)
    unique = list(dict.fromkeys(sentences))
    if limit is not None and limit < len(unique):
        picked = sorted(random.Random(_SAMPLE_SEED).sample(range(len(unique)), limit))
        unique = [unique[i] for i in picked]
    return unique


def _synset_sentences(line: str) -> list[str]:
    """One data.* line (wndb(5WN): offset, lex file, type, word count in hex, word / lex id
    pairs, pointers, '|' gloss) → its definition with its words, and its examples."""
    if line.startswith(" ") or " | " not in line:  # the licence header; malformed lines
        return []
    fields, gloss = line.split(" | ", 1)
    columns = fields.split()
    try:
        count = int(columns[3], 16)
    except (IndexError, ValueError):
        return []
    words = [_MARKER.sub("", w).replace("_", " ") for w in columns[4 : 4 + 2 * count : 2]]
    definition = gloss.split(";", 1)[0].strip().strip('"').strip()
    sentences = [f"{', '.join(words[:3])}: {definition}"] if definition and words else []
    return sentences + [m.strip() for m in _EXAMPLE.findall(gloss)]
