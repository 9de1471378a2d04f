"""Bearer API keys: constant-time comparison on bytes; never a 500 on a strange header."""

from __future__ import annotations

import hmac

from app.errors import ApiError

_SET_KEYS_HINT = (
    "no API keys are configured, so writes and admin routes are disabled: set "
    "SAMESAY_API_KEYS=key1,key2 (or start with `samesay serve`, which generates a key "
    "for local use on first start)"
)
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="samesay"'}


class ApiKeyChecker:
    def __init__(self, keys: list[str]) -> None:
        # Compared as bytes: hmac.compare_digest on str refuses non-ASCII with a TypeError.
        self._keys = [key.encode("utf-8") for key in keys if key]

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def matches(self, presented: bytes) -> bool:
        # Check every key (no early exit) so timing does not reveal which one was close.
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(presented, key)
        return found

    def require(self, authorization: str | None) -> None:
        """Raise ApiError 401/403 unless `authorization` is `Bearer <a configured key>`."""
        if not self._keys:
            raise ApiError(403, "writes_disabled", _SET_KEYS_HINT)
        if not authorization:
            raise ApiError(401, "unauthorized", "missing API key: send "
                           "'Authorization: Bearer <key>'", headers=_BEARER_CHALLENGE)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        # Starlette decodes headers as latin-1; anything non-ASCII cannot be one of our keys.
        if scheme.lower() != "bearer" or not token or not token.isascii():
            raise ApiError(401, "unauthorized", "invalid API key", headers=_BEARER_CHALLENGE)
        if not self.matches(token.encode("ascii")):
            raise ApiError(401, "unauthorized", "invalid API key", headers=_BEARER_CHALLENGE)
