"""Sandbox chat, mail and WhatsApp for workflow steps: what would be sent goes to the
`sandbox_messages` table (visible in GraphQL), for deployments without those vendors set."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.notifications.ports import TemplateMessage
from infrastructure.db.tables import sandbox_messages


class SandboxSteps:
    """Implements Chat, Mailer and Messaging by recording one row per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _record(
        self, vendor: str, operation: str, payload: dict[str, Any], phone: str | None = None
    ) -> str:
        id = uuid.uuid4()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(sandbox_messages).values(
                    id=id,
                    vendor=vendor,
                    operation=operation,
                    phone=phone,
                    payload=payload,
                    created_at=datetime.now(UTC),
                )
            )
        return str(id)

    async def post(self, channel: str, text: str) -> Mapping[str, Any]:
        id = await self._record("slack", "post", {"channel": channel, "text": text})
        return {"sandbox": id, "channel": channel}

    async def send(self, recipient: str, subject: str, body: str) -> Mapping[str, Any]:
        payload = {"recipient": recipient, "subject": subject, "body": body}
        return {"sandbox": await self._record("email", "send", payload), "recipient": recipient}

    async def send_template(self, message: TemplateMessage) -> str | None:
        payload = {
            "template": message.template,
            "language": message.language,
            "params": list(message.params),
            "reference": message.reference,
        }
        return await self._record("whatsapp", "send_template", payload, phone=message.phone)
