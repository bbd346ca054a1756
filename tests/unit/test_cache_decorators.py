"""The cache decorators against the in-memory backend, with an injected clock instead of sleeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from app.cache import cache_evict, cached, evict, prefix_of
from app.codec import decoder
from app.orders.views import FlagView, OrderView
from app.ports import Cache
from infrastructure.cache.memory import MemoryCache
from tests.clocks import FakeClock


@dataclass(frozen=True)
class ById:
    id: str


class Reads:
    """A read handler's dependency that records how often the "database" was asked."""

    def __init__(self, found: bool = True) -> None:
        self.calls: list[str] = []
        self.found = found

    async def load(self, id: str) -> dict[str, str] | None:
        self.calls.append(id)
        return {"id": id} if self.found else None


@cached("orders", ttl=30, key=lambda q, **_: f"id:{q.id}")
async def order_by_id(q: ById, *, cache: Cache | None, reads: Reads) -> dict[str, str] | None:
    return await reads.load(q.id)


@cache_evict("orders:*")
async def mark_processed(q: ById, *, cache: Cache | None, fail: bool = False) -> str:
    if fail:
        raise RuntimeError("write failed")
    return q.id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> MemoryCache:
    return MemoryCache(clock=clock)


async def test_miss_then_hit_counted_per_prefix(cache: MemoryCache) -> None:
    reads = Reads()
    first = await order_by_id(ById("a"), cache=cache, reads=reads)
    second = await order_by_id(ById("a"), cache=cache, reads=reads)
    assert first == second == {"id": "a"}
    assert reads.calls == ["a"]
    assert cache.stats() == {"orders": (1, 1)}


async def test_key_function_separates_entries_and_sees_dependencies(cache: MemoryCache) -> None:
    seen: list[dict[str, Any]] = []

    def key(q: ById, **deps: Any) -> str:
        seen.append(deps)
        return f"id:{q.id}"

    @cached("orders", ttl=30, key=key)
    async def handler(q: ById, *, cache: Cache | None, reads: Reads) -> dict[str, str] | None:
        return await reads.load(q.id)

    reads = Reads()
    assert await handler(ById("a"), cache=cache, reads=reads) == {"id": "a"}
    assert await handler(ById("b"), cache=cache, reads=reads) == {"id": "b"}
    assert await handler(ById("a"), cache=cache, reads=reads) == {"id": "a"}
    assert reads.calls == ["a", "b"]
    assert seen[0] == {"cache": cache, "reads": reads}
    assert handler.__name__ == "handler"  # functools.wraps keeps the handler recognisable


async def test_entry_expires_after_ttl(cache: MemoryCache, clock: FakeClock) -> None:
    reads = Reads()
    await order_by_id(ById("a"), cache=cache, reads=reads)
    clock.advance(29.9)
    await order_by_id(ById("a"), cache=cache, reads=reads)
    clock.advance(0.2)
    await order_by_id(ById("a"), cache=cache, reads=reads)
    assert reads.calls == ["a", "a"]
    assert cache.stats() == {"orders": (1, 2)}


async def test_cache_evict_makes_next_read_a_miss(cache: MemoryCache) -> None:
    reads = Reads()
    await order_by_id(ById("a"), cache=cache, reads=reads)
    assert await mark_processed(ById("a"), cache=cache) == "a"
    await order_by_id(ById("a"), cache=cache, reads=reads)
    assert reads.calls == ["a", "a"]


async def test_failed_write_does_not_evict(cache: MemoryCache) -> None:
    reads = Reads()
    await order_by_id(ById("a"), cache=cache, reads=reads)
    with pytest.raises(RuntimeError, match="write failed"):
        await mark_processed(ById("a"), cache=cache, fail=True)
    await order_by_id(ById("a"), cache=cache, reads=reads)
    assert reads.calls == ["a"]


async def test_programmatic_evict_accepts_patterns_and_leaves_other_prefixes(
    cache: MemoryCache,
) -> None:
    await cache.set("orders", "id:a", b"1", 30)
    await cache.set("workflows", "enabled", b"2", 30)
    await evict(cache, "orders:*")
    assert await cache.get("orders", "id:a") is None
    assert await cache.get("workflows", "enabled") == b"2"
    await evict(None, "orders")  # no cache configured: nothing to do, no error


async def test_none_is_not_cached_unless_asked(cache: MemoryCache) -> None:
    reads = Reads(found=False)
    assert await order_by_id(ById("x"), cache=cache, reads=reads) is None
    assert await order_by_id(ById("x"), cache=cache, reads=reads) is None
    assert reads.calls == ["x", "x"]

    @cached("orders", ttl=30, key=lambda q, **_: f"nil:{q.id}", cache_none=True)
    async def sticky(q: ById, *, cache: Cache | None, reads: Reads) -> dict[str, str] | None:
        return await reads.load(q.id)

    reads = Reads(found=False)
    assert await sticky(ById("x"), cache=cache, reads=reads) is None
    assert await sticky(ById("x"), cache=cache, reads=reads) is None
    assert reads.calls == ["x"]


class Unreachable(MemoryCache):
    """A backend that cannot be asked: every lookup misses without a generation."""

    def __init__(self) -> None:
        super().__init__()
        self.sets: list[tuple[str, str, int | None]] = []

    async def lookup(self, prefix: str, key: str) -> tuple[bytes | None, None]:  # type: ignore[override]
        return None, None

    async def set(
        self, prefix: str, key: str, value: bytes, ttl: float, *, generation: int | None = None
    ) -> None:
        self.sets.append((prefix, key, generation))


async def test_no_generation_from_the_lookup_means_no_write() -> None:
    cache, reads = Unreachable(), Reads()
    assert await order_by_id(ById("a"), cache=cache, reads=reads) == {"id": "a"}
    assert await order_by_id(ById("a"), cache=cache, reads=reads) == {"id": "a"}
    assert reads.calls == ["a", "a"]
    assert cache.sets == []


async def test_a_miss_is_stored_in_the_generation_it_was_looked_up_in(cache: MemoryCache) -> None:
    await cache.evict("orders")
    await cache.evict("orders")

    @cached("orders", ttl=30, key=lambda q, **_: f"id:{q.id}")
    async def evicting(q: ById, *, cache: Cache | None) -> dict[str, str]:
        await evict(cache, "orders")  # a write commits while the value is computed
        return {"id": q.id}

    assert await evicting(ById("a"), cache=cache) == {"id": "a"}
    assert await cache.lookup("orders", "id:a") == (None, 3)  # dropped, not stored as current
    assert await order_by_id(ById("a"), cache=cache, reads=Reads()) == {"id": "a"}
    assert await cache.lookup("orders", "id:a") == (b'{"id":"a"}', 3)


async def test_cache_keyword_is_required_and_none_disables_caching() -> None:
    reads = Reads()
    with pytest.raises(TypeError, match="cache"):
        await order_by_id(ById("a"), reads=reads)  # type: ignore[call-arg]
    await order_by_id(ById("a"), cache=None, reads=reads)
    await order_by_id(ById("a"), cache=None, reads=reads)
    assert reads.calls == ["a", "a"]


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [("orders:*", "orders"), ("orders", "orders"), ("orders:stats:*", "orders:stats")],
)
def test_patterns_accepted(pattern: str, prefix: str) -> None:
    assert prefix_of(pattern) == prefix


@pytest.mark.parametrize("pattern", ["ord*ers", "orders*", "orders:?", "*", ":*", "", "o[rs]"])
def test_other_globs_rejected_at_decoration(pattern: str) -> None:
    with pytest.raises(ValueError, match="cache pattern"):
        cache_evict(pattern)
    with pytest.raises(ValueError, match="cache pattern"):
        cached(pattern, ttl=1, key=lambda *_, **__: "k")


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        cached("orders", ttl=0, key=lambda *_, **__: "k")


def _order() -> OrderView:
    at = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    return OrderView(
        id=uuid4(), order_id="IL-1001", branch="il", order_status="paid",
        amount=Decimal("149.90"), currency="USD", client_name="Dana Levi",
        client_email="dana@example.com", client_phone=None, phone_valid=False,
        whatsapp_alerts_enabled=True, product_country="india", product_doc_type="e-visa",
        visa_entries="single", visa_document_validity_days=30, processing_days=3,
        is_urgent=False, visa_quantity=2, entry_date=at, created_at=at, processed_at=None,
        flags=[FlagView(field="client_phone", issue="invalid"), FlagView("email", "missing")],
    )  # fmt: skip


async def test_read_model_round_trips_through_the_codec(cache: MemoryCache) -> None:
    order = _order()
    calls: list[UUID] = []

    @cached("orders", ttl=30, key=lambda id, **_: f"uuid:{id}", decode=decoder(OrderView))
    async def by_uuid(id: UUID, *, cache: Cache | None) -> OrderView | None:
        calls.append(id)
        return order

    assert await by_uuid(order.id, cache=cache) is order
    again = await by_uuid(order.id, cache=cache)
    assert calls == [order.id]
    assert again == order
    assert again is not None  # equality above also covers tz-aware datetimes
    assert [type(again.amount), type(again.id), type(again.flags[0])] == [Decimal, UUID, FlagView]


@pytest.mark.parametrize("stored", [b"not json{", b"[1, 2]"])
async def test_entry_that_no_longer_decodes_is_recomputed(
    cache: MemoryCache, stored: bytes
) -> None:
    await cache.set("orders", "id:a", stored, 30)

    @cached("orders", ttl=30, key=lambda q, **_: f"id:{q.id}", decode=decoder(ById))
    async def handler(q: ById, *, cache: Cache | None) -> ById:
        return q

    assert await handler(ById("a"), cache=cache) == ById("a")
    assert await cache.get("orders", "id:a") == b'{"id":"a"}'


async def test_memory_cache_drops_dead_then_oldest_entries_when_full(clock: FakeClock) -> None:
    cache = MemoryCache(max_entries=10, clock=clock)
    await cache.set("short", "k", b"x", ttl=1)
    for i in range(9):
        await cache.set("long", str(i), b"x", ttl=60)
    clock.advance(2)
    await cache.set("long", "9", b"x", ttl=60)  # full: only the expired entry goes
    assert len(cache) == 10
    assert await cache.get("long", "0") == b"x"
    await cache.set("long", "10", b"x", ttl=60)  # full of live entries: the oldest go
    assert len(cache) <= 10
    assert await cache.get("long", "0") is None
    assert await cache.get("long", "10") == b"x"
