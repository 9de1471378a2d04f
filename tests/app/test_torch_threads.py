"""A torch encoder handed to the app (the MiniLM baseline) encodes /ask questions with
Settings.torch_threads threads. torch keeps the count per thread, and a thread that used
torch before the service opened keeps what it had: the bench launcher's event loop built
MiniLM first, then ran every ask with all cores (29.6 ms of CPU a lone ask instead of ~17)."""

from __future__ import annotations

import numpy as np
import torch
from fastapi.testclient import TestClient

from app.main import create_app
from model.numpy_encoder import load_numpy_encoder


class ThreadCountingEncoder:
    """The tiny checkpoint, noting torch's thread count wherever it encodes a question."""

    def __init__(self, path) -> None:
        self._inner = load_numpy_encoder(path)
        self.dim, self.config = self._inner.dim, self._inner.config
        self.content_hash, self.lexical = self._inner.content_hash, self._inner.lexical
        self.faq_scoring = self._inner.faq_scoring
        self.seen: list[int] = []

    def encode(self, texts, batch_size: int = 256) -> np.ndarray:
        return self._inner.encode(texts, batch_size)

    def encode_one(self, text: str) -> np.ndarray:
        self.seen.append(torch.get_num_threads())
        return self._inner.encode_one(text)


def test_asks_encode_with_the_configured_torch_threads(settings, tiny_encoder_path) -> None:
    encoder = ThreadCountingEncoder(tiny_encoder_path)
    app = create_app(settings.model_copy(update={"torch_threads": 1}), encoder=encoder)

    async def loop_used_torch_first(scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # on the loop's thread, before the service opens
            torch.get_num_threads()
        await app(scope, receive, send)

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # what a thread that has not used torch yet starts with
    try:
        with TestClient(loop_used_torch_first) as client:
            for question in ("how do I reset my password", "where is my parcel"):
                assert client.post("/ask", json={"question": question}).status_code == 200
    finally:
        torch.set_num_threads(before)
    assert encoder.seen == [1, 1]
