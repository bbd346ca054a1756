"""CBB adapters: `CbbContactSync` (create, else update every custom field) and `CbbMessaging`
(WhatsApp templates through the CRM's send_content), over one `CbbClient`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.contacts.ports import Contact, ContactSyncError
from app.notifications.ports import MessagingError, TemplateMessage
from infrastructure.vendors.cbb import CbbClient


def _segment(value: str) -> str:
    # Phones keep their "+": CBB keys contacts by the number as written.
    return quote(value, safe="+")


def _id_of(body: Any) -> str | None:
    """The vendor's id in an answer, at the top or under `data`; None when it gives none."""
    for part in (body, body.get("data") if isinstance(body, dict) else None):
        if isinstance(part, dict) and part.get("id") not in (None, ""):
            return str(part["id"])
    return None


def _known(body: Any) -> dict[str, Any] | None:
    """The contact of a GET answer; CBB answers an empty object for a phone it does not know."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    if isinstance(body, dict) and (body.get("phone") or body.get("id")):
        return body
    return None


def create_body(contact: Contact) -> dict[str, Any]:
    """POST /contacts: basic fields, and every custom field as a set_field_value action (by
    name: the action refuses field ids)."""
    body: dict[str, Any] = {
        "phone": contact.phone,
        "first_name": contact.name,
        "last_name": "",
        "language": contact.language,
        "actions": [
            {"action": "set_field_value", "field_name": f.name, "value": f.value}
            for f in contact.fields
        ],
    }
    if contact.email:
        body["email"] = contact.email
    if contact.gender:
        body["gender"] = contact.gender
    return body


class CbbContactSync:
    """Implements `ContactSync`. Basic fields of a known contact cannot change at CBB; its
    custom fields are each rewritten, so a repeat customer's new order reaches the CRM."""

    def __init__(self, client: CbbClient) -> None:
        self._client = client

    async def upsert(self, contact: Contact) -> tuple[str, bool]:
        found = await self._client.call(
            "GET",
            f"/contacts/{_segment(contact.phone)}",
            operation="contact.get",
            error=ContactSyncError,
        )
        known = _known(found)
        if known is None:
            created = await self._client.call(
                "POST",
                "/contacts",
                json=create_body(contact),
                operation="contact.create",
                error=ContactSyncError,
            )
            return _id_of(created) or contact.phone, True
        contact_id = _id_of(known) or contact.phone
        for field in contact.fields:
            # One at a time, as the API takes them; a failure raises and the job's retry
            # rewrites them all (setting a value twice is harmless).
            await self._client.call(
                "POST",
                f"/contacts/{_segment(contact_id)}/custom_fields/{field.field_id}",
                form={"value": field.value},
                operation="field.update",
                error=ContactSyncError,
            )
        return contact_id, False


def send_content_body(message: TemplateMessage) -> dict[str, Any]:
    """A Meta-style template message; our reference rides as the opaque callback data."""
    return {
        "messages": [
            {
                "type": "template",
                "template": {
                    "name": message.template,
                    "language": {"code": message.language},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": p} for p in message.params],
                        }
                    ],
                },
                "biz_opaque_callback_data": message.reference,
            }
        ]
    }


def _message_id(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        found = messages[0].get("id")
        if found:
            return str(found)
    found = body.get("message_id")
    return str(found) if found else _id_of(body)


class CbbMessaging:
    """Implements `Messaging`: returns the provider's message id when the answer has one."""

    def __init__(self, client: CbbClient) -> None:
        self._client = client

    async def send_template(self, message: TemplateMessage) -> str | None:
        answer = await self._client.call(
            "POST",
            f"/contacts/{_segment(message.phone)}/send_content",
            json=send_content_body(message),
            operation="message.send",
            error=MessagingError,
            idempotent=False,
        )
        return _message_id(answer)
