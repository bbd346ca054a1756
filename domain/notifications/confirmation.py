"""The order confirmation: who gets it, its eight parameters, and the check against the template.

A template's parameter list lives in the database; a mismatch fails here, before any row or job
exists, instead of at the vendor (which rejects wrong counts, digest §11.15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.contacts.fields import FieldType
from domain.contacts.render import render
from domain.errors import DomainError
from domain.notifications.texts import Translations, destination, visa_type
from domain.orders.countries import flag
from domain.orders.model import Order

KIND = "order_confirmation"
TEMPLATE = "order_confirmation_global"
LANGUAGE = "he"
# The confirmation is a Hebrew template for the Israeli storefront only.
BRANCHES = frozenset({"il"})
# The first confirmation of an order; admin resends add `resend-<n>` rows.
FIRST_ITEM = ""


class Ineligible(StrEnum):
    """Why an order gets no confirmation (several may hold at once)."""

    NOT_SYNCED = "the contact is not synced to the CRM"
    ALERTS_OFF = "the customer did not enable WhatsApp alerts"
    PHONE_INVALID = "the phone number is not valid"
    BRANCH = "only Israeli-branch orders get the Hebrew confirmation"
    ALREADY_SENT = "a confirmation was already sent"


def ineligible(
    order: Order, *, synced: bool, already_sent: bool, phone_valid: bool | None = None
) -> list[Ineligible]:
    """Every reason the order gets no confirmation; empty when it does.

    `phone_valid` overrides the order's own flag when an admin gives another phone.
    """
    reasons = []
    if not synced:
        reasons.append(Ineligible.NOT_SYNCED)
    if not order.whatsapp_alerts_enabled:
        reasons.append(Ineligible.ALERTS_OFF)
    valid = order.phone_valid and bool(order.client_phone) if phone_valid is None else phone_valid
    if not valid:
        reasons.append(Ineligible.PHONE_INVALID)
    if order.branch not in BRANCHES:
        reasons.append(Ineligible.BRANCH)
    if already_sent:
        reasons.append(Ineligible.ALREADY_SENT)
    return reasons


def params(order: Order, texts: Translations) -> dict[str, str]:
    """The confirmation's values by parameter name, in the template's order."""
    number = FieldType.NUMBER
    return {
        "customer_name": order.client_name.strip(),
        "destination": destination(order, texts),
        "flag_emoji": flag(order.product_country),
        "order_number": order.order_id,
        "visa_type": visa_type(order, texts),
        # Bare numbers: the template prints the multiplication and shekel signs itself.
        "applicant_count": render("applicant_count", number, order.visa_quantity),
        "amount": render("amount", number, order.amount),
        "processing_days": render("processing_days", number, order.processing_days),
    }


class TemplateMismatch(DomainError):
    """The values do not fit the template's parameter list."""


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...]


def bind(template: Template, values: Mapping[str, str]) -> list[str]:
    """The template's body parameters in order; raises `TemplateMismatch` naming what is wrong:
    a different count, a name the template does not have, or an empty value (WhatsApp refuses
    empty parameters)."""
    expected, given = list(template.parameters), list(values)
    if len(expected) != len(given):
        raise TemplateMismatch(
            f"template {template.name} ({template.language}) takes {len(expected)} parameters,"
            f" {len(given)} given",
            field="params",
        )
    missing = [name for name in expected if name not in values]
    if missing:
        raise TemplateMismatch(
            f"template {template.name} ({template.language}) has no value for {', '.join(missing)}",
            field="params",
        )
    empty = [name for name in expected if not str(values[name]).strip()]
    if empty:
        raise TemplateMismatch(f"empty template parameter(s): {', '.join(empty)}", field="params")
    return [str(values[name]) for name in expected]


def resend_item(existing_items: Sequence[str]) -> str:
    """The item of the next forced resend: `resend-1`, `resend-2`, ..."""
    taken = {item for item in existing_items if item.startswith("resend-")}
    n = 1
    while f"resend-{n}" in taken:
        n += 1
    return f"resend-{n}"
