"""Live notices without I/O: which commits announce what, the bounded fan-out and its drops, the
memory hub across threads, connection_init credentials, the log filter in memory, and a slow
subscriber dropped with SLOW_CONSUMER through the schema."""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.auth.authenticate import CredentialKind
from app.auth.credentials import params_credential
from app.errors import Unauthenticated
from app.live import Dropped, Notice, OrderEventType, Topic, notices_of, order_notice
from app.logs.live import line_of, matches
from app.logs.ports import LogFilter, LogLevel
from domain.auth.permissions import Permission, Principal, PrincipalKind
from domain.notifications.confirmation import KIND as CONFIRMATION
from domain.notifications.events import NotificationQueued
from domain.orders.model import OrderCreated, OrdersProcessed
from graph.schema import build_schema
from graph.subscribers import Subscribers
from infrastructure.db.logs import log_notice, log_row
from infrastructure.live.fanout import Fanout
from infrastructure.live.memory import MemoryLive
from infrastructure.live.redis import decode, encode

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def notice(n: int, topic: Topic = Topic.ORDERS) -> Notice:
    return Notice(topic, OrderEventType.CREATED.value, str(uuid.UUID(int=n)), AT)


class Counted:
    def __init__(self) -> None:
        self.fanned: dict[str, int] = {}
        self.dropped: dict[str, int] = {}

    def live_connections(self, transport: str, delta: int) -> None:
        pass

    def live_subscriptions(self, field: str, delta: int) -> None:
        pass

    def live_fanned_out(self, topic: str, count: int) -> None:
        self.fanned[topic] = self.fanned.get(topic, 0) + count

    def live_dropped(self, topic: str) -> None:
        self.dropped[topic] = self.dropped.get(topic, 0) + 1


def test_committed_domain_events_announce_order_events() -> None:
    order = uuid.uuid4()
    other = uuid.uuid4()
    events = [
        OrderCreated(
            aggregate_id=order,
            occurred_at=AT,
            order_id="IL1",
            branch="il",
            product_country="uk",
            is_urgent=False,
            phone_valid=True,
            whatsapp_alerts_enabled=True,
        ),
        OrdersProcessed(aggregate_id=order, occurred_at=AT, ids=[str(order), str(other)]),
        NotificationQueued(
            aggregate_id=order, occurred_at=AT, notification_id="n", kind=CONFIRMATION, item="x"
        ),
        NotificationQueued(
            aggregate_id=order, occurred_at=AT, notification_id="m", kind="another", item="x"
        ),
    ]
    assert [(n.kind, n.subject) for n in notices_of(events)] == [
        ("created", str(order)),
        ("processed", str(order)),
        ("processed", str(other)),
        ("confirmation_queued", str(order)),
    ]


async def test_a_subscriber_that_falls_behind_its_buffer_is_dropped_alone() -> None:
    counted = Counted()
    fanout = Fanout(buffer=3, metrics=counted)
    slow, quick = fanout.listen(Topic.ORDERS), fanout.listen(Topic.ORDERS)
    logs = fanout.listen(Topic.LOGS)
    received: list[Notice] = []
    for n in range(5):
        fanout.deliver([notice(n)])
        received.append(await anext(quick))
    assert received == [notice(n) for n in range(5)]
    with pytest.raises(Dropped, match="more than 3 events"):
        await anext(slow)
    assert fanout.count(Topic.ORDERS) == 1  # the slow one was forgotten, its buffer freed
    assert counted.dropped == {"orders": 1}
    assert counted.fanned == {"orders": 3 + 5}  # 3 to the slow one before it overflowed
    logs.close()
    assert fanout.count(Topic.LOGS) == 0
    with pytest.raises(StopAsyncIteration):
        await anext(logs)


async def test_the_memory_hub_hands_another_thread_s_notices_to_the_loop() -> None:
    live = MemoryLive(buffer=10)
    listener = live.listen(Topic.RUNS)
    published = notice(7, Topic.RUNS)
    thread = threading.Thread(target=lambda: asyncio.run(live.publish([published])))
    thread.start()
    got = await asyncio.wait_for(anext(listener), 5)
    thread.join()
    assert got == published


async def test_nobody_listening_means_nothing_is_kept() -> None:
    live = MemoryLive(buffer=10)
    await live.publish([notice(1)])  # no loop known yet: dropped, no error
    assert live.fanout.count() == 0


def test_notices_cross_redis_unchanged() -> None:
    line = log_notice(
        log_row(LogLevel.WARN, "mail me at a@b.example", {"k": 1}, at=AT, correlation_id="c")
    )
    sent = [notice(1), order_notice(OrderEventType.CONFIRMATION_READ, uuid.uuid4(), AT), line]
    assert decode(encode(sent)) == sent
    assert "a@b.example" not in str(encode([line]))  # stored redacted, published as stored


@pytest.mark.parametrize(
    ("payload", "kind", "secret"),
    [
        ({"X-API-Key": "vk_a.b"}, CredentialKind.API_KEY, "vk_a.b"),
        ({"authorization": "Bearer vk_a.b"}, CredentialKind.API_KEY, "vk_a.b"),
        ({"headers": {"X-Api-Key": "vk_a.b"}}, CredentialKind.API_KEY, "vk_a.b"),
        ({"Authorization": "Bearer eyJa.b.c"}, CredentialKind.TOKEN, "eyJa.b.c"),
    ],
)
def test_connection_init_credentials(
    payload: dict[str, Any], kind: CredentialKind, secret: str
) -> None:
    found = params_credential(payload)
    assert found is not None
    assert (found.kind, found.value) == (kind, secret)


@pytest.mark.parametrize(
    "payload",
    [{"X-API-Key": 5}, {"authorization": "Basic abc"}, {"x-api-key": " "}, {"x-api-key": "é"}],
)
def test_connection_init_credentials_that_cannot_be(payload: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        params_credential(payload)


def test_no_credentials_is_none() -> None:
    assert params_credential({"other": "x"}) is None


def test_the_log_filter_in_memory() -> None:
    row = log_row(LogLevel.ERROR, "Payment FAILED", None, at=AT, correlation_id="abc", job_id="j")
    line = line_of(log_notice(row))
    assert matches(LogFilter(), line)
    assert matches(LogFilter(level=LogLevel.ERROR, text="failed", correlation_id="abc"), line)
    assert matches(LogFilter(from_=AT, to=AT + timedelta(seconds=1), job_id="j"), line)
    for refused in (
        LogFilter(level=LogLevel.INFO),
        LogFilter(text="paid"),
        LogFilter(correlation_id="x"),
        LogFilter(job_id="k"),
        LogFilter(to=AT),
        LogFilter(from_=AT + timedelta(seconds=1)),
        LogFilter(workflow_id=uuid.uuid4()),
    ):
        assert not matches(refused, line), refused


@dataclass
class Ctx:
    principal: Principal
    live: Subscribers
    correlation_id: str = "c"
    document: Any = None
    connection: Any = None
    connections: Any = None
    added_errors: list[Any] = field(default_factory=list)


async def test_a_slow_subscriber_gets_slow_consumer_and_is_let_go() -> None:
    hub = MemoryLive(buffer=2)
    reader = Principal(PrincipalKind.API_KEY, uuid.uuid4(), "k", frozenset({Permission.LOGS_READ}))
    ctx = Ctx(reader, Subscribers(hub=hub, per_caller=5))
    stream = await build_schema().subscribe("subscription { logs { message } }", context_value=ctx)
    assert not isinstance(stream, type(None))
    first = asyncio.ensure_future(anext(stream))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)  # the subscription is listening
    row = log_row(LogLevel.INFO, "one", None, at=AT, correlation_id=None)
    await hub.publish([log_notice(row)])
    assert (await first).data == {"logs": {"message": "one"}}
    for n in range(3):  # nobody reads: the third overflows a buffer of 2
        await hub.publish(
            [log_notice(log_row(LogLevel.INFO, f"m{n}", None, at=AT, correlation_id=None))]
        )
    late = await anext(stream)  # type: ignore[arg-type]
    assert late.errors is not None
    assert late.errors[0].extensions == {"code": "SLOW_CONSUMER"}
    assert hub.fanout.count() == 0


async def test_a_failed_publish_quiets_publishing_for_a_moment() -> None:
    from infrastructure.live.redis import RedisLive

    class Broken:
        calls = 0

        async def publish(self, channel: str, data: bytes) -> None:
            Broken.calls += 1
            raise ConnectionError("redis hangs")

    live = RedisLive(Broken(), url="redis://127.0.0.1:1/0", channel="c", buffer=4)
    await live.publish([notice(1)])  # logged, not raised: the change is committed
    await live.publish([notice(2)])  # within the quiet second: not tried
    assert Broken.calls == 1
    await live.aclose()
