"""Print a POST /admin/threshold/tune body built from the demo's held-out and unanswerable sets.

    python -m bench.tuning_examples [--url http://127.0.0.1:8000] [--objective accuracy]
        [--target 0.95] [--apply] [--key KEY] > tune.json

Held-out phrasings (never imported or trained on) are labelled with the id their FAQ has on
the running server, found through GET /faq; unanswerable questions are labelled null.
"""

from __future__ import annotations

import argparse
import json
import sys

import httpx

from app.demo import LANGUAGES, load_faqs, load_unanswerable
from store.entries import FaqDraft


def server_question_ids(client: httpx.Client) -> dict[str, int]:
    """question → id for every FAQ on the server (GET /faq, page by page)."""
    ids: dict[str, int] = {}
    after_id: int | None = None
    while True:
        params = {"limit": 100} | ({"after_id": after_id} if after_id is not None else {})
        response = client.get("/faq", params=params)
        response.raise_for_status()
        page = response.json()
        ids.update({item["question"]: item["id"] for item in page["items"]})
        after_id = page["next_after_id"]
        if after_id is None:
            return ids


def tuning_body(
    question_ids: dict[str, int], objective: str, target: float | None, apply: bool
) -> dict[str, object]:
    examples: list[dict[str, object]] = []
    for language in LANGUAGES:
        faqs = load_faqs(language)
        # The server stores text NFKC-normalised and trimmed, like a FaqDraft.
        ids = [question_ids.get(FaqDraft(f.question, f.answer).question) for f in faqs]
        if any(faq_id is None for faq_id in ids):
            print(f"skipping {language}: its demo FAQs are not all on the server", file=sys.stderr)
            continue
        for faq, faq_id in zip(faqs, ids, strict=True):
            examples += [{"question": text, "faq_id": faq_id} for text in faq.heldout]
        examples += [{"question": q.question, "faq_id": None} for q in load_unanswerable(language)]
    body: dict[str, object] = {"examples": examples, "objective": objective, "apply": apply}
    if target is not None:
        body["target"] = target
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--objective", default="accuracy", choices=["accuracy", "f1", "precision"])
    parser.add_argument("--target", type=float, help="precision target, e.g. 0.95")
    parser.add_argument("--apply", action="store_true", help="set the recommended threshold")
    parser.add_argument("--key", help="API key, needed only when /faq reads require one")
    args = parser.parse_args()
    if args.target is not None and args.objective != "precision":
        parser.error("--target applies only to --objective precision")  # the API refuses it
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
        body = tuning_body(server_question_ids(client), args.objective, args.target, args.apply)
    if not body["examples"]:
        raise SystemExit("no demo FAQs on the server: nothing to build tuning examples from")
    json.dump(body, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
