"""Child process for the cross-process read-your-write test.

argv: database URL, checkpoint dir, index dir. Starts a searcher, prints "ready", then for
each stdin line (a query) prints the top-1 FAQ id before and after `catch_up()` as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from index.searcher import FaqSearcher
from model.checkpoint import load_encoder
from store.faq_store import FaqStore


def main() -> None:
    url, model_dir, index_dir = sys.argv[1:4]
    store = FaqStore(url)
    searcher = FaqSearcher(store, load_encoder(Path(model_dir)), Path(index_dir))
    searcher.start()
    print("ready", flush=True)
    for line in sys.stdin:
        query = line.strip()
        before = searcher.search(query, 1)
        searcher.catch_up()
        after = searcher.search(query, 1)
        print(
            json.dumps(
                {
                    "before": before[0].faq_id if before else None,
                    "after": after[0].faq_id if after else None,
                    "question": after[0].question if after else None,
                }
            ),
            flush=True,
        )
    store.close()


if __name__ == "__main__":
    main()
