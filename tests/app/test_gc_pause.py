"""freeze_long_lived: what is alive is frozen; garbage frozen earlier goes at the next call."""

from __future__ import annotations

import gc
import weakref

from app.gc_pause import freeze_long_lived


class Node:
    pass


def test_frozen_objects_skip_collections_until_the_next_freeze_collects_their_garbage() -> None:
    try:
        node = Node()
        node.itself = node  # a cycle: only the cyclic collector can free it
        alive = weakref.ref(node)
        freeze_long_lived()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None  # frozen: full collections do not walk it
        freeze_long_lived()  # e.g. after a model swap
        assert alive() is None  # unfrozen, collected, not leaked across swaps
    finally:
        gc.unfreeze()


def test_a_started_service_has_frozen_its_long_lived_objects(settings, make_client) -> None:
    gc.unfreeze()
    try:
        make_client(settings)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
