"""The published contract, exact: request models' integer bounds, and each path's methods.

FastAPI passes component schemas through its own OpenAPI model, which types `minimum` and
`maximum` as float: 2**56 - 1 (the largest FAQ id) is published as 2**56. The request
models' components are therefore replaced by pydantic's own JSON schema of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from app.schemas import RequestModel


def _request_models(base: type[RequestModel] = RequestModel) -> Iterator[type[RequestModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _request_models(model)


def exact_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """A drop-in for `app.openapi` that publishes request models' bounds exactly."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            _, top = models_json_schema(
                [(model, "validation") for model in _request_models()],
                ref_template="#/components/schemas/{model}",
            )
            components = schema["components"]["schemas"]
            for name, definition in top.get("$defs", {}).items():
                if name in components:
                    components[name] = definition
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def allowed_methods(schema: dict[str, Any]) -> dict[str, str]:
    """Path template -> the `Allow` value listing every method the contract gives it.

    Starlette's own 405 names only the first route that matched the path (one per method).
    """
    return {
        path: ", ".join(sorted(method.upper() for method in operations))
        for path, operations in schema["paths"].items()
    }
