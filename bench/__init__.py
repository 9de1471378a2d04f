"""Benchmark-only helpers (not installed with the package): baseline encoders and load tools."""
