"""What the access feature offers the gate, GraphQL and the scheduler: credential checks, rate
limits, failed-authentication lockout and key usage, each bound by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.auth.admit import Admitted
from app.auth.authenticate import Credential
from app.auth.lockout import Lockout
from app.auth.ports import AccessReads, KeyUsage, RateLimiter
from app.responses import Probe
from domain.auth.permissions import Principal


@dataclass(frozen=True)
class Access:
    reads: AccessReads
    authenticate: Callable[[Credential], Awaitable[Principal]]
    # The one-call path for a cached check: None (or its answer None) means take the full path.
    admit: Callable[[Credential, Probe | None], Awaitable[Admitted | None]] | None
    limiter: RateLimiter
    lockout: Lockout  # the full path's failed-authentication count
    usage: KeyUsage
    flush_usage: Callable[[], Awaitable[int]]
