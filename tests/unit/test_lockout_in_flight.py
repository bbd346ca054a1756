"""The lockout's bookkeeping around one check in flight per credential, with an in-memory
limiter and a scripted check: who waits, who counts, and who checks when the first goes away."""

from __future__ import annotations

import asyncio
import uuid

from app.auth.authenticate import Credential, CredentialKind
from app.auth.lockout import LockedOut, Lockout
from app.errors import Unauthenticated
from domain.auth.permissions import Principal, PrincipalKind
from infrastructure.cache.rate_limits import MemoryRateLimiter

KEY = Credential(CredentialKind.API_KEY, "vk_0123456789abcdef." + "a" * 64)
CALLER = Principal(kind=PrincipalKind.API_KEY, id=uuid.uuid4(), name="k", permissions=frozenset())


class Check:
    """Answers `CALLER` (or refuses) once released; counts its calls."""

    def __init__(self, valid: bool) -> None:
        self.calls = 0
        self.valid = valid
        self.release = asyncio.Event()

    async def __call__(self, credential: Credential) -> Principal:
        self.calls += 1
        await self.release.wait()
        if not self.valid:
            raise Unauthenticated("invalid API key")
        return CALLER


async def attempt(lockout: Lockout, check: Check) -> int:
    try:
        await lockout.authenticate(KEY, "10.0.0.1", check)
    except LockedOut:
        return 429
    except Unauthenticated:
        return 401
    return 200


async def test_a_burst_of_one_bad_secret_counts_every_attempt_and_checks_once() -> None:
    lockout, check = Lockout(MemoryRateLimiter(), 30, 60.0), Check(valid=False)
    burst = [asyncio.create_task(attempt(lockout, check)) for _ in range(60)]
    await asyncio.sleep(0)  # a yield, not a wait: lets every task reach its await in turn
    check.release.set()
    answers = await asyncio.gather(*burst)
    assert (answers.count(401), answers.count(429)) == (30, 30)
    assert check.calls == 1


async def test_when_the_checking_request_goes_away_a_waiting_one_checks() -> None:
    lockout, check = Lockout(MemoryRateLimiter(), 30, 60.0), Check(valid=True)
    first = asyncio.create_task(attempt(lockout, check))
    await asyncio.sleep(0)
    second = asyncio.create_task(attempt(lockout, check))
    await asyncio.sleep(0)
    assert check.calls == 1  # the second waits for the first's answer
    first.cancel()
    await asyncio.sleep(0)
    check.release.set()
    assert await second == 200
    assert check.calls == 2
    assert first.cancelled()
