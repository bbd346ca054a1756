"""Failed authentications: counted per client IP and key prefix, before the slow hash runs.

Counted per IP alone, 30 bad keys from one address locked out every key from it, and behind a
load balancer that is every client (the storefront's webhook included). Now the bucket is the
IP and the key prefix the credential names, which belongs to one key; a JWT or a credential
that names no key has a fixed bucket of its own per IP, and none of them runs a slow hash.

An API key reserves its attempt (one atomic INCR) before the hash, and gives it back when it
verifies: 60 concurrent bad secrets for one prefix with a limit of 30 get 30 answers 401 and
30 answers 429, whatever their interleaving, and past the limit no hash runs at all.

A credential that verifies is never blocked by failures: one whose check is cached (it
verified within the cache's lifetime) is admitted by the fast path (app.auth.admit) before
any count is consulted. What we give up, to never run the hash for a locked-out prefix: the
holder of that one key, its check not cached, waits out the window from that IP like the
guesser. Others' keys, from the same IP, are untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.auth.authenticate import Credential, CredentialKind
from app.auth.ports import RateLimiter, Verdict
from app.errors import Unauthenticated
from domain.auth.keys import split_key
from domain.auth.permissions import Principal

TOKENS = "token"
MALFORMED = "malformed"  # a header that cannot be a credential, or a key of no known shape


class LockedOut(Exception):
    """Too many failed authentications from this IP for this credential's bucket: 429."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("Too many failed authentications.")
        self.verdict = verdict


def failures_bucket(ip: str, credential: Credential | None) -> str:
    if credential is None:
        name = MALFORMED
    elif credential.kind is CredentialKind.TOKEN:
        name = TOKENS
    else:
        parts = split_key(credential.value)
        # split_key bounds the prefix (32 printable characters): no unbounded Redis key names.
        name = f"key:{parts[0]}" if parts is not None else MALFORMED
    return f"auth-failures:{ip}:{name}"


@dataclass(frozen=True)
class Lockout:
    limiter: RateLimiter
    limit: int
    window_s: float
    # Checks in flight in this process, by the credential's SHA-256: a burst of one key waits
    # for one check (one hash, one reservation) instead of each reserving a count. Without
    # it, 60 requests of a valid key whose cached check had just expired took 60 counts, and
    # 30 of them were refused: a credential that verifies, blocked by its own burst.
    _checks: dict[str, asyncio.Future[Principal]] = field(default_factory=dict, repr=False)

    async def authenticate(
        self,
        credential: Credential,
        ip: str,
        authenticate: Callable[[Credential], Awaitable[Principal]],
    ) -> Principal:
        """The principal, else Unauthenticated (counted) or LockedOut (the check never ran)."""
        if credential.kind is CredentialKind.API_KEY and split_key(credential.value) is not None:
            return await self._shared(ip, credential, authenticate)
        # A JWT's signature check is cheap and a malformed key is refused before any lookup:
        # nothing slow to spare, so only what fails is counted.
        try:
            return await authenticate(credential)
        except Unauthenticated:
            await self.failed(ip, credential)
            raise

    async def failed(self, ip: str, credential: Credential | None) -> None:
        """Count a failure that was not reserved; LockedOut when it is past the limit."""
        verdict = await self.limiter.hit(failures_bucket(ip, credential), self.limit, self.window_s)
        if verdict is not None and not verdict.allowed:
            raise LockedOut(verdict)

    async def _shared(
        self,
        ip: str,
        credential: Credential,
        authenticate: Callable[[Credential], Awaitable[Principal]],
    ) -> Principal:
        name = hashlib.sha256(credential.value.encode()).hexdigest()
        while (running := self._checks.get(name)) is not None:
            await asyncio.wait([running])
            if running.cancelled():
                continue  # its request went away: check again, perhaps as the one checking
            try:
                return running.result()
            except Unauthenticated as exc:
                await self.failed(ip, credential)  # each attempt that fails counts
                raise Unauthenticated(exc.message) from None
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)
        self._checks[name] = future
        try:
            principal = await self._reserved(ip, credential, authenticate)
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._checks[name]
        future.set_result(principal)
        return principal

    async def _reserved(
        self,
        ip: str,
        credential: Credential,
        authenticate: Callable[[Credential], Awaitable[Principal]],
    ) -> Principal:
        # Counted first, as if it would fail: concurrent attempts each see their own count.
        bucket = failures_bucket(ip, credential)
        reserved = await self.limiter.hit(bucket, self.limit, self.window_s)
        if reserved is not None and not reserved.allowed:
            raise LockedOut(reserved)
        try:
            principal = await authenticate(credential)
        except Unauthenticated:
            raise  # the reservation stands: this attempt failed
        except Exception:
            # The database or the hasher failed, not the caller: not a failed authentication.
            # (A cancelled request keeps its count for the window: the one leak, and harmless.)
            if reserved is not None:
                await self.limiter.release(bucket)
            raise
        if reserved is not None:  # None: the limiter was down and counted nothing
            await self.limiter.release(bucket)
        return principal


def _retrieved(future: asyncio.Future[Principal]) -> None:
    # A check nobody else waited for must not be logged as "exception never retrieved".
    if not future.cancelled():
        future.exception()
