"""Credentials as callers send them: the `X-API-Key` and `Authorization` headers of an HTTP
request, or the same names in a WebSocket's `connection_init` payload."""

from __future__ import annotations

from collections.abc import Mapping

from app.auth.authenticate import Credential, CredentialKind
from app.errors import Unauthenticated

MAX_CREDENTIAL = 4096


def credential_of(headers: dict[bytes, bytes]) -> Credential | None:
    """`X-API-Key`, else `Authorization: Bearer …` (a JWT when it has a JWT's three parts).

    None without either header; Unauthenticated for a header that cannot be a credential.
    """
    raw = headers.get(b"x-api-key")
    if raw is not None:
        return Credential(CredentialKind.API_KEY, _text(raw))
    raw = headers.get(b"authorization")
    if raw is None:
        return None
    scheme, _, value = _text(raw).partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthenticated("Authorization must be `Bearer <API key or token>`")
    is_jwt = value.count(".") == 2 and value.startswith("eyJ")  # base64url of '{"'
    return Credential(CredentialKind.TOKEN if is_jwt else CredentialKind.API_KEY, value)


def _text(raw: bytes) -> str:
    if not raw.strip() or len(raw) > MAX_CREDENTIAL or not raw.isascii():
        raise Unauthenticated("malformed credentials")
    return raw.decode("ascii").strip()


def params_credential(params: Mapping[str, object]) -> Credential | None:
    """The credential of a WebSocket's `connection_init` payload: `X-API-Key` or
    `Authorization` (any case), at its top level or under `headers` as some clients send them.
    None without either; Unauthenticated for a value that cannot be a credential."""
    found: dict[bytes, bytes] = {}
    nested = params.get("headers")
    for source in (nested if isinstance(nested, Mapping) else {}, params):
        for name, value in source.items():
            key = str(name).lower()
            if key not in ("x-api-key", "authorization"):
                continue
            if not isinstance(value, str):
                raise Unauthenticated(f"`{name}` in connection_init must be a string")
            found[key.encode()] = value.encode("utf-8", "surrogatepass")
    return credential_of(found)
