"""Which of the optional C extensions (setup.py) this install has: /ask's hot loops run in
NumPy without them, slower, so the service says so at start."""

from __future__ import annotations

from model import fast_path, lexical


def missing_extensions() -> list[str]:
    """Module names of the extensions that are not built (empty when all are)."""
    built = {
        "model._gru_scan": fast_path.native_scan,
        "model._lexical_dots": lexical.native_dots,
    }
    return [name for name, module in built.items() if module is None]
