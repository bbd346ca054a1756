"""Reading one storefront body into columns: which keys a column consumed, what was flagged."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.errors import InvalidOrderBody
from domain.orders import normalise as rules
from domain.orders.model import OrderFlag, OrderStatus

_CENT = Decimal("0.01")
_MAX_QUANTITY = 10
# `pending` counts although the storefront never sends it: it means what a missing status means.
_STATUSES = frozenset(s.value for s in OrderStatus)
EMPTY: Mapping[str, Any] = {}


class BodyReader:
    """Reads one body: collects flags and, per part, the keys a column holds faithfully."""

    def __init__(self, order: Mapping[str, Any], form: Mapping[str, Any]) -> None:
        self.parts = {"order": order, "form": form, "form.client": EMPTY, "form.product": EMPTY}
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
        self.flag(f"form.{key}", missing_or(value, "not an object; kept in extra_data"))
        return EMPTY

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


def read_amount(raw: object, r: BodyReader) -> Decimal:
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


def read_status(raw: object, r: BodyReader) -> OrderStatus:
    text = raw.strip().lower() if isinstance(raw, str) else None
    if raw is not None and text != "" and text not in _STATUSES:
        r.flag("order.status", f"unknown status {rules.describe(raw)}; stored as active")
        return OrderStatus.ACTIVE
    r.used["order"].add("status")
    return OrderStatus(text) if text else OrderStatus.PENDING


def read_currency(raw: object, country: str, r: BodyReader) -> str:
    currency = rules.currency_for(raw, country)
    if isinstance(raw, str) and raw.strip().upper() == currency:
        r.used["order"].add("currency")
    else:
        problem = missing_or(raw, "not an ISO currency code")
        r.flag("order.currency", f"{problem}; {currency} from the destination")
    return currency


def read_quantity(raw: object, applicants: int, r: BodyReader) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= _MAX_QUANTITY:
        r.used["form"].add("quantity")
        if applicants and applicants != raw:
            r.flag("form.quantity", f"{raw} but {applicants} applicants")
        return raw
    fallback = applicants if 1 <= applicants <= _MAX_QUANTITY else 1
    problem = missing_or(raw, f"not 1..{_MAX_QUANTITY}: {rules.describe(raw)}")
    r.flag("form.quantity", f"{problem}; stored as {fallback}")
    return fallback


def _blank(value: object) -> bool:
    return value == {} or (isinstance(value, str) and not value.strip())


def missing_or(value: object, problem: str) -> str:
    return "missing" if value is None or _blank(value) else problem
