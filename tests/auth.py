"""Test credentials made the real way: API keys through the CreateApiKey command (argon2 at a
low cost), bearer JWTs signed with the test identity provider's secret or RSA key."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.commands import CreateApiKey, IssuedKey
from app.main.bootstrap import Container
from app.main.settings import Settings

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


@cache
def rsa_keys() -> tuple[Any, str]:
    """(private key, public PEM) of a test RS256 identity provider."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()
