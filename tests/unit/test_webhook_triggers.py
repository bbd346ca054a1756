"""trigger_webhook on the fake unit of work and key store: the key's workflow gets one run per
idempotency key, repeats get the same run id, another body under the key is refused."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import pytest

from app.errors import NotFound
from app.idempotency import IdempotencyKeyReused, IdempotencyPolicy
from app.workflows.commands import TriggerWebhook
from app.workflows.runs import WEBHOOK_SCOPE, trigger_webhook
from domain.workflows.runs import RunStatus
from tests.fakes import FakeIdempotency, FakeUnitOfWorkFactory
from tests.unit.handler_support import Clock
from tests.unit.workflow_support import create, enabled_of

POLICY = IdempotencyPolicy(ttl_s=3600, wait_s=0, reclaim_after_s=60)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def keys() -> FakeIdempotency:
    return FakeIdempotency()


async def trigger(
    uow: FakeUnitOfWorkFactory,
    keys: FakeIdempotency,
    key: str = "follow-up",
    body: Any = None,
    *,
    idempotency_key: str = "k1",
    request_hash: str = "h1",
) -> UUID:
    cmd = TriggerWebhook(
        key=key,
        body=body if body is not None else {"order": {"id": "A1"}},
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        actor="key:ops",
    )
    return await trigger_webhook(
        cmd,
        uow=uow,
        enabled=enabled_of(uow),
        idempotency=keys,
        policy=POLICY,
        now=Clock(),
        new_id=uuid.uuid4,
    )


async def test_a_webhook_call_queues_a_run_of_the_keys_workflow(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    workflow = await create(uow)
    run_id = await trigger(uow, keys, body={"order": {"id": "A1"}})
    run = uow.store.runs[run_id]
    assert (run.workflow_id, run.status) == (workflow.id, RunStatus.QUEUED)
    assert (run.trigger_type, run.trigger_key) == ("webhook", "follow-up")
    assert run.context == {"body": {"order": {"id": "A1"}}}
    assert [j.arguments["run_id"] for j in uow.store.outbox] == [str(run_id)]


async def test_the_answer_is_kept_under_the_keys_scope(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow)
    run_id = await trigger(uow, keys)
    record = keys.rows[f"{WEBHOOK_SCOPE}:follow-up", "k1"]
    assert (record.status_code, record.response) == (202, {"runId": str(run_id)})


async def test_a_repeated_key_answers_the_first_run_without_another(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow)
    first = await trigger(uow, keys)
    again = await trigger(uow, keys)
    assert again == first
    assert list(uow.store.runs) == [first]


async def test_another_idempotency_key_starts_another_run(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow)
    first = await trigger(uow, keys, idempotency_key="k1")
    second = await trigger(uow, keys, idempotency_key="k2")
    assert first != second
    assert set(uow.store.runs) == {first, second}


async def test_a_repeated_key_with_another_body_is_refused(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow)
    await trigger(uow, keys, request_hash="h1")
    with pytest.raises(IdempotencyKeyReused, match="Idempotency-Key"):
        await trigger(uow, keys, request_hash="h2")
    assert len(uow.store.runs) == 1


async def test_a_key_no_enabled_workflow_owns_is_not_found(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow, enabled=False)
    with pytest.raises(NotFound, match="'follow-up'") as raised:
        await trigger(uow, keys)
    assert raised.value.field == "key"
    assert (uow.store.runs, keys.rows) == ({}, {})


async def test_a_start_that_fails_releases_the_key_for_a_retry(
    uow: FakeUnitOfWorkFactory, keys: FakeIdempotency
) -> None:
    await create(uow)
    uow.store.refusals.append(ConnectionError("database away"))
    with pytest.raises(ConnectionError):
        await trigger(uow, keys)
    assert keys.rows == {}
    run_id = await trigger(uow, keys)  # the retry runs
    assert list(uow.store.runs) == [run_id]
