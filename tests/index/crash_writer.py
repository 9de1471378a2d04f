"""Child process for the crash-safety test: writes FAQ entries and saves the index, forever.

argv: database URL, checkpoint dir, index dir, first sequence number. Prints "ready" once
started, "ack <id>" after each acknowledged add, "deleting <id>" before and "del <id>" after
each acknowledged delete,
and "save" / "saved" around each index save. The parent SIGKILLs it at some point.
"""

from __future__ import annotations

import sys
from pathlib import Path

from index.searcher import FaqSearcher
from model.checkpoint import load_encoder
from store.entries import FaqDraft
from store.faq_store import FaqStore


def main() -> None:
    url, model_dir, index_dir, first = sys.argv[1:5]
    store = FaqStore(url)
    searcher = FaqSearcher(store, load_encoder(Path(model_dir)), Path(index_dir))
    searcher.start()
    print("ready", flush=True)
    mine: list[int] = []
    number = int(first)
    while True:
        alternates = tuple(f"alternate {j} of crash question {number}" for j in range(number % 4))
        [entry] = store.add(
            [FaqDraft(f"crash question {number} on topic {number % 7}", f"answer {number}",
                      alternates)]
        )
        print(f"ack {entry.id}", flush=True)
        mine.append(entry.id)
        if number % 5 == 4:
            victim = mine.pop(0)
            # Announced first: a kill between the commit and "del" leaves it deleted, unacked.
            print(f"deleting {victim}", flush=True)
            store.delete(victim)
            print(f"del {victim}", flush=True)
        searcher.catch_up()
        if number % 2 == 0:
            print("save", flush=True)
            searcher.save()
            print("saved", flush=True)
        number += 1


if __name__ == "__main__":
    main()
