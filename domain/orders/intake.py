"""Build an Order from a storefront body `{order, form}`: reject the unstorable, flag the odd."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import InvalidOrderBody
from domain.orders import normalise as rules
from domain.orders.intake_reader import (
    BodyReader,
    missing_or,
    read_amount,
    read_currency,
    read_quantity,
    read_status,
)
from domain.orders.model import Order

# Widths of the `orders` columns: PostgreSQL refuses longer values, so a too-long order id (the
# dedupe key, which must not be cut) rejects the body; other too-long text is set aside and flagged.
_ORDER_ID_MAX = 64


def order_from_body(body: Mapping[str, Any], *, id: UUID, now: datetime) -> Order:
    """The Order a storefront body describes; raises InvalidOrderBody only when it cannot be stored.

    A key is consumed only when a column holds its value faithfully; everything else that was sent
    lands in `extra_data` under "order" and "form" (and "body" for stray top-level keys).
    """
    order, form, order_id = _storable(body)
    # Each step consumes keys and may flag: the flags list keeps the order of the steps.
    r = BodyReader(order, form)
    r.used["order"].add("id")
    amount = read_amount(order.get("amount"), r)
    branch = _branch(order.get("branch"), order_id, r)
    form_id = _form_id(order_id, r)
    client = _client(r)
    product = _product(r)
    applicants = _applicants(form.get("applicants"), r)
    entry_date = _entry_date(form.get("entry"), r)
    extra: dict[str, Any] = {}  # filled last: reading the columns decides what was consumed
    result = Order(
        id=id,
        order_id=order_id,
        form_id=form_id,
        branch=branch,
        domain=r.text("order", "domain", 255),
        payment_processor=r.text("order", "payment_processor", 32),
        payment_id=r.text("order", "payment_id", 255),
        amount=amount,
        currency=read_currency(order.get("currency"), product.country, r),
        order_status=read_status(order.get("status"), r),
        client_name=client.name,
        client_email=client.email,
        client_phone=client.phone,
        phone_valid=client.phone_valid,
        whatsapp_alerts_enabled=client.alerts,
        product_country=product.country,
        product_doc_type=r.text("form.product", "docType", 64),
        product_doc_name=r.text("form.product", "docName", 128),
        product_intent=r.text("form.product", "intent", 64),
        visa_entries=r.text("form.product", "entries", 32),
        product_validity=product.validity,
        visa_document_validity_days=product.validity_days,
        processing_days=product.processing_days,
        is_urgent=product.urgent,
        visa_quantity=read_quantity(form.get("quantity"), len(applicants), r),
        entry_date=entry_date,
        product_data=product.data,
        applicants_data=applicants,
        extra_data=extra,
        flags=r.flags,
        webhook_received_at=now,
        processed_at=None,
        created_at=now,
        updated_at=now,
    )
    extra.update(_extra(body, r))
    return result


def _storable(body: object) -> tuple[Mapping[str, Any], Mapping[str, Any], str]:
    """The body's `order`, its `form` and its order id, or InvalidOrderBody naming what is wrong."""
    if not isinstance(body, Mapping):
        raise InvalidOrderBody("The body must be a JSON object")
    order, form = body.get("order"), body.get("form")
    if not isinstance(order, Mapping):
        raise InvalidOrderBody("The body has no `order` object", field="order")
    if not isinstance(form, Mapping):
        raise InvalidOrderBody("The body has no `form` object", field="form")
    order_id = rules.clean_text(order.get("id"))
    if order_id is None or len(order_id) > _ORDER_ID_MAX:
        problem = "is missing" if order_id is None else f"is over {_ORDER_ID_MAX} characters"
        raise InvalidOrderBody(f"order.id {problem}", field="order.id")
    return order, form, order_id


def _branch(raw: object, order_id: str, r: BodyReader) -> str:
    branch = rules.normalise_branch(raw, order_id)
    if isinstance(raw, str) and raw.strip().lower() == branch:
        r.used["order"].add("branch")
    else:
        r.flag("order.branch", f"{missing_or(raw, 'unknown branch')}; used {branch!r}")
    return branch


def _form_id(order_id: str, r: BodyReader) -> str | None:
    """The form id (the order's copy first); the form's own copies of both ids are consumed
    only when they agree, so a copy that disagrees stays in extra_data."""
    form = r.parts["form"]
    form_id = r.text("order", "form_id", 64) or r.text("form", "id", 64)
    if rules.clean_text(form.get("id")) == form_id:
        r.used["form"].add("id")
    if rules.clean_text(form.get("orderId")) == order_id:
        r.used["form"].add("orderId")
    return form_id


@dataclass(frozen=True)
class _Client:
    name: str
    email: str | None
    phone: str | None
    phone_valid: bool
    alerts: bool


def _client(r: BodyReader) -> _Client:
    client = r.parts["form.client"] = r.obj("client")
    # client_name is NOT NULL: a missing name is stored as "" (not a made-up "Unknown") and flagged.
    name = r.text("form.client", "name", 255, required=True) or ""
    email = r.text("form.client", "email", 320, required=True)
    if email is not None and "@" not in email:
        r.flag("form.client.email", "does not look like an email address")
    phone, phone_valid = rules.normalise_phone(client.get("phone"))
    if phone is None:
        r.flag("form.client.phone", missing_or(client.get("phone"), "not a phone number"))
    else:
        r.used["form.client"].add("phone")
        if not phone_valid:
            r.flag("form.client.phone", "invalid number; stored as given, no WhatsApp")
    alerts = client.get("whatsappAlertsEnabled")
    if alerts is None or isinstance(alerts, bool):  # absent means off, as in the storefront
        r.used["form.client"].add("whatsappAlertsEnabled")
    else:
        r.flag("form.client.whatsappAlertsEnabled", "not a boolean; alerts off")
    return _Client(name, email, phone, phone_valid, alerts is True)


@dataclass(frozen=True)
class _Product:
    country: str
    validity: str | None
    validity_days: int | None
    urgent: bool
    processing_days: int
    data: dict[str, Any]


def _product(r: BodyReader) -> _Product:
    form = r.parts["form"]
    product = r.parts["form.product"] = r.obj("product")
    form_country = rules.clean_text(form.get("country"))
    country = r.text("form.product", "country", 64) or r.text("form", "country", 64)
    if country is None:
        r.flag("form.product.country", "missing; stored as 'unknown'")
    country = (country or "unknown").lower()
    if form_country is not None and form_country.lower() == country:
        r.used["form"].add("country")
    validity = r.text("form.product", "validity", 32)
    days = rules.validity_days(validity)
    if validity is not None and days is None:
        r.flag("form.product.validity", f"unknown validity {rules.describe(validity)}")
    # form.urgency also stays in extra_data: its speed (next_day, few_hours) is more than a bool.
    urgent = rules.is_urgent(form.get("urgency", product.get("urgency")))
    data = {**product, "urgency": "urgent" if urgent else "standard"}
    if product.get("urgency", data["urgency"]) != data["urgency"]:
        r.form_extra["product"] = {"urgency": product["urgency"]}  # overwritten in product_data
    wait = product.get("wait")
    if wait is not None and rules.positive_wait(wait) is None:
        r.flag("form.product.wait", f"not a whole number of days in 1..365: {rules.describe(wait)}")
    processing = rules.processing_days(urgent, wait, country)
    return _Product(country, validity, days, urgent, processing, data)


def _applicants(raw: object, r: BodyReader) -> list[Any]:
    if isinstance(raw, list):
        r.used["form"].add("applicants")
        return list(raw)
    if raw is not None:
        r.flag("form.applicants", "not a list; kept in extra_data")
    return []


def _entry_date(entry: object, r: BodyReader) -> datetime | None:
    # The entry itself stays in extra_data: only its date has a column.
    if not isinstance(entry, Mapping) or entry.get("date") is None:
        return None
    entry_date = rules.parse_entry_date(entry.get("date"))
    if entry_date is None:
        r.flag("form.entry.date", f"unparseable date {rules.describe(entry.get('date'))}")
    return entry_date


def _extra(body: Mapping[str, Any], r: BodyReader) -> dict[str, Any]:
    """What no column consumed, by part, once every column has been read."""
    extra: dict[str, Any] = {"order": r.rest("order"), "form": {**r.rest("form"), **r.form_extra}}
    if isinstance(r.parts["form"].get("client"), Mapping) and r.rest("form.client"):
        extra["form"]["client"] = r.rest("form.client")
    if stray := {k: v for k, v in body.items() if k not in ("order", "form")}:
        extra["body"] = stray
    return extra
