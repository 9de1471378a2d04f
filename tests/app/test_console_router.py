"""The console's page and static files: security headers, content types, a fixed file list,
and nothing of it in the OpenAPI schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.console.router import CONTENT_SECURITY_POLICY


@pytest.fixture(scope="module")
def bare() -> TestClient:
    # The console needs no running service: no lifespan, so no model or store is loaded.
    from app.main import create_app

    return TestClient(create_app(), raise_server_exceptions=False)


STATIC = [
    ("app.js", "text/javascript; charset=utf-8"),
    ("api.js", "text/javascript; charset=utf-8"),
    ("page_unanswered.js", "text/javascript; charset=utf-8"),
    ("console.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
]


def _assert_locked_down(response) -> None:
    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in response.headers


def test_console_page_is_html_under_a_strict_policy(bare) -> None:
    response = bare.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    _assert_locked_down(response)
    html = response.text
    assert '<script type="module" src="/console/static/app.js"></script>' in html
    # Nothing the policy would block: no inline script body, no style attribute or element.
    assert "<script>" not in html and "style=" not in html and "<style" not in html


@pytest.mark.parametrize(("name", "content_type"), STATIC)
def test_static_files_have_their_content_type_and_headers(bare, name, content_type) -> None:
    response = bare.get(f"/console/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content
    _assert_locked_down(response)


@pytest.mark.parametrize(
    "path",
    ["/console/static/nope.js", "/console/static/..%2Fconsole%2Frouter.py",
     "/console/static/__init__.py", "/console/static/router.py"],
)
def test_only_the_listed_files_are_served(bare, path) -> None:
    response = bare.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_trailing_slash_redirects_and_the_schema_leaves_the_console_out(bare) -> None:
    response = bare.get("/console/", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/console"
    assert not [path for path in bare.get("/openapi.json").json()["paths"] if "console" in path]


def test_no_script_writes_markup_from_data() -> None:
    # The XSS rule, checked on the source: text goes in via textContent / text nodes only.
    from importlib import resources

    static = resources.files("app.console").joinpath("static")
    for item in static.iterdir():
        if item.name.endswith(".js"):
            source = item.read_text(encoding="utf-8")
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                         "eval(", "new Function"):
                assert sink not in source, f"{item.name} uses {sink}"
