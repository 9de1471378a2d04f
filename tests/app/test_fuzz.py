"""Property-based fuzzing of the OpenAPI schema (schemathesis): 0 server errors.

Positive (schema-valid) and negative (schema-violating) cases for every operation, sent
with a valid API key so they reach the handlers, against the real app on both backends.
The example count is bounded for CI; raise SAMESAY_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from app.schemas import ErrorBody
from tests.app.conftest import AUTH, faq_body
from tests.fixtures.model_fixtures import tiny_train_config

EXAMPLES = int(os.environ.get("SAMESAY_FUZZ_EXAMPLES", "120"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_never_get_a_server_error(
    settings, make_client, faq_groups, mode
) -> None:
    # A retrain the fuzzer starts must stay short: one epoch, a few seconds at most.
    client = make_client(settings, train_config=tiny_train_config(epochs=1,
                                                                  max_train_seconds=5))
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    failures: list[str] = []

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=schema.as_strategy(mode, headers=dict(AUTH)))
    def run(case) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        content = None
        if "json" in kwargs:
            # NaN/Infinity literals are part of the abuse; ensure_ascii keeps surrogates sendable.
            content = json.dumps(kwargs["json"], allow_nan=True).encode()
        elif isinstance(kwargs.get("data"), bytes | str):
            content = kwargs["data"]
        try:
            response = client.request(
                kwargs["method"],
                kwargs["url"],
                headers=kwargs.get("headers"),
                params=kwargs.get("params"),
                content=content,
            )
        except (httpx.InvalidURL, httpx.LocalProtocolError, ValueError, UnicodeError):
            assume(False)  # httpx cannot even send it: not a request the server can see
            return
        if response.status_code >= 500:
            failures.append(f"{kwargs['method']} {kwargs['url']} -> {response.status_code}: "
                            f"{response.text[:200]}")
        elif response.status_code >= 400:
            ErrorBody.model_validate(response.json())  # the documented error body

    run()
    client.app.state.service.retrainer.join(timeout=60)
    assert not failures, "\n".join(failures[:20])
