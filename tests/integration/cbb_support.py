"""Shared by the CBB adapter tests: a contact with custom fields (one a system field with a
negative id) and a template message; the `cbb_client` fixture is in conftest.py."""

from __future__ import annotations

from app.contacts.ports import Contact
from app.notifications.ports import TemplateMessage
from domain.contacts.fields import CustomField, FieldType

PHONE = "972501234567"
FIELDS = (
    CustomField("customer_name", 779770, FieldType.TEXT, "Dana Levi"),
    CustomField("OrderNumber", 459752, FieldType.TEXT, "IL250101"),
    CustomField("order_sum_ils", 358366, FieldType.NUMBER, "240"),
    CustomField("order_urgent", 763048, FieldType.BOOLEAN, "1"),
    CustomField("order_date", 661549, FieldType.DATE, "1767225600"),
    CustomField("Email", -12, FieldType.TEXT, "dana@example.com"),  # a system field: id < 0
)


def contact(phone: str = PHONE, **values: str) -> Contact:
    fields = tuple(
        CustomField(f.name, f.field_id, f.type, values.get(f.name, f.value)) for f in FIELDS
    )
    return Contact(
        phone=phone, name="Dana Levi", email="dana@example.com", language="he", fields=fields
    )


def message(phone: str = PHONE) -> TemplateMessage:
    params = ("Dana", "בריטניה", "🇬🇧", "IL250101", "אישור נסיעה", "2", "240", "3")
    return TemplateMessage(
        phone=phone,
        template="order_confirmation_global",
        language="he",
        params=params,
        reference="notification-1",
    )
