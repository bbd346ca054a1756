"""Step runners by step type: check the rendered config, then call the vendor port."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from app.notifications.ports import Messaging, TemplateMessage
from app.workflows.execute import StepCall, StepInputError, StepRunner
from app.workflows.ports import Chat, Documents, Mailer
from domain.workflows.rules import valid_email, valid_phone

_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _text(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise StepInputError(f"config.{name} is empty after filling placeholders")
    return value


def step_runners(
    *,
    chat: Chat,
    mailer: Mailer,
    messaging: Messaging,
    documents: Documents,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> dict[str, StepRunner]:
    """One runner per step type of `domain.workflows.schema.STEP_TYPES`."""

    async def slack_send(config: Mapping[str, Any], call: StepCall) -> Any:
        channel = _text(config, "channel")
        if not channel.startswith(("#", "@")):
            raise StepInputError(f"channel {channel[:64]!r} does not start with # or @")
        return await chat.post(channel, _text(config, "message"))

    async def email_send(config: Mapping[str, Any], call: StepCall) -> Any:
        recipient = _text(config, "recipient")
        if not valid_email(recipient):
            raise StepInputError(f"recipient {recipient[:64]!r} is not an email address")
        return await mailer.send(recipient, _text(config, "subject"), str(config.get("body", "")))

    async def whatsapp_send(config: Mapping[str, Any], call: StepCall) -> Any:
        contact = _text(config, "contact")
        if not valid_phone(contact):
            raise StepInputError(f"contact {contact[:32]!r} is not an E.164 phone number")
        params = config.get("params") or []
        message = TemplateMessage(
            phone=contact.removeprefix("+"),  # stored phones are digits (DOMAIN.md "Data")
            template=_text(config, "template"),
            language=str(config.get("language") or "en"),
            params=[str(p) for p in params] if isinstance(params, list) else [],
            reference=f"run:{call.run_id}:{call.step_id}",
        )
        return {"messageId": await messaging.send_template(message)}

    async def delay(config: Mapping[str, Any], call: StepCall) -> Any:
        seconds = config.get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            raise StepInputError("config.seconds must be a non-negative number")
        await sleep(float(seconds))
        return {"seconds": seconds}

    async def pdf_generate(config: Mapping[str, Any], call: StepCall) -> Any:
        name = str(config.get("filename") or f"{call.run_id}-{call.step_id}")
        name = _FILENAME.sub("-", name).strip(".-")[:100] or str(call.run_id)
        if not name.endswith(".pdf"):
            name += ".pdf"
        return await documents.pdf(_text(config, "template"), name)

    return {
        "slack.send": slack_send,
        "email.send": email_send,
        "whatsapp.send": whatsapp_send,
        "delay": delay,
        "pdf.generate": pdf_generate,
    }
