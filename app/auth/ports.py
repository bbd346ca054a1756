"""Ports and read models of access control: key/user stores, hashing, tokens, usage, limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from app.responses import Probe
from domain.auth.keys import ApiKey
from domain.auth.permissions import Permission, Role
from domain.auth.users import User

T = TypeVar("T")


class UserAlreadyExists(Exception):
    """A concurrent first request created the user (or the email belongs to another subject)."""


@dataclass(frozen=True, slots=True)
class KeyView:
    """An API key as listed: never its hash, never its secret."""

    id: UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    expires_at: datetime
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What a credential check needs: the hash to verify and the state that may refuse it."""

    id: UUID
    name: str
    prefix: str
    hashed_secret: str
    scopes: frozenset[Permission]
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserView:
    id: UUID
    email: str
    role: Role
    external_subject: str | None
    created_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items newest first; `has_next` when more follow the last one."""

    items: list[T]
    has_next: bool


# Keyset of the access lists: (created_at, id) of the last item seen, newest first.
After = tuple[datetime, UUID]


class ApiKeys(Protocol):
    """Write-side repository of keys inside a unit of work; statements run at once."""

    async def add(self, key: ApiKey) -> None: ...

    async def get(self, id: UUID) -> ApiKey | None:
        """The key, locked for update where the database can."""
        ...

    async def save(self, key: ApiKey) -> None: ...


class Users(Protocol):
    async def add(self, user: User) -> None:
        """Insert; UserAlreadyExists when the subject or email is taken."""
        ...

    async def get(self, id: UUID) -> User | None: ...

    async def save(self, user: User) -> None: ...


class AccessReads(Protocol):
    """Query side of keys and users."""

    async def key_by_prefix(self, prefix: str) -> StoredKey | None: ...

    async def key_by_id(self, id: UUID) -> KeyView | None: ...

    async def key_page(self, first: int, after: After | None) -> Page[KeyView]: ...

    async def count_keys(self) -> int: ...

    async def user_by_subject(self, subject: str) -> UserView | None: ...

    async def user_by_id(self, id: UUID) -> UserView | None: ...

    async def user_page(self, first: int, after: After | None) -> Page[UserView]: ...

    async def count_users(self) -> int: ...

    async def changed_since(self, since: datetime) -> set[UUID]:
        """Keys revoked and users changed (role, removal) at or after `since`: the principals
        whose open subscriptions must re-authenticate. Read from the database, the stamp that
        survives a lost Redis message."""
        ...


class SecretHasher(Protocol):
    """A slow password hash (argon2). Synchronous and CPU-bound: call it off the event loop."""

    def hash(self, secret: str) -> str: ...

    def verify(self, hashed: str, secret: str) -> bool:
        """False for a wrong secret or a hash it cannot read; never raises for those."""
        ...


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str


class InvalidToken(Exception):
    """The token is expired, wrongly signed, for another audience or issuer, or malformed.

    The message says which, for the client; it never contains the token.
    """


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Claims: ...


class KeyUsage(Protocol):
    """Where key use is gathered between flushes (Redis, or memory when embedded).

    Never raises: a lost touch only makes `last_used_at` a little older.
    """

    async def touch(self, key_id: UUID, at: datetime) -> None: ...

    async def drain(self) -> dict[UUID, datetime]:
        """Take everything gathered so far (the latest time per key) and forget it."""
        ...

    async def restore(self, usage: Mapping[UUID, datetime]) -> None:
        """Give back a drained batch that could not be written."""
        ...


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # seconds until the window starts afresh


class RateLimiter(Protocol):
    """Fixed-window counters per bucket. None means "unavailable": the caller fails open."""

    async def hit(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        """Count one request in the bucket's window and say whether it is within the limit."""
        ...

    async def peek(self, bucket: str, limit: int, window_s: float) -> Verdict | None:
        """Say whether the bucket is still under its limit, without counting."""
        ...

    async def release(self, bucket: str) -> None:
        """Take back one count of the bucket's current window (a reserved attempt that did not
        fail); nothing when the window is over."""
        ...


@dataclass(frozen=True)
class Admission:
    """What one `Admissions.admit` call found and did."""

    cached: bytes | None = None  # the cached check (None: a miss, and nothing was counted)
    verdict: Verdict | None = None  # with `cached`: the principal's rate-limit hit
    # With `cached` and a probe: the cached answer (None: a miss) and the generations it was
    # looked up in (app.responses.ResponseStore.lookup).
    answer: tuple[bytes | None, str] | None = None


class Admissions(Protocol):
    """The hot path of authentication, in one call (one Redis round trip).

    The cached check is JSON with "kind", "id" (the rate-limit bucket is "{kind}:{id}") and
    "exp" (epoch seconds or null: a check expired at `at` is a miss).
    """

    async def admit(
        self,
        prefix: str,
        entry: str,
        *,
        limit: int,
        window_s: float,
        at: datetime,
        mark_usage: bool,
        probe: Probe | None = None,
    ) -> Admission | None:
        """Look up `entry` in the cache `prefix` (current generation); when found, hit the
        principal's bucket and, if `mark_usage`, record key use at `at`; with a `probe`, look
        its answer up for the check's permissions (the response cache's hit in the same round
        trip). None: the backend is unavailable (fail open). Failed authentications are not
        consulted: a cached check verified, and nobody's failures block a credential that
        verifies (app.auth.lockout)."""
        ...
