"""Build an Order from a storefront body `{order, form}`: reject the unstorable, flag the odd."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from domain.errors import InvalidOrderBody
from domain.orders import normalise as rules
from domain.orders.model import Order, OrderFlag, OrderStatus

# Widths of the `orders` columns: PostgreSQL refuses longer values, so a too-long order id (the
# dedupe key, which must not be cut) rejects the body; other too-long text is set aside and flagged.
_ORDER_ID_MAX = 64
_CENT = Decimal("0.01")
_MAX_QUANTITY = 10
# `pending` counts although the storefront never sends it: it means what a missing status means.
_STATUSES = frozenset(s.value for s in OrderStatus)
_EMPTY: Mapping[str, Any] = {}


def order_from_body(body: Mapping[str, Any], *, id: UUID, now: datetime) -> Order:
    """The Order a storefront body describes; raises InvalidOrderBody only when it cannot be stored.

    A key is consumed only when a column holds its value faithfully; everything else that was sent
    lands in `extra_data` under "order" and "form" (and "body" for stray top-level keys).
    """
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
    r = _Reader(order, form)
    r.used["order"].add("id")
    amount = _amount(order.get("amount"), r)

    raw_branch = order.get("branch")
    branch = rules.normalise_branch(raw_branch, order_id)
    if isinstance(raw_branch, str) and raw_branch.strip().lower() == branch:
        r.used["order"].add("branch")
    else:
        r.flag("order.branch", f"{_missing_or(raw_branch, 'unknown branch')}; used {branch!r}")
    form_id = r.text("order", "form_id", 64) or r.text("form", "id", 64)
    if rules.clean_text(form.get("id")) == form_id:
        r.used["form"].add("id")
    if rules.clean_text(form.get("orderId")) == order_id:
        r.used["form"].add("orderId")  # a copy that disagrees stays in extra_data

    client = r.parts["form.client"] = r.obj("client")
    # client_name is NOT NULL: a missing name is stored as "" (not a made-up "Unknown") and flagged.
    client_name = r.text("form.client", "name", 255, required=True) or ""
    email = r.text("form.client", "email", 320, required=True)
    if email is not None and "@" not in email:
        r.flag("form.client.email", "does not look like an email address")
    phone, phone_valid = rules.normalise_phone(client.get("phone"))
    if phone is None:
        r.flag("form.client.phone", _missing_or(client.get("phone"), "not a phone number"))
    else:
        r.used["form.client"].add("phone")
        if not phone_valid:
            r.flag("form.client.phone", "invalid number; stored as given, no WhatsApp")
    alerts = client.get("whatsappAlertsEnabled")
    if alerts is None or isinstance(alerts, bool):  # absent means off, as in the storefront
        r.used["form.client"].add("whatsappAlertsEnabled")
    else:
        r.flag("form.client.whatsappAlertsEnabled", "not a boolean; alerts off")

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
    product_data = {**product, "urgency": "urgent" if urgent else "standard"}
    if product.get("urgency", product_data["urgency"]) != product_data["urgency"]:
        r.form_extra["product"] = {"urgency": product["urgency"]}  # overwritten in product_data
    wait = product.get("wait")
    if wait is not None and rules.positive_wait(wait) is None:
        r.flag("form.product.wait", f"not a whole number of days in 1..365: {rules.describe(wait)}")

    applicants = form.get("applicants")
    if isinstance(applicants, list):
        r.used["form"].add("applicants")
    elif applicants is not None:
        r.flag("form.applicants", "not a list; kept in extra_data")
    applicants = list(applicants) if isinstance(applicants, list) else []
    entry_date, entry = None, form.get("entry")  # entry stays in extra_data: port has no column
    if isinstance(entry, Mapping) and entry.get("date") is not None:
        entry_date = rules.parse_entry_date(entry.get("date"))
        if entry_date is None:
            r.flag("form.entry.date", f"unparseable date {rules.describe(entry.get('date'))}")

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
        currency=_currency(order.get("currency"), country, r),
        order_status=_status(order.get("status"), r),
        client_name=client_name,
        client_email=email,
        client_phone=phone,
        phone_valid=phone_valid,
        whatsapp_alerts_enabled=alerts is True,
        product_country=country,
        product_doc_type=r.text("form.product", "docType", 64),
        product_doc_name=r.text("form.product", "docName", 128),
        product_intent=r.text("form.product", "intent", 64),
        visa_entries=r.text("form.product", "entries", 32),
        product_validity=validity,
        visa_document_validity_days=days,
        processing_days=rules.processing_days(urgent, wait, country),
        is_urgent=urgent,
        visa_quantity=_quantity(form.get("quantity"), len(applicants), r),
        entry_date=entry_date,
        product_data=product_data,
        applicants_data=applicants,
        extra_data=extra,
        flags=r.flags,
        webhook_received_at=now,
        processed_at=None,
        created_at=now,
        updated_at=now,
    )
    extra["order"], extra["form"] = r.rest("order"), {**r.rest("form"), **r.form_extra}
    if isinstance(form.get("client"), Mapping) and r.rest("form.client"):
        extra["form"]["client"] = r.rest("form.client")
    if stray := {k: v for k, v in body.items() if k not in ("order", "form")}:
        extra["body"] = stray
    return result


class _Reader:
    """Reads one body: collects flags and, per part, the keys a column holds faithfully."""

    def __init__(self, order: Mapping[str, Any], form: Mapping[str, Any]) -> None:
        self.parts = {"order": order, "form": form, "form.client": _EMPTY, "form.product": _EMPTY}
        self.used: dict[str, set[str]] = {part: set() for part in self.parts}
        self.form_extra: dict[str, Any] = {}
        self.flags: list[OrderFlag] = []

    def flag(self, field: str, issue: str) -> None:
        self.flags.append(OrderFlag(field, issue))

    def obj(self, key: str) -> Mapping[str, Any]:
        value = self.parts["form"].get(key)
        if isinstance(value, Mapping):
            self.used["form"].add(key)
            return value
        self.flag(f"form.{key}", _missing_or(value, "not an object; kept in extra_data"))
        return _EMPTY

    def text(self, part: str, key: str, limit: int, *, required: bool = False) -> str | None:
        """A text column: consumed when it fits; else None, flagged, and kept where it was."""
        raw = self.parts[part].get(key)
        value = rules.clean_text(raw)
        where = "product_data" if part == "form.product" else "extra_data"
        if value is not None and len(value) > limit:
            self.flag(f"{part}.{key}", f"over {limit} characters; kept in {where}")
            return None
        if value is None and raw is not None and not _blank(raw):
            self.flag(f"{part}.{key}", f"not text ({rules.describe(raw)}); kept in {where}")
            return None
        self.used[part].add(key)
        if value is None and required:
            self.flag(f"{part}.{key}", "missing")
        return value

    def rest(self, part: str) -> dict[str, Any]:
        return {k: v for k, v in self.parts[part].items() if k not in self.used[part]}


def _amount(raw: object, r: _Reader) -> Decimal:
    try:
        value = rules.normalise_amount(raw)
    except ValueError as exc:
        raise InvalidOrderBody(f"order.amount {exc}", field="order.amount") from None
    if value is None:
        r.flag("order.amount", "missing; stored as 0")
        value = Decimal(0)
    cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    if cents >= rules.MAX_AMOUNT:  # 9999999999.995 rounds out of numeric(12, 2)
        raise InvalidOrderBody("order.amount is too large", field="order.amount")
    if cents == value:
        r.used["order"].add("amount")
    else:
        r.flag("order.amount", f"rounded to cents: {rules.describe(raw)} -> {cents}")
    return cents


def _status(raw: object, r: _Reader) -> OrderStatus:
    text = raw.strip().lower() if isinstance(raw, str) else None
    if raw is not None and text != "" and text not in _STATUSES:
        r.flag("order.status", f"unknown status {rules.describe(raw)}; stored as active")
        return OrderStatus.ACTIVE
    r.used["order"].add("status")
    return OrderStatus(text) if text else OrderStatus.PENDING


def _currency(raw: object, country: str, r: _Reader) -> str:
    currency = rules.currency_for(raw, country)
    if isinstance(raw, str) and raw.strip().upper() == currency:
        r.used["order"].add("currency")
    else:
        problem = _missing_or(raw, "not an ISO currency code")
        r.flag("order.currency", f"{problem}; {currency} from the destination")
    return currency


def _quantity(raw: object, applicants: int, r: _Reader) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= _MAX_QUANTITY:
        r.used["form"].add("quantity")
        if applicants and applicants != raw:
            r.flag("form.quantity", f"{raw} but {applicants} applicants")
        return raw
    fallback = applicants if 1 <= applicants <= _MAX_QUANTITY else 1
    problem = _missing_or(raw, f"not 1..{_MAX_QUANTITY}: {rules.describe(raw)}")
    r.flag("form.quantity", f"{problem}; stored as {fallback}")
    return fallback


def _blank(value: object) -> bool:
    return value == {} or (isinstance(value, str) and not value.strip())


def _missing_or(value: object, problem: str) -> str:
    return "missing" if value is None or _blank(value) else problem
