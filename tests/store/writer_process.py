"""A store writer run as a separate process by the tests: prints each acknowledged entry id.

Usage: python -m tests.store.writer_process URL TAG COUNT  (COUNT 0 = until killed)
"""

import sys

from store.entries import FaqDraft
from store.faq_store import FaqStore


def main(url: str, tag: str, count: int) -> None:
    store = FaqStore(url)
    step = 0
    while count == 0 or step < count:
        [entry] = store.add([FaqDraft(f"{tag} question {step}?", f"{tag} answer {step}")])
        # Printed only after add() returned, i.e. after the commit was acknowledged.
        print(entry.id, flush=True)
        step += 1
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
