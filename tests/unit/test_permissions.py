"""Permission checks beyond the role table: lacking, expand, parsing and principals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.auth.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    expand,
    grants,
    lacking,
    parse_role,
    parse_scopes,
)
from domain.auth.users import User, UserRoleChanged
from domain.errors import DomainError

P = Permission
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("held", "needed", "missing"),
    [
        ({P.ORDERS_READ}, {P.ORDERS_READ}, []),
        ({P.ORDERS_READ}, {P.LOGS_WRITE, P.KEYS_WRITE}, ["keys:write", "logs:write"]),
        ({P.ADMIN}, set(Permission), []),
        (set(), {P.ADMIN}, ["admin"]),
        ({P.KEYS_WRITE}, set(), []),
    ],
)
def test_lacking_lists_what_is_not_granted_sorted(
    held: set[Permission], needed: set[Permission], missing: list[str]
) -> None:
    assert lacking(held, needed) == missing


def test_an_operator_cannot_hand_out_admin() -> None:
    assert lacking(ROLE_PERMISSIONS[Role.OPERATOR], {P.ADMIN, P.ORDERS_READ}) == ["admin"]


def test_nothing_held_grants_nothing() -> None:
    assert expand(()) == frozenset()


def test_grants_accepts_any_iterable_once() -> None:
    # A generator is consumed once: grants must not iterate it twice.
    assert grants((p for p in [P.LOGS_READ, P.ADMIN]), P.KEYS_WRITE)


def test_parse_scopes_names_the_field_given() -> None:
    with pytest.raises(DomainError) as caught:
        parse_scopes([], field="input.scopes")
    assert (caught.value.field, caught.value.message) == (
        "input.scopes",
        "a key needs at least one scope",
    )


def test_an_unknown_scope_is_quoted_and_the_vocabulary_listed() -> None:
    with pytest.raises(DomainError) as caught:
        parse_scopes(["orders:read", "orders:delete"])
    assert caught.value.message.startswith("unknown scope 'orders:delete'; scopes are: orders:read")
    assert caught.value.message.endswith("cache:admin, admin")


@pytest.mark.parametrize("raw", ["ADMIN", " admin\t", "Viewer"])
def test_roles_are_read_case_and_space_insensitively(raw: str) -> None:
    assert parse_role(raw).value == raw.strip().lower()


def test_an_unknown_role_is_cut_in_the_message_and_names_its_field() -> None:
    with pytest.raises(DomainError) as caught:
        parse_role("r" * 100, field="input.role")
    assert caught.value.field == "input.role"
    assert "r" * 33 not in caught.value.message


def test_an_admin_principal_may_do_anything() -> None:
    admin = Principal(PrincipalKind.USER, uuid.uuid4(), "a@x.io", ROLE_PERMISSIONS[Role.ADMIN])
    assert all(admin.may(p) for p in Permission)


def test_a_key_principal_may_only_what_its_scopes_say() -> None:
    key = Principal(
        PrincipalKind.API_KEY, uuid.uuid4(), "ci", frozenset({P.WEBHOOK_VIZI}), key_prefix="vk_1"
    )
    assert [p for p in Permission if key.may(p)] == [P.WEBHOOK_VIZI]


def test_principals_are_equal_by_value() -> None:
    id = uuid.uuid4()
    make = lambda: Principal(PrincipalKind.USER, id, "a@x.io", frozenset({P.LOGS_READ}))  # noqa: E731
    assert make() == make()
    assert hash(make()) == hash(make())


def user() -> User:
    return User.first_seen(id=uuid.uuid4(), email="ada@example.com", subject="sub-1", now=NOW)


@pytest.mark.parametrize("email", ["a@b", "ab@", "ada@example.com"])
def test_emails_with_an_at_and_three_characters_are_accepted(email: str) -> None:
    made = User.first_seen(id=uuid.uuid4(), email=email, subject="s", now=NOW)
    assert made.email == email


@pytest.mark.parametrize(("email", "subject"), [("ab", "s"), ("a" * 321 + "@x", "s")])
def test_an_unusable_email_claim_names_the_email_field(email: str, subject: str) -> None:
    with pytest.raises(DomainError) as caught:
        User.first_seen(id=uuid.uuid4(), email=email, subject=subject, now=NOW)
    assert caught.value.field == "email"


def test_an_overlong_subject_names_the_sub_claim() -> None:
    with pytest.raises(DomainError) as caught:
        User.first_seen(id=uuid.uuid4(), email="a@b.c", subject="s" * 256, now=NOW)
    assert caught.value.field == "sub"


def test_a_new_user_keeps_its_subject_and_time() -> None:
    made = user()
    assert (made.external_subject, made.created_at) == ("sub-1", NOW)


def test_a_role_change_records_old_new_and_actor() -> None:
    made = user()
    made.set_role(Role.ADMIN, now=NOW, actor="user:boss")
    event = made.events[-1]
    assert isinstance(event, UserRoleChanged)
    assert (event.actor, event.old_role, event.new_role, made.role) == (
        "user:boss",
        "viewer",
        "admin",
        Role.ADMIN,
    )


def test_setting_the_same_role_records_nothing() -> None:
    made = user()
    assert made.set_role(Role.VIEWER, now=NOW, actor="user:boss") is False
    assert len(made.events) == 1
