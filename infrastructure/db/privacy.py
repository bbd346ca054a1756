"""A person's data in SQL: found by the email or phone their orders carry, exported as JSON-ready
rows, or erased in place (ids, amounts and dates kept for the accounts)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.privacy.ports import ERASED, Person
from domain.notifications.status import NotificationStatus as S
from infrastructure.db.tables import (
    contact_syncs,
    delivery_events,
    logs,
    notifications,
    orders,
    sandbox_messages,
    webhook_payloads,
)

MARKER = {"erased": True}  # what replaces a stored body or payload


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        # str(): a row's keys are SQLAlchemy's quoted_name, which orjson refuses as keys.
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _whose(person: Person) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if person.email:
        variants = list(dict.fromkeys([person.email, person.email.lower()]))
        parts.append(orders.c.client_email.in_(variants))
    if person.phone:
        parts.append(orders.c.client_phone == person.phone)
    return or_(*parts) if parts else false()


class SqlPersonalData:
    """Implements `app.privacy.ports.PersonalData`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def export(self, person: Person) -> dict[str, list[dict[str, Any]]]:
        async with self._engine.connect() as conn:
            found = (await conn.execute(select(orders).where(_whose(person)))).mappings().all()
            ids = [r["id"] for r in found]
            order_ids = [r["order_id"] for r in found]
            phones = sorted({r["client_phone"] for r in found if r["client_phone"]})
            if person.phone:
                phones = sorted({*phones, person.phone})

            async def rows(table: Table, *where: ColumnElement[bool]) -> list[dict[str, Any]]:
                result = await conn.execute(select(table).where(*where))
                return [_jsonable(dict(r)) for r in result.mappings().all()]

            metadata = logs.c.metadata
            return {
                "orders": [_jsonable(dict(r)) for r in found],
                "archivedBodies": await rows(
                    webhook_payloads, webhook_payloads.c.order_uuid.in_(ids)
                ),
                "notifications": await rows(notifications, notifications.c.order_uuid.in_(ids)),
                "contactSyncs": await rows(contact_syncs, contact_syncs.c.order_uuid.in_(ids)),
                "sandboxRecords": await rows(
                    sandbox_messages, sandbox_messages.c.phone.in_(phones)
                ),
                "deliveryEvents": await rows(delivery_events, delivery_events.c.phone.in_(phones)),
                "logs": await rows(
                    logs,
                    or_(
                        metadata["order_uuid"].as_string().in_([str(i) for i in ids]),
                        metadata["order_id"].as_string().in_(order_ids),
                    ),
                ),
            }


class SqlErasure:
    """Implements `app.privacy.ports.Erasure` on a unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def erase(self, order_ids: Sequence[UUID], reason: str) -> int:
        conn, at = self._conn, datetime.now(UTC)
        phones = {
            p
            for p in (
                await conn.execute(select(orders.c.client_phone).where(orders.c.id.in_(order_ids)))
            ).scalars()
            if p
        }
        erased = await conn.execute(
            update(orders)
            .where(orders.c.id.in_(order_ids))
            .values(
                client_name=ERASED,
                client_email=None,
                client_phone=None,
                phone_valid=False,
                whatsapp_alerts_enabled=False,  # and so no message goes out any more
                applicants_data=[],
                extra_data={},
                flags=[],  # notes on odd input quote the input
                updated_at=at,
            )
        )
        await conn.execute(
            update(webhook_payloads)
            .where(webhook_payloads.c.order_uuid.in_(order_ids))
            .values(body=MARKER, error=None)
        )
        # Unsent messages never go out; sent ones keep their times, not their content.
        await conn.execute(
            update(notifications)
            .where(
                notifications.c.order_uuid.in_(order_ids),
                notifications.c.status.in_([S.QUEUED.value, S.PENDING.value]),
            )
            .values(status=S.FAILED.value, failed_at=at, failure_reason=reason, claim_token=None)
        )
        await conn.execute(
            update(notifications)
            .where(notifications.c.order_uuid.in_(order_ids))
            .values(phone=ERASED, params=[], updated_at=at)
        )
        await conn.execute(
            update(contact_syncs)
            .where(contact_syncs.c.order_uuid.in_(order_ids))
            .values(translated_fields={}, last_error=None)
        )
        if phones:
            for table in (sandbox_messages, delivery_events):
                await conn.execute(
                    update(table)
                    .where(table.c.phone.in_(phones))
                    .values(phone=None, payload=MARKER)
                )
        return int(erased.rowcount)
