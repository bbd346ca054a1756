"""Personal data to read back over HTTP: a sandbox CRM contact, a dead letter whose arguments and
error carry a customer's fields, and a stored order (shared by test_personal_data_http and the
access matrix)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from app.contacts.commands import SyncContact
from app.contacts.ports import Contact
from domain.contacts.fields import CustomField, FieldType
from infrastructure.db.tables import failed_jobs, outbox
from infrastructure.vendors.sandbox import SandboxContactSync
from tests.auth import key
from tests.waiting import eventually
from visapi.bootstrap import Container

PHONE = "972501234567"
EMAIL = "dana@example.com"
PASSPORT = "P1234567"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"

# Documents that reach personal data from root fields not needing orders:read.
SANDBOX = """{ sandboxMessages(first: 50) { totalCount
  edges { node { id vendor operation phone payload } } } }"""
FAILED = (
    "{ failedJobs(first: 5) { totalCount edges { node { id actor attempts arguments error } } } }"
)
RESEND = """mutation($id: ID!) { resendConfirmation(orderId: $id, force: true) { __typename
  ... on ConfirmationQueued { created notification { id item status phone } } } }"""
CREATE_ORDER = """mutation($p: JSON!) { createOrder(payload: $p) { __typename
  ... on OrderAccepted { created order { orderId clientName clientEmail clientPhone } } } }"""
RUN = """mutation($id: ID!) { runWorkflow(id: $id, context: {client: {email: "dana@example.com"}}) {
  id status context } }"""
FLOW = {
    "name": "pii",
    "triggers": [{"type": "manual"}],
    "steps": [{"id": "wait", "type": "delay", "config": {"seconds": 0}}],
}


def leaks(response: httpx.Response) -> bool:
    return any(secret in response.text for secret in (PHONE, EMAIL, PASSPORT, "Dana"))


async def seed_personal(container: Container, client: httpx.AsyncClient) -> str:
    """Store the three; return the order's id."""
    passport = CustomField("passport", 7, FieldType.TEXT, PASSPORT)
    contact = Contact(PHONE, "Dana Levi", EMAIL, "he", fields=(passport,))
    await SandboxContactSync(container.engine).upsert(contact)
    row = {
        "id": uuid.uuid4(),
        "message_id": str(uuid.uuid4()),
        "queue": "default",
        "actor": "sync_contact",
        "arguments": {"phone": PHONE, "email": EMAIL},
        "error": f"VendorError: contact {EMAIL} refused",
        "attempts": 6,
        "failed_at": datetime.now(UTC),
    }
    async with container.engine.begin() as conn:
        await conn.execute(insert(failed_jobs), [row])
    body = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    create = (
        "mutation($p: JSON!) { createOrder(payload: $p) { ... on OrderAccepted { order { id } } } }"
    )
    admin = await key(container, "admin", name="seed")
    answer = await client.post(
        "/graphql", json={"query": create, "variables": {"p": body}}, headers={"X-API-Key": admin}
    )
    order_id: str = answer.json()["data"]["createOrder"]["order"]["id"]
    # Synced, as a worker would have (production mode runs none here): a confirmation needs it.
    await container.bus.handle(SyncContact(uuid.UUID(order_id)))
    if container.settings.embedded:
        # The embedded worker runs the order's own jobs too: wait until they are done, so the
        # records a test reads do not change between its page and its count.
        await settled(container)
    return order_id


async def _outbox_empty(container: Container) -> bool:
    unpublished = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    async with container.engine.connect() as conn:
        return (await conn.scalar(unpublished)) == 0


async def settled(container: Container) -> None:
    """Every job the order started is done: the outbox relayed (a job is not on a queue, so
    not joined, until the relay publishes it) and every queue joined, until a join leaves no
    new outbox row behind (a job may start another)."""
    for _ in range(5):
        await eventually(lambda: _outbox_empty(container), why="the outbox was never relayed")
        for queue in sorted(container.broker.get_declared_queues()):
            await asyncio.to_thread(container.broker.join, queue, timeout=10_000)
        if await _outbox_empty(container):
            return
    raise AssertionError("jobs kept starting jobs: the order's work never settled")
