"""Argon2id hashing of API key secrets (argon2-cffi), at the library's default cost."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# `low` exists for test suites, which hash hundreds of keys: the cheapest argon2id that still
# produces a real, verifiable hash. Production keeps argon2-cffi's default (RFC 9106 low memory).
COSTS = ("default", "low")


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
