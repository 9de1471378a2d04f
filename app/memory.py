"""glibc malloc settings that let a serving worker hand freed memory back to the OS.

With glibc's defaults a worker kept memory it had freed: each thread that allocates (the
threadpool running FAQ writes, the index poller, the ask-log flusher) gets its own arena, up
to 8 per core, and freeing a large array raises the mmap threshold to its size (up to 32 MB),
so the next large arrays come from arenas, whose free space is rarely returned. Measured on
the bench flow (10,090 FAQs POSTed in batches of 1,000, then /ask at 32 clients; 2 workers,
NumPy encoder): 436 / 437 MB per worker with the defaults, 382 / 355 MB with 2 arenas, 292 /
296 MB with 2 arenas and a fixed 128 KiB mmap threshold. The fixed threshold is not free:
in alternating `bench service` runs (2 workers, 32 clients) it cost 10-20 % more CPU per
/ask than glibc's dynamic one (every large temporary becomes an mmap, a munmap and fresh
page faults), while 2 arenas alone cost nothing measurable. So only the arenas are on by
default (Settings.malloc_arena_max); the threshold is there for memory-bound deployments.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger("samesay.app")

# mallopt parameters, from glibc's <malloc.h>.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc(arena_max: int, mmap_threshold: int) -> bool:
    """Apply the settings (0 leaves one at glibc's default) for the rest of the process; False
    where the C library is not glibc (nothing changes there)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    for parameter, value in ((_M_ARENA_MAX, arena_max), (_M_MMAP_THRESHOLD, mmap_threshold)):
        if value and not mallopt(parameter, value):
            logger.warning("mallopt(%d, %d) was refused; glibc's default stays", parameter, value)
    return True
