"""Sentence encoder: tokenizers, the GRU encoder, margin losses and self-describing checkpoints."""
