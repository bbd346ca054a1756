"""Messaging ports: the WhatsApp sender (through the CRM) and the message it sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.vendors import VendorError


@dataclass(frozen=True)
class TemplateMessage:
    """One WhatsApp template message. `params` are the body parameters, in template order;
    `reference` is our notification id, passed as the vendor's opaque callback data."""

    phone: str
    template: str
    language: str
    params: Sequence[str]
    reference: str


class MessagingError(VendorError):
    """A categorised failure of the messaging vendor."""


class Messaging(Protocol):
    """Sends template messages. Returns the vendor's message id when it gives one (CBB does
    not: delivery events are then matched by phone within minutes of sending)."""

    async def send_template(self, message: TemplateMessage) -> str | None: ...
