"""The declarative CRM field map (reference digest §3.4): which order value fills which vendor
field, its type and default, plus the contact's language and gender rules.

Every field with a value is sent on every sync: a repeat customer's fields are rewritten with
this order's values (the reference forgot the update path for existing contacts, §11.15).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from domain.contacts.fields import CustomField, FieldType
from domain.contacts.render import render
from domain.orders.countries import flag
from domain.orders.model import Order

# The CRM speaks the customer's language, chosen by the branch that sold the order.
LANGUAGES: Mapping[str, str] = {"il": "he", "ru": "ru", "se": "sv"}
DEFAULT_LANGUAGE = "en"

GENDERS: Mapping[str, str] = {"m": "male", "f": "female"}

# English validity text for the CRM, from the validity string only: `days_to_use` is known to
# be wrong (Morocco 6-month visas were shown as "1 month", digest §11.7).
VALIDITY_TEXT: Mapping[str, str] = {
    "2_weeks": "2 weeks",
    "15_days": "15 days",
    "month": "1 month",
    "2_months": "2 months",
    "3_months": "3 months",
    "6_months": "6 months",
    "year": "1 year",
    "2_years": "2 years",
    "3_years": "3 years",
    "5_years": "5 years",
    "10_years": "10 years",
}
DEFAULT_VALIDITY_TEXT = "30 days"


def language_for(branch: str) -> str:
    return LANGUAGES.get(branch, DEFAULT_LANGUAGE)


def gender_of(applicants: object) -> str | None:
    """`male`/`female` from the first applicant's passport sex (m/f); None when unknown."""
    if not isinstance(applicants, list) or not applicants:
        return None
    first = applicants[0]
    passport = first.get("passport") if isinstance(first, Mapping) else None
    sex = passport.get("sex") if isinstance(passport, Mapping) else None
    return GENDERS.get(sex.strip().lower()) if isinstance(sex, str) else None


def validity_text(validity: str | None) -> str:
    key = (validity or "").strip().lower()
    return VALIDITY_TEXT.get(key, DEFAULT_VALIDITY_TEXT)


def _stay_limit(order: Order) -> object:
    limit = order.product_data.get("stay_limit") if isinstance(order.product_data, dict) else None
    # A stay limit is a whole number of days; anything else falls back to the default.
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None


@dataclass(frozen=True)
class FieldSpec:
    """One row of the map: vendor field, its type, where the value comes from, its default."""

    name: str
    field_id: int
    type: FieldType
    source: Callable[[Order], Any]
    default: Any = None


def _col(name: str) -> Callable[[Order], Any]:
    return attrgetter(name)


FIELD_MAP: tuple[FieldSpec, ...] = (
    FieldSpec("customer_name", 779770, FieldType.TEXT, _col("client_name")),
    FieldSpec("visa_country", 877737, FieldType.TEXT, _col("product_country")),
    FieldSpec("visa_type", 527249, FieldType.TEXT, _col("product_doc_type"), "tourist"),
    FieldSpec("OrderNumber", 459752, FieldType.TEXT, _col("order_id")),
    FieldSpec("visa_intent", 837162, FieldType.TEXT, _col("product_intent"), "tourism"),
    FieldSpec("visa_entries", 863041, FieldType.TEXT, _col("visa_entries"), "single"),
    FieldSpec("visa_validity", 816014, FieldType.TEXT, lambda o: validity_text(o.product_validity)),
    FieldSpec("visa_flag", 824812, FieldType.TEXT, lambda o: flag(o.product_country)),
    FieldSpec("Email", -12, FieldType.TEXT, _col("client_email")),
    FieldSpec("visa_quantity", 949873, FieldType.NUMBER, _col("visa_quantity"), 1),
    FieldSpec("order_days", 271948, FieldType.NUMBER, _col("processing_days"), 3),
    FieldSpec("order_sum_ils", 358366, FieldType.NUMBER, _col("amount"), 0),
    FieldSpec("stay_limit", 189039, FieldType.NUMBER, _stay_limit, 30),
    FieldSpec("order_urgent", 763048, FieldType.BOOLEAN, _col("is_urgent"), False),
    FieldSpec("wa_alerts", 662459, FieldType.BOOLEAN, _col("whatsapp_alerts_enabled"), False),
    FieldSpec("order_date", 661549, FieldType.DATE, _col("entry_date")),
    FieldSpec("order_date_time", 100644, FieldType.DATETIME, _col("webhook_received_at")),
)


def custom_fields(
    order: Order, field_map: tuple[FieldSpec, ...] = FIELD_MAP
) -> tuple[CustomField, ...]:
    """Every field of the map that has a value (its own or the default), rendered by type.

    A field with neither is left out rather than sent empty: the CRM refuses an empty date,
    and an empty text would erase what an earlier order of the same customer wrote.
    """
    rendered = []
    for spec in field_map:
        value = spec.source(order)
        if value is None or value == "":
            value = spec.default
        if value is None:
            continue
        rendered.append(
            CustomField(spec.name, spec.field_id, spec.type, render(spec.name, spec.type, value))
        )
    return tuple(rendered)
