"""CORS: off by default; only the configured origins when set."""

from __future__ import annotations

from tests.app.conftest import make_settings

PREFLIGHT = {"Origin": "https://help.example.com", "Access-Control-Request-Method": "POST"}


def test_no_cors_headers_by_default(client) -> None:
    response = client.post("/ask", json={"question": "hi"}, headers={"Origin": PREFLIGHT["Origin"]})
    assert "access-control-allow-origin" not in response.headers


def test_configured_origin_only(tmp_path, database_url, tiny_encoder_path, make_client) -> None:
    client = make_client(make_settings(tmp_path / "cors", database_url, tiny_encoder_path,
                                       cors_origins=["https://help.example.com"]))
    allowed = client.options("/ask", headers=PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://help.example.com"
    assert "x-request-id" in allowed.headers
    other = client.options("/ask", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert other.status_code == 400
    assert other.json()["error"]["code"] == "cors_refused"
    assert "access-control-allow-origin" not in other.headers
