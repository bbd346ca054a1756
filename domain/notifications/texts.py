"""Display texts for customers: translations from the `translations` table, passed in as data,
and the Hebrew phrasing rules of the reference (digest §3.5) built on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.orders.countries import display_name
from domain.orders.model import Order


@dataclass(frozen=True)
class Translations:
    """(kind, key) -> text in one language; kinds: country, visa_type, validity, processing_days
    (and optionally intent). Loaded from the database; the rules below never hard-code them."""

    language: str
    texts: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def get(self, kind: str, key: str | None) -> str | None:
        if not key:
            return None
        return self.texts.get((kind, key.strip().lower()))


# Phrases the seed does not carry; a translation of kind `intent` overrides them.
INTENT_HE = {"general": "תיירות ועסקים", "tourism": "תיירות", "business": "עסקים"}
# Travel permits are named by their document, whatever the intent.
PERMIT_HE = {"eta": "אישור נסיעה", "voa": "ויזה בהגעה"}
# Long-stay visa codes the customer knows by their letters.
CODE_DOC_TYPES = frozenset({"dtv", "stv", "ltv"})
MULTIPLE_ENTRIES_HE = ", רב פעמית,"
DEFAULT_VALIDITY_HE = "30 ימים"


def destination(order: Order, texts: Translations) -> str:
    return texts.get("country", order.product_country) or display_name(order.product_country)


def validity(order: Order, texts: Translations) -> str:
    return texts.get("validity", order.product_validity) or DEFAULT_VALIDITY_HE


def processing_days(order: Order, texts: Translations) -> str:
    days = order.processing_days
    if known := texts.get("processing_days", str(days)):
        return known
    return "תוך יום עסקים אחד" if days == 1 else f"תוך {days} ימי עסקים"


def visa_type(order: Order, texts: Translations) -> str:
    """The reference's rule: eta and voa by their permit name; dtv/stv/ltv and document types
    the Hebrew map does not know by their code; otherwise the intent, with "multiple entries"
    inserted for multi-entry visas; always followed by the validity."""
    doc = (order.product_doc_type or "").strip().lower()
    period = validity(order, texts)
    if doc in PERMIT_HE:
        return f"{PERMIT_HE[doc]} {period}"
    if doc and (doc in CODE_DOC_TYPES or texts.get("visa_type", doc) is None):
        return f"{doc.upper()} {period}"
    intent = (order.product_intent or "tourism").strip().lower()
    phrase = texts.get("intent", intent) or INTENT_HE.get(intent) or INTENT_HE["tourism"]
    if (order.visa_entries or "").strip().lower() == "multiple":
        return f"{phrase}{MULTIPLE_ENTRIES_HE} {period}"
    return f"{phrase} {period}"


def translated_fields(order: Order, texts: Translations) -> dict[str, str]:
    """What the contact sync row keeps in the customer's language (Hebrew orders only)."""
    return {
        "country": destination(order, texts),
        "visa_type": visa_type(order, texts),
        "processing_days": processing_days(order, texts),
    }
