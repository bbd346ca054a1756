"""The API key aggregate one rule at a time: names, lifetimes, expiry, revoke, rotate, events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.auth.keys import (
    MAX_EXPIRY_DAYS,
    MAX_NAME,
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    ApiKeyRotated,
    check_name,
    full_key,
    lifetime,
    new_key_material,
    split_key,
)
from domain.auth.permissions import Permission
from domain.errors import DomainError

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def issued(**kw: object) -> ApiKey:
    args: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": "storefront",
        "prefix": "vk_0123456789abcdef",
        "hashed_secret": "$argon2id$old",
        "scopes": frozenset({Permission.ORDERS_WRITE, Permission.ORDERS_READ}),
        "lifetime": timedelta(days=90),
        "now": NOW,
        "actor": "key:vk_admin",
        **kw,
    }
    return ApiKey.issue(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a", "x" * MAX_NAME, "  padded  "])
def test_names_at_the_bounds_are_accepted_and_trimmed(name: str) -> None:
    assert check_name(name) == name.strip()


def test_a_name_of_only_spaces_past_the_limit_is_still_empty() -> None:
    with pytest.raises(DomainError, match="1 to 100 characters"):
        check_name(" " * 200)


@pytest.mark.parametrize("days", [1, MAX_EXPIRY_DAYS])
def test_lifetimes_at_the_bounds_are_accepted(days: int) -> None:
    assert lifetime(days) == timedelta(days=days)


def test_the_lifetime_message_names_the_range() -> None:
    with pytest.raises(DomainError, match="between 1 and 3650"):
        lifetime(MAX_EXPIRY_DAYS + 1)


def test_new_key_material_uses_the_randomness_given() -> None:
    sizes: list[int] = []

    def token_hex(n: int) -> str:
        sizes.append(n)
        return "ab" * n

    assert new_key_material(token_hex) == ("vk_" + "ab" * 8, "ab" * 32)
    assert sizes == [8, 32]


def test_a_full_key_joins_prefix_and_secret_with_one_dot() -> None:
    assert full_key("vk_1", "s3") == "vk_1.s3"


@pytest.mark.parametrize(
    ("presented", "parts"),
    [
        ("p" * 32 + ".secret", ("p" * 32, "secret")),  # prefix at its column width
        ("vk_ab." + "a" * 256, ("vk_ab", "a" * 256)),  # secret at its bound
        ("vk-ab_C.Se-cr_et", ("vk-ab_C", "Se-cr_et")),  # the whole printable alphabet
        ("vk_ab.\n", None),
        ("vk_ab.secret\x00", None),
    ],
)
def test_split_key_bounds_and_alphabet(presented: str, parts: tuple[str, str] | None) -> None:
    assert split_key(presented) == parts


def test_an_issued_key_expires_after_its_lifetime() -> None:
    assert issued().expires_at == NOW + timedelta(days=90)


def test_an_issued_key_records_who_created_it_and_when() -> None:
    key = issued()
    assert (key.created_by, key.created_at, key.last_used_at, key.revoked_at) == (
        "key:vk_admin",
        NOW,
        None,
        None,
    )


def test_issue_refuses_a_bad_name_before_any_event() -> None:
    with pytest.raises(DomainError) as caught:
        issued(name="")
    assert caught.value.field == "name"


def test_the_created_event_lists_scopes_sorted_and_no_secret() -> None:
    (event,) = issued().events
    assert isinstance(event, ApiKeyCreated)
    assert event.payload() == {
        "name": "storefront",
        "prefix": "vk_0123456789abcdef",
        "scopes": ["orders:read", "orders:write"],
        "expires_at": (NOW + timedelta(days=90)).isoformat(),
    }


def test_a_key_is_unusable_at_the_exact_expiry_instant() -> None:
    key = issued(lifetime=timedelta(days=1))
    assert key.usable_at(NOW + timedelta(days=1) - timedelta(microseconds=1))
    assert not key.usable_at(NOW + timedelta(days=1))


def test_a_revoked_key_is_unusable_before_its_expiry() -> None:
    key = issued()
    key.revoke(now=NOW, actor=None)
    assert not key.usable_at(NOW - timedelta(days=1))


def test_a_second_revoke_keeps_the_first_time_and_records_nothing() -> None:
    key = issued()
    key.revoke(now=NOW, actor="user:a")
    key.revoke(now=LATER, actor="user:b")
    assert key.revoked_at == NOW
    assert [type(e) for e in key.events] == [ApiKeyCreated, ApiKeyRevoked]


def test_the_revoked_event_names_the_prefix_and_actor() -> None:
    key = issued()
    key.revoke(now=LATER, actor="user:a")
    event = key.events[-1]
    assert (event.actor, event.occurred_at, event.payload()) == (
        "user:a",
        LATER,
        {"prefix": "vk_0123456789abcdef"},
    )


def test_rotate_counts_the_new_lifetime_from_the_rotation() -> None:
    key = issued(lifetime=timedelta(days=1))
    key.rotate(hashed_secret="$new", lifetime=timedelta(days=30), now=LATER, actor=None)
    assert key.expires_at == LATER + timedelta(days=30)
    assert key.usable_at(NOW + timedelta(days=2))


def test_rotate_keeps_the_prefix_and_scopes() -> None:
    key = issued()
    key.rotate(hashed_secret="$new", lifetime=timedelta(days=1), now=LATER, actor=None)
    assert (key.prefix, key.scopes) == (
        "vk_0123456789abcdef",
        frozenset({Permission.ORDERS_WRITE, Permission.ORDERS_READ}),
    )


def test_rotating_a_revoked_key_changes_nothing() -> None:
    key = issued()
    key.revoke(now=NOW, actor=None)
    with pytest.raises(DomainError, match="create a new one") as caught:
        key.rotate(hashed_secret="$new", lifetime=timedelta(days=1), now=LATER, actor=None)
    assert caught.value.field == "id"
    assert (key.hashed_secret, key.events[-1].type) == ("$argon2id$old", ApiKeyRevoked.type)


def test_the_rotated_event_carries_the_new_expiry_not_the_hash() -> None:
    key = issued()
    key.rotate(hashed_secret="$new", lifetime=timedelta(days=2), now=LATER, actor="user:a")
    event = key.events[-1]
    assert isinstance(event, ApiKeyRotated)
    assert event.payload() == {
        "prefix": "vk_0123456789abcdef",
        "expires_at": (LATER + timedelta(days=2)).isoformat(),
    }


def test_keys_compare_without_their_events() -> None:
    key = issued()
    twin = ApiKey(**{**key.__dict__, "events": []})
    assert twin == key
