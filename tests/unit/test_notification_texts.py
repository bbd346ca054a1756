"""Customer texts from translation data, and the confirmation's values and template binding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.notifications import confirmation as c
from domain.notifications.texts import (
    DEFAULT_VALIDITY_HE,
    Translations,
    destination,
    processing_days,
    validity,
    visa_type,
)
from domain.orders.model import Order
from tests.unit.intake_support import body_with, build

EMPTY = Translations("he")
TEXTS = Translations(
    "he",
    {
        ("country", "uk"): "בריטניה",
        ("validity", "month"): "לחודש",
        ("processing_days", "2"): "יומיים",
        ("visa_type", "evisa"): "ויזה אלקטרונית",
        ("intent", "business"): "נסיעת עסקים",
    },
)


def order(**changes: object) -> Order:
    made = build(body_with())
    for key, value in changes.items():
        setattr(made, key, value)
    return made


@pytest.mark.parametrize(("key", "text"), [("UK", "בריטניה"), (" uk ", "בריטניה"), ("", None)])
def test_translations_are_found_by_trimmed_lowercase_key(key: str, text: str | None) -> None:
    assert TEXTS.get("country", key) == text


def test_a_key_of_another_kind_is_not_found() -> None:
    assert TEXTS.get("validity", "uk") is None


def test_no_key_finds_nothing() -> None:
    assert TEXTS.get("country", None) is None


def test_an_untranslated_destination_reads_in_english() -> None:
    assert destination(order(product_country="new_zealand"), TEXTS) == "New Zealand"


def test_an_untranslated_validity_reads_thirty_days() -> None:
    assert validity(order(product_validity="decade"), TEXTS) == DEFAULT_VALIDITY_HE


@pytest.mark.parametrize(
    ("days", "text"), [(2, "יומיים"), (1, "תוך יום עסקים אחד"), (7, "תוך 7 ימי עסקים")]
)
def test_processing_days_prefer_the_translation_then_the_rule(days: int, text: str) -> None:
    assert processing_days(order(processing_days=days), TEXTS) == text


def test_a_translated_intent_overrides_the_built_in_phrase() -> None:
    made = order(product_doc_type="evisa", product_intent="business", product_validity="month")
    assert visa_type(made, TEXTS) == "נסיעת עסקים לחודש"


def test_an_unknown_intent_reads_as_tourism() -> None:
    made = order(product_doc_type="evisa", product_intent="pilgrimage", product_validity="month")
    assert visa_type(made, TEXTS) == "תיירות לחודש"


def test_a_document_type_unknown_to_the_translations_is_shown_by_its_code() -> None:
    made = order(product_doc_type="evisa", product_validity="month")
    assert visa_type(made, EMPTY) == "EVISA 30 ימים"


def test_multiple_entries_are_matched_case_insensitively() -> None:
    made = order(product_doc_type=None, visa_entries=" Multiple ", product_validity="month")
    assert visa_type(made, TEXTS) == "תיירות, רב פעמית, לחודש"


def test_confirmation_numbers_are_bare() -> None:
    made = order(amount=Decimal("165.50"), visa_quantity=3, processing_days=10)
    values = c.params(made, TEXTS)
    assert (values["amount"], values["applicant_count"], values["processing_days"]) == (
        "165.5",
        "3",
        "10",
    )


def test_the_customer_name_is_trimmed() -> None:
    assert c.params(order(client_name="  Avi  "), TEXTS)["customer_name"] == "Avi"


TEMPLATE = c.Template("t", "he", ("a", "b"))


def test_bind_orders_values_as_the_template_does() -> None:
    assert c.bind(TEMPLATE, {"b": "2", "a": "1"}) == ["1", "2"]


def test_bind_names_every_empty_parameter() -> None:
    with pytest.raises(c.TemplateMismatch) as caught:
        c.bind(TEMPLATE, {"a": " ", "b": ""})
    assert (caught.value.message, caught.value.field) == (
        "empty template parameter(s): a, b",
        "params",
    )


def test_bind_names_the_template_and_language_when_counts_differ() -> None:
    with pytest.raises(c.TemplateMismatch, match=r"template t \(he\) takes 2 parameters, 1 given"):
        c.bind(TEMPLATE, {"a": "1"})


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], "resend-1"), (["resend-1", "resend-3"], "resend-2"), (["resend-x"], "resend-1")],
)
def test_the_next_resend_fills_the_first_gap(items: list[str], expected: str) -> None:
    assert c.resend_item(items) == expected


def test_every_reason_holds_at_once() -> None:
    made = order(whatsapp_alerts_enabled=False, phone_valid=False, branch="se")
    assert c.ineligible(made, synced=False, already_sent=True) == list(c.Ineligible)
