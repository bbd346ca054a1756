"""The gate's fast path: a cached check admitted in one backend call, anything else sent on."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import pytest

from app.auth.admit import Limits, admit_cached
from app.auth.authenticate import Credential, CredentialKind
from app.auth.ports import Admission
from app.errors import Unauthenticated
from tests.unit.test_authenticate import (
    KEY,
    NOW,
    Cache,
    Hasher,
    Reads,
    Tokens,
    Usage,
    digest,
    key_check,
)


class Admissions:
    def __init__(self, admission: Admission | None) -> None:
        self.admission = admission
        self.calls: list[dict[str, Any]] = []

    async def admit(self, prefix: str, entry: str, **kw: Any) -> Admission | None:
        self.calls.append({"prefix": prefix, "entry": entry, **kw})
        return self.admission


def admitting(admissions: Admissions, at: datetime = NOW) -> Any:
    return partial(
        admit_cached,
        admissions=admissions,
        digest=digest,
        tokens=Tokens(),
        limits=Limits(window_s=60, per_key=100),
        now=lambda: at,
    )


async def cached_entry() -> bytes:
    cache = Cache()
    await key_check(Reads(), Hasher(), cache, Usage())("vk_store.s3cret")
    (data,) = cache.entries.values()
    return data


async def test_a_cached_key_is_admitted_in_one_call_marking_its_use() -> None:
    admissions = Admissions(Admission(cached=await cached_entry()))
    admitted = await admitting(admissions)(Credential(CredentialKind.API_KEY, "vk_store.s3cret"))
    assert admitted.principal.id == KEY.id
    assert admissions.calls[0]["mark_usage"] is True
    assert admissions.calls[0]["entry"] == digest("vk_store.s3cret")


@pytest.mark.parametrize(
    ("credential", "admission"),
    [
        (Credential(CredentialKind.API_KEY, "malformed"), Admission()),
        (Credential(CredentialKind.TOKEN, "bad"), Admission()),
        (Credential(CredentialKind.API_KEY, "vk_store.s3cret"), None),  # backend away
        (Credential(CredentialKind.API_KEY, "vk_store.s3cret"), Admission()),  # a miss
        (Credential(CredentialKind.TOKEN, "good"), Admission(cached=b"garbage")),
    ],
)
async def test_anything_but_a_cached_check_takes_the_full_path(
    credential: Credential, admission: Admission | None
) -> None:
    assert await admitting(Admissions(admission))(credential) is None


async def test_a_malformed_key_is_not_even_looked_up() -> None:
    admissions = Admissions(Admission())
    await admitting(admissions)(Credential(CredentialKind.API_KEY, "malformed"))
    assert admissions.calls == []


async def test_an_expired_cached_key_is_refused_on_the_fast_path() -> None:
    admissions = Admissions(Admission(cached=await cached_entry()))
    with pytest.raises(Unauthenticated, match="API key expired"):
        await admitting(admissions, KEY.expires_at)(
            Credential(CredentialKind.API_KEY, "vk_store.s3cret")
        )
