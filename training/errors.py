"""Typed errors raised by `training` (bad training data or dataset files)."""

from __future__ import annotations


class TrainingError(ValueError):
    """The training input cannot produce an encoder (e.g. fewer than two usable groups)."""


class DatasetError(ValueError):
    """A dataset file or folder is missing or not in a format the readers understand."""
