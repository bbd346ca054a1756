"""Credential verification: argon2id for API key secrets (argon2-cffi), bearer JWTs (PyJWT)."""

from __future__ import annotations

from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app.auth.ports import Claims, InvalidToken

# `low` exists for test suites, which hash hundreds of keys: the cheapest argon2id that still
# produces a real, verifiable hash. Production keeps argon2-cffi's default (RFC 9106 low memory).
COSTS = ("default", "low")
# Clock skew tolerated between the identity provider and us on exp/nbf/iat.
LEEWAY_S = 30.0


class Argon2Hasher:
    def __init__(self, cost: str = "default") -> None:
        if cost not in COSTS:
            raise ValueError(f"unknown hash cost {cost!r}; use one of {', '.join(COSTS)}")
        self._hasher = (
            PasswordHasher()
            if cost == "default"
            else PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16)
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False


def load_public_key(pem: str) -> RSAPublicKey:
    """An RSA public key from PEM text (`\\n` escapes allowed, for one-line env values)."""
    key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the JWT public key is not an RSA key")
    return key


class JwtTokens:
    """Accepts exactly one algorithm, so an RS256 deployment cannot be fed HS256 tokens signed
    with its public key (the classic algorithm confusion)."""

    def __init__(
        self, *, key: str | RSAPublicKey, algorithm: str, issuer: str, audience: str
    ) -> None:
        if algorithm not in ("HS256", "RS256"):
            raise ValueError(f"unsupported JWT algorithm {algorithm}")
        self._key = key
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Claims:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("token signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token has no {exc.claim} claim") from None
        except jwt.PyJWTError:
            raise InvalidToken("malformed or unacceptable token") from None
        subject, email = claims.get("sub"), claims.get("email")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("token has no sub claim")
        if not isinstance(email, str) or not email:
            raise InvalidToken("token has no email claim")
        return Claims(subject=subject, email=email)


class NoTokens:
    """No JWT key configured: every bearer token is refused (with a reason the caller can fix)."""

    def verify(self, token: str) -> Claims:
        raise InvalidToken("bearer tokens are not accepted here: no JWT key is configured")
