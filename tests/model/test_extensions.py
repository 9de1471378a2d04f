"""model.extensions: which optional C extensions are missing (the service warns at start)."""

from model import fast_path, lexical
from model.extensions import missing_extensions


def test_names_each_extension_that_is_not_built(monkeypatch) -> None:
    monkeypatch.setattr(fast_path, "native_scan", object())
    monkeypatch.setattr(lexical, "native_dots", None)
    assert missing_extensions() == ["model._lexical_dots"]
    monkeypatch.setattr(fast_path, "native_scan", None)
    assert missing_extensions() == ["model._gru_scan", "model._lexical_dots"]
    monkeypatch.setattr(lexical, "native_dots", object())
    monkeypatch.setattr(fast_path, "native_scan", object())
    assert missing_extensions() == []
