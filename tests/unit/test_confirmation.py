"""The order confirmation: eligibility, its eight parameters (Hebrew rules), the template check."""

from __future__ import annotations

from typing import Any

import pytest

from domain.notifications import confirmation as c
from domain.notifications.texts import Translations, translated_fields, visa_type
from migrations.seed_data import TEMPLATE_PARAMETERS, TRANSLATIONS_HE
from tests.unit.test_field_map import fixture_order

HE = Translations(
    "he",
    {(kind, key): text for kind, texts in TRANSLATIONS_HE.items() for key, text in texts.items()},
)
TEMPLATE = c.Template(c.TEMPLATE, "he", tuple(TEMPLATE_PARAMETERS))


def test_il_fixture_gets_the_eight_params_in_template_order() -> None:
    order = fixture_order("il-uk-eta.json")
    assert c.ineligible(order, synced=True, already_sent=False) == []
    assert c.bind(TEMPLATE, c.params(order, HE)) == [
        "Avi Cohen",
        "בריטניה",
        "\U0001f1ec\U0001f1e7",
        "IL251101GB07",
        "אישור נסיעה לשנתיים",
        "1",
        "165",
        "3",
    ]


def test_se_fixture_is_not_eligible_for_three_reasons() -> None:
    order = fixture_order("se-india-uppercase-branch-extra-keys.json")
    assert c.ineligible(order, synced=False, already_sent=False) == [
        c.Ineligible.NOT_SYNCED,
        c.Ineligible.ALERTS_OFF,
        c.Ineligible.BRANCH,
    ]


@pytest.mark.parametrize(
    ("changes", "synced", "sent", "phone_valid", "reasons"),
    [
        ({}, True, False, None, []),
        ({}, False, False, None, [c.Ineligible.NOT_SYNCED]),
        ({}, True, True, None, [c.Ineligible.ALREADY_SENT]),
        ({"whatsapp_alerts_enabled": False}, True, False, None, [c.Ineligible.ALERTS_OFF]),
        ({"phone_valid": False}, True, False, None, [c.Ineligible.PHONE_INVALID]),
        ({"client_phone": None}, True, False, None, [c.Ineligible.PHONE_INVALID]),
        ({"phone_valid": False}, True, False, True, []),  # an admin gave a valid phone
        ({}, True, False, False, [c.Ineligible.PHONE_INVALID]),
        ({"branch": "ru"}, True, False, None, [c.Ineligible.BRANCH]),
    ],
)
def test_eligibility(
    changes: dict[str, Any],
    synced: bool,
    sent: bool,
    phone_valid: bool | None,
    reasons: list[c.Ineligible],
) -> None:
    order = fixture_order("il-uk-eta.json", **changes)
    assert c.ineligible(order, synced=synced, already_sent=sent, phone_valid=phone_valid) == reasons


@pytest.mark.parametrize(
    ("doc_type", "intent", "entries", "validity", "expected"),
    [
        ("eta", "tourism", "multiple", "2_years", "אישור נסיעה לשנתיים"),
        ("voa", "tourism", "single", "month", "ויזה בהגעה לחודש"),
        ("dtv", "tourism", "single", "5_years", "DTV ל-5 שנים"),
        ("schengen_c", "business", "single", "3_months", "SCHENGEN_C ל-3 חודשים"),
        ("evisa", "tourism", "single", "year", "תיירות לשנה"),
        ("evisa", "business", "multiple", "year", "עסקים, רב פעמית, לשנה"),
        ("evisa", "general", "double", "6_months", "תיירות ועסקים לחצי שנה"),
        ("evisa", None, "single", None, "תיירות 30 ימים"),
        (None, "tourism", "single", "month", "תיירות לחודש"),
    ],
)
def test_hebrew_visa_type_rule(
    doc_type: str | None, intent: str | None, entries: str, validity: str | None, expected: str
) -> None:
    order = fixture_order(
        "il-uk-eta.json",
        product_doc_type=doc_type,
        product_intent=intent,
        visa_entries=entries,
        product_validity=validity,
    )
    assert visa_type(order, HE) == expected


def test_translations_come_from_the_data_given() -> None:
    order = fixture_order("il-uk-eta.json", product_doc_type="evisa")
    texts = Translations(
        "he",
        {("country", "uk"): "אנגליה", ("visa_type", "evisa"): "x", ("intent", "tourism"): "טיול"},
    )
    assert translated_fields(order, texts) == {
        "country": "אנגליה",
        "visa_type": "טיול, רב פעמית, 30 ימים",
        "processing_days": "תוך 3 ימי עסקים",
    }
    # No translation at all: an English name rather than an empty parameter.
    empty = Translations("he")
    assert (
        c.params(fixture_order("il-uk-eta.json", product_country="new_zealand"), empty)[
            "destination"
        ]
        == "New Zealand"
    )
    assert (
        translated_fields(fixture_order("il-uk-eta.json", processing_days=1), empty)[
            "processing_days"
        ]
        == "תוך יום עסקים אחד"
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (TEMPLATE_PARAMETERS[:7], "takes 7 parameters, 8 given"),
        ([*TEMPLATE_PARAMETERS, "extra"], "takes 9 parameters, 8 given"),
        (["customer", *TEMPLATE_PARAMETERS[1:]], "has no value for customer"),
    ],
)
def test_a_template_out_of_step_fails_fast(parameters: list[str], message: str) -> None:
    template = c.Template(c.TEMPLATE, "he", tuple(parameters))
    with pytest.raises(c.TemplateMismatch, match=message):
        c.bind(template, c.params(fixture_order("il-uk-eta.json"), HE))


def test_an_empty_parameter_is_refused() -> None:
    order = fixture_order("il-uk-eta.json", client_name="  ")
    with pytest.raises(c.TemplateMismatch, match=r"empty template parameter.*customer_name"):
        c.bind(TEMPLATE, c.params(order, HE))


@pytest.mark.parametrize(
    ("items", "expected"),
    [([""], "resend-1"), (["", "resend-1"], "resend-2"), (["", "resend-2"], "resend-1")],
)
def test_resend_items(items: list[str], expected: str) -> None:
    assert c.resend_item(items) == expected
