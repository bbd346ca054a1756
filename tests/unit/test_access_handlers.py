"""API key and user handlers on the fake unit of work: what is stored, what is refused, and
what a caller may not grant or manage beyond their own permissions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.auth.commands import CreateApiKey, RevokeApiKey, RotateApiKey, SetUserRole
from app.auth.keys import create_api_key, flush_key_usage, revoke_api_key, rotate_api_key
from app.auth.ports import Claims, UserView
from app.auth.users import ensure_user, set_user_role, user_view
from app.errors import Forbidden, NotFound, Unauthenticated
from domain.auth.keys import ApiKeyCreated, ApiKeyRevoked, ApiKeyRotated
from domain.auth.permissions import Permission as P
from domain.auth.permissions import Role
from domain.auth.users import User, UserCreated, UserRoleChanged
from tests.fakes import FakeHasher, FakeKeyUsage, FakeUnitOfWorkFactory
from tests.unit.handler_support import T0, Clock, new_ids

MATERIAL = iter(f"k{n:07d}" for n in range(1, 10_000))


def make_key() -> tuple[str, str]:
    return next(MATERIAL), "s3cret"


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


async def issue(uow: FakeUnitOfWorkFactory, *scopes: str, **kw: Any) -> Any:
    cmd = CreateApiKey(name=kw.pop("name", "ci"), scopes=scopes or ("orders:read",), **kw)
    return await create_api_key(
        cmd,
        uow=uow,
        hasher=FakeHasher(),
        now=Clock(),
        new_id=uuid.uuid4,
        default_days=90,
        make_key=make_key,
    )


async def revoke(uow: FakeUnitOfWorkFactory, id: uuid.UUID, **kw: Any) -> Any:
    return await revoke_api_key(RevokeApiKey(id, **kw), uow=uow, cache=None, now=Clock())


async def rotate(uow: FakeUnitOfWorkFactory, id: uuid.UUID, **kw: Any) -> Any:
    return await rotate_api_key(
        RotateApiKey(id, **kw),
        uow=uow,
        cache=None,
        hasher=FakeHasher(),
        now=Clock(T0 + timedelta(days=1)),
        default_days=90,
        make_key=lambda: ("ignored", "n3w"),
    )


async def test_a_new_key_stores_only_the_hash_of_its_secret(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow)
    stored = uow.store.api_keys[issued.key.id]
    assert stored.hashed_secret == "hashed:s3cret"
    assert issued.secret.endswith("s3cret")
    assert issued.secret.startswith(stored.prefix)


async def test_a_new_key_expires_after_the_default_days(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow)
    assert issued.key.expires_at == T0 + timedelta(days=90)


async def test_a_new_key_is_in_the_audit_trail(uow: FakeUnitOfWorkFactory) -> None:
    await issue(uow, actor="admin:ana")
    assert [type(e) for e in uow.store.events] == [ApiKeyCreated]
    assert uow.store.event_rows[0][2] == "admin:ana"


async def test_a_caller_cannot_grant_a_scope_it_lacks(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(Forbidden) as raised:
        await issue(uow, "keys:write", held=frozenset({P.ORDERS_READ}))
    assert raised.value.field == "scopes"
    assert uow.store.api_keys == {}


async def test_revoking_an_unknown_key_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await revoke(uow, uuid.uuid4())


async def test_revoking_stamps_the_key_and_records_it(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow)
    view = await revoke(uow, issued.key.id)
    assert view.revoked_at == T0
    assert uow.store.api_keys[issued.key.id].revoked_at == T0
    assert [type(e) for e in uow.store.events] == [ApiKeyCreated, ApiKeyRevoked]


async def test_revoking_twice_changes_nothing_more(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow)
    await revoke(uow, issued.key.id)
    commits = uow.store.commits
    assert (await revoke(uow, issued.key.id)).revoked_at == T0
    assert uow.store.commits == commits
    assert len(uow.store.events) == 2


async def test_a_caller_cannot_revoke_a_more_powerful_key(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow, "admin")
    with pytest.raises(Forbidden):
        await revoke(uow, issued.key.id, held=frozenset({P.KEYS_WRITE}))
    assert uow.store.api_keys[issued.key.id].revoked_at is None


async def test_rotating_replaces_the_hash_and_keeps_the_prefix(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow)
    again = await rotate(uow, issued.key.id)
    stored = uow.store.api_keys[issued.key.id]
    assert stored.hashed_secret == "hashed:n3w"
    assert again.secret.endswith("n3w")
    assert stored.prefix == issued.key.prefix
    assert [type(e) for e in uow.store.events] == [ApiKeyCreated, ApiKeyRotated]


async def test_rotating_an_unknown_key_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await rotate(uow, uuid.uuid4())


async def test_a_caller_cannot_rotate_a_more_powerful_key(uow: FakeUnitOfWorkFactory) -> None:
    issued = await issue(uow, "admin")
    with pytest.raises(Forbidden):
        await rotate(uow, issued.key.id, held=frozenset({P.KEYS_WRITE}))
    assert uow.store.api_keys[issued.key.id].hashed_secret == "hashed:s3cret"


async def test_a_flush_writes_the_usage_gathered_and_forgets_it() -> None:
    usage, written = FakeKeyUsage(), []
    key = uuid.uuid4()
    await usage.touch(key, T0)

    async def write(batch: Any) -> int:
        written.append(dict(batch))
        return len(batch)

    assert await flush_key_usage(usage=usage, write=write) == 1
    assert written == [{key: T0}]
    assert usage.gathered == {}


async def test_a_failed_flush_gives_the_usage_back() -> None:
    usage, key = FakeKeyUsage(), uuid.uuid4()
    await usage.touch(key, T0)

    async def write(batch: Any) -> int:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        await flush_key_usage(usage=usage, write=write)
    assert usage.gathered == {key: T0}


class StoreReads:
    """The one read ensure_user makes, over the fake's committed users."""

    def __init__(self, uow: FakeUnitOfWorkFactory) -> None:
        self.uow = uow

    async def user_by_subject(self, subject: str) -> UserView | None:
        users = self.uow.store.users.values()
        return next((user_view(u) for u in users if u.external_subject == subject), None)


async def ensure(uow: FakeUnitOfWorkFactory, subject: str, email: str) -> UserView:
    return await ensure_user(
        Claims(subject, email), uow=uow, reads=StoreReads(uow), now=Clock(), new_id=new_ids()
    )


async def test_a_first_token_creates_a_viewer(uow: FakeUnitOfWorkFactory) -> None:
    view = await ensure(uow, "sub-1", "ana@example.com")
    assert (view.role, view.email) == (Role.VIEWER, "ana@example.com")
    assert [type(e) for e in uow.store.events] == [UserCreated]


async def test_a_known_subject_is_not_created_again(uow: FakeUnitOfWorkFactory) -> None:
    first = await ensure(uow, "sub-1", "ana@example.com")
    again = await ensure(uow, "sub-1", "ana@example.com")
    assert again.id == first.id
    assert len(uow.store.users) == 1


async def test_an_email_of_another_identity_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    await ensure(uow, "sub-1", "ana@example.com")
    with pytest.raises(Unauthenticated, match="another identity"):
        await ensure(uow, "sub-2", "ana@example.com")
    assert len(uow.store.users) == 1


def user(uow: FakeUnitOfWorkFactory, role: Role = Role.VIEWER) -> User:
    u = User(uuid.uuid4(), f"{uuid.uuid4().hex[:6]}@example.com", role, uuid.uuid4().hex, T0)
    uow.store.users[u.id] = u
    return u


async def set_role(uow: FakeUnitOfWorkFactory, user_id: uuid.UUID, role: str, **kw: Any) -> Any:
    cmd = SetUserRole(user_id, role, **kw)
    return await set_user_role(cmd, uow=uow, cache=None, now=Clock())


async def test_a_role_change_is_stored_and_recorded(uow: FakeUnitOfWorkFactory) -> None:
    u = user(uow)
    assert (await set_role(uow, u.id, "operator")).role == Role.OPERATOR
    assert uow.store.users[u.id].role == Role.OPERATOR
    assert [type(e) for e in uow.store.events] == [UserRoleChanged]


async def test_nobody_changes_their_own_role(uow: FakeUnitOfWorkFactory) -> None:
    u = user(uow, Role.ADMIN)
    with pytest.raises(Forbidden) as raised:
        await set_role(uow, u.id, "viewer", caller=u.id)
    assert raised.value.field == "userId"
    assert uow.store.users[u.id].role == Role.ADMIN


async def test_only_who_holds_both_roles_permissions_changes_it(
    uow: FakeUnitOfWorkFactory,
) -> None:
    u = user(uow)
    with pytest.raises(Forbidden) as raised:
        await set_role(uow, u.id, "admin", held=frozenset({P.USERS_ADMIN}))
    assert raised.value.field == "role"
    assert uow.store.users[u.id].role == Role.VIEWER


async def test_setting_the_same_role_commits_nothing(uow: FakeUnitOfWorkFactory) -> None:
    u = user(uow, Role.OPERATOR)
    await set_role(uow, u.id, "operator")
    assert uow.store.commits == 0
    assert uow.store.events == []


async def test_a_role_change_of_an_unknown_user_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound):
        await set_role(uow, uuid.uuid4(), "operator")
