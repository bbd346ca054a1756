"""Credential checks with in-memory ports: keys verified once per cache entry, tokens to users,
and refusals that say why without echoing the credential."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from app.auth.authenticate import (
    check_key,
    check_token,
    decode_principal,
    key_digest,
)
from app.auth.ports import Claims, InvalidToken, StoredKey, UserView
from app.errors import Unauthenticated
from domain.auth.permissions import Permission, PrincipalKind, Role

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = StoredKey(
    id=uuid.UUID(int=1),
    name="storefront",
    prefix="vk_store",
    hashed_secret="h:s3cret",
    scopes=frozenset({Permission.ORDERS_WRITE}),
    expires_at=NOW + timedelta(days=1),
    revoked_at=None,
)
USER = UserView(uuid.UUID(int=2), "ada@example.com", Role.OPERATOR, "sub-1", NOW)


class Reads:
    def __init__(self, key: StoredKey | None = KEY, user: UserView | None = USER) -> None:
        self.key, self.user, self.asked = key, user, 0

    async def key_by_prefix(self, prefix: str) -> StoredKey | None:
        self.asked += 1
        return self.key if self.key and self.key.prefix == prefix else None

    async def user_by_subject(self, subject: str) -> UserView | None:
        return self.user


class Hasher:
    def __init__(self) -> None:
        self.verified = 0

    def verify(self, hashed: str, secret: str) -> bool:
        self.verified += 1
        return hashed == f"h:{secret}"


class Usage:
    def __init__(self) -> None:
        self.touched: list[tuple[uuid.UUID, datetime]] = []

    async def touch(self, key_id: uuid.UUID, at: datetime) -> None:
        self.touched.append((key_id, at))


class Cache:
    """Generation 0 forever: enough for the read-through protocol these checks follow."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], bytes] = {}

    async def lookup(self, prefix: str, key: str) -> tuple[bytes | None, int | None]:
        return self.entries.get((prefix, key)), 0

    async def set(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: Any = None
    ) -> None:
        self.entries[prefix, key] = value

    async def delete(self, prefix: str, key: str) -> None:
        self.entries.pop((prefix, key), None)


class Tokens:
    def verify(self, token: str) -> Claims:
        if token != "good":
            raise InvalidToken("token expired")
        return Claims(subject="sub-1", email="ada@example.com")


digest = key_digest(b"k" * 32)


def key_check(reads: Reads, hasher: Hasher, cache: Cache | None, usage: Usage) -> Any:
    return partial(
        check_key,
        reads=reads,
        hasher=hasher,
        cache=cache,
        usage=usage,
        digest=digest,
        ttl_s=300,
        now=lambda: NOW,
    )


async def test_a_good_key_is_its_principal_and_its_use_is_recorded() -> None:
    usage = Usage()
    principal = await key_check(Reads(), Hasher(), None, usage)("vk_store.s3cret")
    assert (principal.kind, principal.id, principal.key_prefix, principal.permissions) == (
        PrincipalKind.API_KEY,
        KEY.id,
        "vk_store",
        frozenset({Permission.ORDERS_WRITE}),
    )
    assert usage.touched == [(KEY.id, NOW)]


async def test_the_slow_hash_runs_once_while_the_check_is_cached() -> None:
    hasher = Hasher()
    check = key_check(Reads(), hasher, Cache(), Usage())
    for _ in range(3):
        await check("vk_store.s3cret")
    assert hasher.verified == 1


@pytest.mark.parametrize(
    ("presented", "reads", "message"),
    [
        ("no-dot", Reads(), "malformed API key"),
        ("vk_other.s3cret", Reads(), "invalid API key"),
        ("vk_store.wrong", Reads(), "invalid API key"),
        ("vk_store.s3cret", Reads(replace(KEY, revoked_at=NOW)), "API key revoked"),
        ("vk_store.s3cret", Reads(replace(KEY, expires_at=NOW)), "API key expired"),
    ],
)
async def test_refusals_say_why_without_the_secret(
    presented: str, reads: Reads, message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message) as caught:
        await key_check(reads, Hasher(), None, Usage())(presented)
    assert "s3cret" not in caught.value.message


async def test_a_wrong_secret_of_a_revoked_key_does_not_learn_it_is_revoked() -> None:
    reads = Reads(replace(KEY, revoked_at=NOW))
    with pytest.raises(Unauthenticated, match=r"^invalid API key$"):
        await key_check(reads, Hasher(), None, Usage())("vk_store.guess")


async def test_a_key_revoked_while_its_check_was_cached_is_taken_back() -> None:
    cache = Cache()

    class Revoking(Reads):
        async def key_by_prefix(self, prefix: str) -> StoredKey | None:
            self.asked += 1
            return KEY if self.asked == 1 else replace(KEY, revoked_at=NOW)

    reads = Revoking()
    with pytest.raises(Unauthenticated, match="API key revoked"):
        await key_check(reads, Hasher(), cache, Usage())("vk_store.s3cret")
    assert cache.entries == {}


async def test_a_cached_check_past_the_keys_expiry_is_refused() -> None:
    cache = Cache()
    await key_check(Reads(), Hasher(), cache, Usage())("vk_store.s3cret")
    later = partial(
        check_key,
        reads=Reads(None),
        hasher=Hasher(),
        cache=cache,
        usage=Usage(),
        digest=digest,
        ttl_s=300,
        now=lambda: KEY.expires_at,
    )
    with pytest.raises(Unauthenticated, match="API key expired"):
        await later("vk_store.s3cret")


def test_the_cache_entry_of_a_key_is_an_hmac_not_the_key() -> None:
    entry = digest("vk_store.s3cret")
    assert len(entry) == 64
    assert "s3cret" not in entry
    assert entry != key_digest(b"other")("vk_store.s3cret")


@pytest.mark.parametrize("data", [b"not json", b"{}", b'{"kind": "robot"}', b"[]"])
def test_a_cached_entry_that_no_longer_decodes_is_a_miss(data: bytes) -> None:
    assert decode_principal(data) is None


async def ensure(claims: Claims) -> UserView:
    return USER


async def test_a_good_token_is_its_users_principal() -> None:
    principal = await check_token(
        "good", tokens=Tokens(), reads=Reads(), cache=None, ttl_s=60, ensure_user=ensure
    )
    assert (principal.kind, principal.id, principal.role, principal.name) == (
        PrincipalKind.USER,
        USER.id,
        Role.OPERATOR,
        "ada@example.com",
    )


async def test_a_bad_token_is_unauthenticated_with_the_verifiers_reason() -> None:
    with pytest.raises(Unauthenticated, match=r"^token expired$"):
        await check_token(
            "bad", tokens=Tokens(), reads=Reads(), cache=None, ttl_s=60, ensure_user=ensure
        )


async def test_a_role_changed_during_the_check_is_not_cached() -> None:
    cache = Cache()
    reads = Reads(user=replace(USER, role=Role.VIEWER))
    principal = await check_token(
        "good", tokens=Tokens(), reads=reads, cache=cache, ttl_s=60, ensure_user=ensure
    )
    assert (principal.role, cache.entries) == (Role.VIEWER, {})


async def test_a_user_deleted_during_the_check_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated, match="unknown user"):
        await check_token(
            "good",
            tokens=Tokens(),
            reads=Reads(user=None),
            cache=Cache(),
            ttl_s=60,
            ensure_user=ensure,
        )
