"""The permission table, key format and the key/user aggregates (pure rules, table-driven)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.auth.keys import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    ApiKeyRotated,
    full_key,
    lifetime,
    new_key_material,
    split_key,
)
from domain.auth.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    expand,
    grants,
    parse_role,
    parse_scopes,
)
from domain.auth.users import User, UserCreated, UserRoleChanged
from domain.errors import DomainError

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)

# DOMAIN.md's table, transcribed by hand: the code's table must say exactly this.
DOMAIN_TABLE = {
    "viewer": {"orders:read", "logs:read", "workflows:read", "jobs:read"},
    "operator": {
        "orders:read",
        "orders:write",
        "logs:read",
        "workflows:read",
        "workflows:write",
        "workflows:run",
        "jobs:read",
        "jobs:write",
    },
    "admin": {p.value for p in Permission},  # `admin`: everything above
}


@pytest.mark.parametrize("role", list(Role))
def test_roles_grant_exactly_the_domain_table(role: Role) -> None:
    held = ROLE_PERMISSIONS[role]
    assert {p.value for p in Permission if grants(held, p)} == DOMAIN_TABLE[role.value]
    assert {p.value for p in expand(held)} == DOMAIN_TABLE[role.value]


def test_the_vocabulary_is_the_domain_one() -> None:
    assert {p.value for p in Permission} == {
        "orders:read", "orders:write", "webhook:vizi", "logs:read", "logs:write",
        "workflows:read", "workflows:write", "workflows:run", "jobs:read", "jobs:write",
        "keys:read", "keys:write", "users:admin", "cache:admin", "admin",
    }  # fmt: skip


def test_a_single_scope_grants_only_itself_except_admin() -> None:
    for scope in Permission:
        granted = {p for p in Permission if grants({scope}, p)}
        assert granted == (set(Permission) if scope is Permission.ADMIN else {scope})


def test_parse_scopes() -> None:
    assert parse_scopes([" orders:read", "orders:read", "admin"]) == {
        Permission.ORDERS_READ,
        Permission.ADMIN,
    }
    for bad in ([], ["orders:delete"], ["ORDERS:READ"], ["x" * 500]):
        with pytest.raises(DomainError) as caught:
            parse_scopes(bad)
        assert caught.value.field == "scopes"
        assert len(caught.value.message) < 400


def test_parse_role() -> None:
    assert parse_role(" Operator ") is Role.OPERATOR
    with pytest.raises(DomainError, match="unknown role"):
        parse_role("root")


@pytest.mark.parametrize(
    ("presented", "parts"),
    [
        ("vk_0123456789abcdef." + "a" * 64, ("vk_0123456789abcdef", "a" * 64)),
        # Split at the LAST dot: the reference's keys had dots nowhere else, but be exact.
        ("vizi.admin_01.secret", ("vizi.admin_01", "secret")),
        ("no-dot-at-all", None),
        (".secret", None),
        ("prefix.", None),
        ("p" * 33 + ".secret", None),
        ("vk_ab.sec ret", None),
        ("vk_ab.sécret", None),
        ("vk_ab." + "a" * 257, None),
        ("vk_a b.secret", None),
    ],
)
def test_split_key(presented: str, parts: tuple[str, str] | None) -> None:
    assert split_key(presented) == parts


def test_new_keys_are_well_formed_and_round_trip() -> None:
    seen = set()
    for _ in range(50):
        prefix, secret = new_key_material()
        assert prefix.startswith("vk_")
        assert len(prefix) == 19
        assert len(secret) == 64
        assert int(secret, 16) >= 0
        assert split_key(full_key(prefix, secret)) == (prefix, secret)
        seen.add(prefix)
    assert len(seen) == 50


def issued(**kw: object) -> ApiKey:
    args: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": " storefront ",
        "prefix": "vk_0123456789abcdef",
        "hashed_secret": "$argon2id$...",
        "scopes": frozenset({Permission.ORDERS_WRITE}),
        "lifetime": timedelta(days=90),
        "now": NOW,
        "actor": "key:vk_admin",
        **kw,
    }
    return ApiKey.issue(**args)  # type: ignore[arg-type]


def test_issue_revoke_rotate_record_audit_events() -> None:
    key = issued()
    assert (key.name, key.expires_at, key.created_by) == (
        "storefront",
        NOW + timedelta(days=90),
        "key:vk_admin",
    )
    assert key.usable_at(NOW)
    assert not key.usable_at(NOW + timedelta(days=90))
    key.rotate(hashed_secret="$new", lifetime=timedelta(days=30), now=NOW, actor="user:u1")
    assert (key.hashed_secret, key.expires_at) == ("$new", NOW + timedelta(days=30))
    assert key.revoke(now=NOW, actor="user:u1") is True
    assert key.revoke(now=NOW, actor="user:u1") is False  # once
    assert not key.usable_at(NOW)
    assert [type(e) for e in key.events] == [ApiKeyCreated, ApiKeyRotated, ApiKeyRevoked]
    assert [e.actor for e in key.events] == ["key:vk_admin", "user:u1", "user:u1"]
    created = key.events[0].payload()
    assert created["scopes"] == ["orders:write"]
    assert "hashed_secret" not in created
    assert "$argon2id$..." not in str(created)
    with pytest.raises(DomainError, match="revoked"):
        key.rotate(hashed_secret="$x", lifetime=timedelta(days=1), now=NOW, actor=None)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_key_names_are_checked(name: str) -> None:
    with pytest.raises(DomainError) as caught:
        issued(name=name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_lifetimes_are_bounded(days: int) -> None:
    with pytest.raises(DomainError) as caught:
        lifetime(days)
    assert caught.value.field == "expiresInDays"


def test_users_start_as_viewers_and_role_changes_are_events() -> None:
    user = User.first_seen(id=uuid.uuid4(), email=" Ada@Example.COM ", subject="s1", now=NOW)
    assert (user.email, user.role) == ("ada@example.com", Role.VIEWER)
    assert user.set_role(Role.OPERATOR, now=NOW, actor="user:admin") is True
    assert user.set_role(Role.OPERATOR, now=NOW, actor="user:admin") is False
    assert [type(e) for e in user.events] == [UserCreated, UserRoleChanged]
    assert user.events[0].actor == f"user:{user.id}"
    assert user.events[1].payload() == {"old_role": "viewer", "new_role": "operator"}
    for email, subject in (("not-an-email", "s"), ("a@b.c", ""), ("a@b.c", "s" * 256)):
        with pytest.raises(DomainError):
            User.first_seen(id=uuid.uuid4(), email=email, subject=subject, now=NOW)


def test_actors_name_callers_without_secrets_or_emails() -> None:
    key_id, user_id = uuid.uuid4(), uuid.uuid4()
    key = Principal(PrincipalKind.API_KEY, key_id, "ci", frozenset(), key_prefix="vk_ab")
    user = Principal(PrincipalKind.USER, user_id, "ada@example.com", frozenset(), Role.VIEWER)
    assert (key.actor, user.actor) == ("key:vk_ab", f"user:{user_id}")
    assert user.may(Permission.ORDERS_READ) is False
