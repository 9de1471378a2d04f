"""Typed errors of the index package; every message says what went wrong and what to run.

Tree:
    FaqIndexError                 base of everything raised by `index/`
    ├── IndexFileError            the files on disk cannot be used (start-up rebuilds)
    │   ├── IndexMissingError     no sidecar or no index file
    │   ├── IndexCorruptError     truncated, checksum mismatch, unreadable, wrong structure
    │   └── IndexMismatchError    built for another encoder, dimension or store
    ├── IndexInputError           bad argument (vector shape, dtype, phrasing count, k)
    └── SwapInProgressError       an encoder swap is already running
"""

from __future__ import annotations

REBUILD_HINT = "run `samesay index build` to rebuild it from the store"


class FaqIndexError(Exception):
    """Base of all errors raised by the index package."""


class IndexFileError(FaqIndexError):
    """The persisted index cannot be used as it is; rebuilding from the store fixes it."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"index at {path}: {problem}; {REBUILD_HINT}")


class IndexMissingError(IndexFileError):
    """No persisted index (first start, or files removed)."""


class IndexCorruptError(IndexFileError):
    """Truncated or corrupt index file or sidecar."""


class IndexMismatchError(IndexFileError):
    """The persisted index belongs to another encoder, dimension or store."""


class IndexInputError(FaqIndexError, ValueError):
    """A caller passed something the index cannot take (shape, dtype, too many phrasings)."""


class SwapInProgressError(FaqIndexError):
    """Only one encoder swap runs at a time; wait for the running one to finish."""

    def __init__(self) -> None:
        super().__init__("an encoder swap is already running; wait for it to finish")
