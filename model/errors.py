"""Typed errors raised by the model package (the app maps them to stable messages).

ModelError
 ├── CheckpointError   a checkpoint directory is missing, corrupt or was tampered with
 └── TokenizerError    a tokenizer was built or loaded with an invalid description
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error raised by `model`."""


class CheckpointError(ModelError):
    """A checkpoint cannot be loaded; the message says what is wrong and what to run."""


class TokenizerError(ModelError):
    """A tokenizer description (kind, vocabulary) is invalid."""
