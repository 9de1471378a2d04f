"""A serving process never imports torch (~180 MB per worker): the app loads its checkpoint into
the NumPy encoder, and only a retrain imports the trainer. Checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.conftest import AUTH, make_settings

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import sys
import time
from fastapi.testclient import TestClient
from app.config import Settings
from app.main import create_app

settings = Settings.model_validate_json(sys.argv[1])
with TestClient(create_app(settings)) as client:
    auth = {"Authorization": sys.argv[2]}
    body = {"items": [{"question": "reset my password", "answer": "a"},
                      {"question": "where is my order", "answer": "b"}]}
    assert client.post("/faq", json=body, headers=auth).status_code in (200, 201)
    response = client.post("/ask", json={"question": "how do I reset my password"})
    assert response.status_code == 200, response.text
    assert response.json()["matches"], response.text
    if sys.argv[3] == "retrain":  # trains in a child process: the worker stays torch-free
        before = client.get("/readyz").json()["model_version"]
        assert client.post("/admin/retrain", headers=auth).status_code == 202
        while (status := client.get("/admin/retrain", headers=auth).json())["state"] == "running":
            time.sleep(0.2)
        assert status["state"] == "succeeded", status
        assert client.get("/readyz").json()["model_version"] not in (before, None)
        response = client.post("/ask", json={"question": "where is my order"})
        assert response.json()["matches"][0]["answer"] == "b", response.text
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


@pytest.mark.parametrize("then", ["ask", "retrain"])
def test_serving_does_not_import_torch(tmp_path, tiny_encoder_path, then: str):
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}",
                             tiny_encoder_path)
    result = subprocess.run(
        [sys.executable, "-c", SERVE, settings.model_dump_json(), AUTH["Authorization"], then],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
