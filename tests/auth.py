"""Test credentials made the real way: API keys through the CreateApiKey command (argon2 at a
low cost), bearer JWTs signed with the test identity provider's secret or RSA key."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import cache
from typing import Any

import httpx
import jwt
import redis.asyncio
import redis.exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.commands import CreateApiKey, IssuedKey
from domain.auth.permissions import ROLE_PERMISSIONS, Principal, PrincipalKind, Role
from visapi.asgi import create_app
from visapi.bootstrap import Container
from visapi.settings import Settings

JWT_SECRET = "test-identity-provider-secret-0123456789abcdef"
ISSUER = "https://idp.example.test/"
AUDIENCE = "visapi"


def with_auth(settings: Settings, **overrides: Any) -> Settings:
    """Settings with a low hash cost and the test identity provider (HS256)."""
    values: dict[str, Any] = {
        "api_key_hash_cost": "low",
        "jwt_secret": JWT_SECRET,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        **overrides,
    }
    return replace(settings, **values)


async def issue(container: Container, *scopes: str, name: str = "tests", **kw: Any) -> IssuedKey:
    issued: IssuedKey = await container.bus.handle(
        CreateApiKey(name=name, scopes=scopes, actor="tests", **kw)
    )
    return issued


async def key(container: Container, *scopes: str, name: str = "tests") -> str:
    """A full API key with these scopes (e.g. "admin")."""
    return (await issue(container, *scopes, name=name)).secret


def token(
    subject: str | None = None,
    email: str | None = None,
    *,
    expires_in: float = 3600,
    secret: str | Any = JWT_SECRET,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A bearer JWT of the test identity provider; claims override iss, aud, exp..."""
    subject = subject or f"sub-{uuid.uuid4().hex[:12]}"
    payload: dict[str, Any] = {
        "sub": subject,
        "email": email or f"{subject}@example.com",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": int(time.time() + expires_in),
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm)


def user(role: Role) -> Principal:
    """The caller a token of a user with `role` authenticates as (for schema-level tests)."""
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid4(),
        name=f"{role.value}@example.com",
        permissions=ROLE_PERMISSIONS[role],
        role=role,
    )


@cache
def rsa_keys() -> tuple[Any, str]:
    """(private key, public PEM) of a test RS256 identity provider."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()


@asynccontextmanager
async def running(
    settings: Settings, client: tuple[str, int] = ("127.0.0.1", 50000)
) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """The app with its lifespan running, and an HTTP client calling from `client` (ip, port).

    Drops the test's Redis namespace afterwards when there is one.
    """
    app = create_app(settings)
    transport = httpx.ASGITransport(app, client=client)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            yield app.state.container, http
    finally:
        if settings.redis_url:
            await drop_namespace(settings.redis_url, settings.redis_namespace)


async def drop_namespace(url: str, namespace: str) -> None:
    client = redis.asyncio.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    except redis.exceptions.ConnectionError:
        pass  # a test stopped this Redis on purpose: nothing is left to drop
    finally:
        await client.aclose()


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json().get("errors") or []
    return errors


def codes(response: httpx.Response) -> list[str]:
    return [str(e["extensions"]["code"]) for e in errors_of(response)]
