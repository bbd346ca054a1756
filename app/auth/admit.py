"""The gate's fast path: a credential whose check is cached is admitted in one backend call
(cached check, rate-limit hit and key usage together, and the response cache's lookup of a
request it can probe before the caller is known). Failed authentications are not
consulted here: a cached check is a credential that verified, and no one's failures block it
(app.auth.lockout)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.auth.authenticate import Credential, CredentialKind, decode_principal, subject_key
from app.auth.keys import KEY_CHECKS
from app.auth.ports import Admissions, InvalidToken, TokenVerifier, Verdict
from app.auth.users import USERS
from app.errors import Unauthenticated
from app.responses import Probe
from domain.auth.keys import split_key
from domain.auth.permissions import Principal

# The principals of cached checks, by their bytes: a check decodes once per process, not on
# every request (Principal is frozen; its expiry is compared on every admission below).
_principal_of = functools.lru_cache(maxsize=4096)(decode_principal)


@dataclass(frozen=True)
class Limits:
    window_s: float
    per_key: int


@dataclass(frozen=True)
class Admitted:
    """The principal and its rate-limit verdict (None: the limiter could not say)."""

    principal: Principal
    verdict: Verdict | None = None
    # The probe's cached answer and its generations, looked up in the same call (None: not).
    answer: tuple[bytes | None, str] | None = None


async def admit_cached(
    credential: Credential,
    probe: Probe | None = None,
    *,
    admissions: Admissions,
    digest: Callable[[str], str],
    tokens: TokenVerifier,
    limits: Limits,
    now: Callable[[], datetime],
) -> Admitted | None:
    """Admitted when the check was cached; None sends the caller down the full path (a miss,
    a bad credential, or the backend unavailable), where nothing of this call has been
    counted."""
    if credential.kind is CredentialKind.TOKEN:
        try:
            claims = tokens.verify(credential.value)
        except InvalidToken:
            return None
        prefix, entry, mark_usage = USERS, subject_key(claims.subject), False
    else:
        if split_key(credential.value) is None:
            return None
        prefix, entry, mark_usage = KEY_CHECKS, digest(credential.value), True
    at = now()
    admission = await admissions.admit(
        prefix,
        entry,
        limit=limits.per_key,
        window_s=limits.window_s,
        at=at,
        mark_usage=mark_usage,
        probe=probe,
    )
    if admission is None:
        return None
    principal = _principal_of(admission.cached) if admission.cached is not None else None
    if principal is None:
        return None
    if principal.expires_at is not None and principal.expires_at <= at:
        raise Unauthenticated("API key expired")
    return Admitted(principal=principal, verdict=admission.verdict, answer=admission.answer)
