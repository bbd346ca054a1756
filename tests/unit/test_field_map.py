"""The CRM field map and value rendering (table-driven), on the storefront fixtures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.contacts.field_map import FIELD_MAP, custom_fields, gender_of, language_for
from domain.contacts.fields import FieldType
from domain.contacts.render import FieldValueError, render
from domain.orders.countries import flag
from domain.orders.intake import order_from_body
from domain.orders.model import Order

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
RECEIVED = datetime(2025, 11, 1, 10, 0, tzinfo=UTC)


def fixture_order(name: str, **changes: Any) -> Order:
    body = json.loads((FIXTURES / name).read_text())
    order = order_from_body(body, id=uuid.uuid4(), now=RECEIVED)
    for key, value in changes.items():
        setattr(order, key, value)
    return order


@pytest.mark.parametrize(
    ("type", "value", "expected"),
    [
        (FieldType.TEXT, "  Avi Cohen ", "Avi Cohen"),
        (FieldType.TEXT, 42, "42"),
        (FieldType.LONG_TEXT, "line one\nline two", "line one\nline two"),
        (FieldType.SELECT, "tourism", "tourism"),
        (FieldType.MULTI_SELECT, ["a", "b", "c"], "a,b,c"),
        (FieldType.MULTI_SELECT, "single", "single"),
        (FieldType.NUMBER, 3, "3"),
        (FieldType.NUMBER, Decimal("165.00"), "165"),
        (FieldType.NUMBER, Decimal("165.50"), "165.5"),
        (FieldType.NUMBER, Decimal("1E+3"), "1000"),
        (FieldType.NUMBER, "12.30", "12.3"),
        (FieldType.NUMBER, Decimal("0.00"), "0"),
        (FieldType.DATE, date(2025, 12, 18), "1766016000"),
        (FieldType.DATE, datetime(2025, 12, 18, 15, 30, tzinfo=UTC), "1766016000"),
        (FieldType.DATETIME, datetime(2025, 12, 18, 15, 30, tzinfo=UTC), "1766071800"),
        (FieldType.DATETIME, datetime(2025, 12, 18, 15, 30), "1766071800"),  # naive is UTC
        (FieldType.BOOLEAN, True, "1"),
        (FieldType.BOOLEAN, False, "0"),
    ],
)
def test_render_by_type(type: FieldType, value: object, expected: str) -> None:
    assert render("f", type, value) == expected


@pytest.mark.parametrize(
    ("type", "value"),
    [
        (FieldType.NUMBER, True),
        (FieldType.NUMBER, "many"),
        (FieldType.NUMBER, Decimal("NaN")),
        (FieldType.NUMBER, [1]),
        (FieldType.DATE, "2025-12-18"),
        (FieldType.DATETIME, 1766016000),
        (FieldType.BOOLEAN, 1),
        (FieldType.BOOLEAN, "true"),
        (FieldType.TEXT, {"a": 1}),
        (FieldType.MULTI_SELECT, 5),
    ],
)
def test_render_refuses_a_value_of_the_wrong_type_naming_the_field(
    type: FieldType, value: object
) -> None:
    with pytest.raises(FieldValueError, match="custom field visa_quantity") as caught:
        render("visa_quantity", type, value)
    assert caught.value.field == "visa_quantity"


@pytest.mark.parametrize(
    ("branch", "language"),
    [("il", "he"), ("ru", "ru"), ("se", "sv"), ("co", "en"), ("kz", "en"), ("xx", "en")],
)
def test_language_by_branch(branch: str, language: str) -> None:
    assert language_for(branch) == language


@pytest.mark.parametrize(
    ("applicants", "gender"),
    [
        ([{"passport": {"sex": "m"}}], "male"),
        ([{"passport": {"sex": "F"}}, {"passport": {"sex": "m"}}], "female"),
        ([{"passport": {"sex": "x"}}], None),
        ([{"passport": {}}], None),
        ([{"passport": "m"}], None),
        ([], None),
        ({"passport": {"sex": "m"}}, None),
    ],
)
def test_gender_from_the_first_applicants_passport(applicants: object, gender: str | None) -> None:
    assert gender_of(applicants) == gender


def test_the_map_has_unique_names_and_vendor_ids() -> None:
    assert len({s.name for s in FIELD_MAP}) == len({s.field_id for s in FIELD_MAP}) == 17


def test_il_fixture_fields() -> None:
    fields = {
        f.name: (f.field_id, f.type, f.value)
        for f in custom_fields(fixture_order("il-uk-eta.json"))
    }
    assert fields == {
        "customer_name": (779770, FieldType.TEXT, "Avi Cohen"),
        "visa_country": (877737, FieldType.TEXT, "uk"),
        "visa_type": (527249, FieldType.TEXT, "eta"),
        "OrderNumber": (459752, FieldType.TEXT, "IL251101GB07"),
        "visa_intent": (837162, FieldType.TEXT, "tourism"),
        "visa_entries": (863041, FieldType.TEXT, "multiple"),
        "visa_validity": (816014, FieldType.TEXT, "2 years"),
        "visa_flag": (824812, FieldType.TEXT, "\U0001f1ec\U0001f1e7"),
        "Email": (-12, FieldType.TEXT, "avi.cohen@example.com"),
        "visa_quantity": (949873, FieldType.NUMBER, "1"),
        "order_days": (271948, FieldType.NUMBER, "3"),
        "order_sum_ils": (358366, FieldType.NUMBER, "165"),
        "stay_limit": (189039, FieldType.NUMBER, "30"),
        "order_urgent": (763048, FieldType.BOOLEAN, "0"),
        "wa_alerts": (662459, FieldType.BOOLEAN, "1"),
        # No entry date in this body: the field is left out, not sent empty.
        "order_date_time": (100644, FieldType.DATETIME, str(int(RECEIVED.timestamp()))),
    }


def test_se_fixture_fields_and_defaults() -> None:
    order = fixture_order("se-india-uppercase-branch-extra-keys.json")
    fields = {f.name: f.value for f in custom_fields(order)}
    assert fields["visa_validity"] == "1 year"
    assert fields["order_urgent"] == "1"
    assert fields["wa_alerts"] == "0"
    assert fields["visa_quantity"] == "2"
    assert fields["order_date"] == "1766016000"  # 2025-12-18 at 00:00 UTC
    assert fields["visa_flag"] == flag("india") == "\U0001f1ee\U0001f1f3"
    bare = fixture_order(
        "se-india-uppercase-branch-extra-keys.json",
        product_doc_type=None,
        product_intent=None,
        visa_entries="",
        product_validity="weird",
        client_email=None,
        product_data={"stay_limit": 90},
    )
    fields = {f.name: f.value for f in custom_fields(bare)}
    assert (fields["visa_type"], fields["visa_intent"], fields["visa_entries"]) == (
        "tourist",
        "tourism",
        "single",
    )
    assert fields["visa_validity"] == "30 days"
    assert fields["stay_limit"] == "90"
    assert "Email" not in fields


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("uk", "\U0001f1ec\U0001f1e7"),
        ("schengen", "\U0001f1ea\U0001f1fa"),
        ("USA", "\U0001f1fa\U0001f1f8"),
        ("atlantis", "\N{EARTH GLOBE EUROPE-AFRICA}"),
    ],
)
def test_flags_by_country_key(country: str, expected: str) -> None:
    assert flag(country) == expected
