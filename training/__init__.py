"""Offline training of the encoder: data readers, the trainer and the evaluation protocols."""
