"""app.cache.invalidating with a memory cache that fails on demand: seal before the change (not
confirmed: nothing runs), unseal after it (not confirmed: Unconfirmed carrying the result), and
an unseal attempted when the change fails."""

from __future__ import annotations

import pytest

from app.cache import Unconfirmed, invalidating
from app.errors import NotFound, Unavailable
from app.ports import CacheUnavailable
from infrastructure.cache.memory import MemoryCache


class FlakyCache(MemoryCache):
    """A memory cache whose seal or unseal is not confirmed when told so."""

    def __init__(self, *, seal_fails: bool = False, unseal_fails: bool = False) -> None:
        super().__init__()
        self.seal_fails, self.unseal_fails = seal_fails, unseal_fails
        self.calls: list[str] = []

    async def seal(self, prefix: str, token: str) -> None:
        self.calls.append("seal")
        if self.seal_fails:
            raise CacheUnavailable("down")
        await super().seal(prefix, token)

    async def unseal(self, prefix: str, token: str) -> None:
        self.calls.append("unseal")
        if self.unseal_fails:
            raise CacheUnavailable("down")
        await super().unseal(prefix, token)


async def test_a_confirmed_change_seals_commits_and_unseals() -> None:
    cache = FlakyCache()
    await cache.set("p", "k", b"old", ttl=30)

    async def change() -> str:
        cache.calls.append("change")
        await cache.set("p", "k", b"read during the change", ttl=30)  # refused: sealed
        return "done"

    assert await invalidating(cache, "p", change, what="p") == "done"
    assert cache.calls == ["seal", "change", "unseal"]
    assert await cache.get("p", "k") is None
    await cache.set("p", "k", b"after", ttl=30)
    assert await cache.get("p", "k") == b"after"


async def test_an_unconfirmed_seal_changes_nothing() -> None:
    cache = FlakyCache(seal_fails=True)

    async def change() -> str:
        raise AssertionError("must not run")

    with pytest.raises(Unavailable, match="nothing was changed") as raised:
        await invalidating(cache, "p", change, what="the key's cached checks")
    assert not isinstance(raised.value, Unconfirmed)
    assert "the key's cached checks" in raised.value.message
    assert cache.calls == ["seal"]


async def test_an_unconfirmed_unseal_is_not_success_but_keeps_the_result() -> None:
    cache = FlakyCache(unseal_fails=True)

    async def change() -> str:
        return "new secret"

    with pytest.raises(Unconfirmed, match="the change is saved") as raised:
        await invalidating(cache, "p", change, what="p")
    assert raised.value.result == "new secret"
    assert raised.value.code == "UNAVAILABLE"
    await cache.set("p", "k", b"v", ttl=30)  # the seal holds until its lease
    assert await cache.get("p", "k") is None


async def test_a_failed_change_is_raised_as_it_is_after_an_unseal() -> None:
    cache = FlakyCache()

    async def change() -> str:
        raise NotFound("no API key has this id", field="id")

    with pytest.raises(NotFound):
        await invalidating(cache, "p", change, what="p")
    assert cache.calls == ["seal", "unseal"]
    await cache.set("p", "k", b"v", ttl=30)  # not sealed any more
    assert await cache.get("p", "k") == b"v"


async def test_without_a_cache_the_change_just_runs() -> None:
    async def change() -> int:
        return 7

    assert await invalidating(None, "p", change, what="p") == 7
