"""Shared data and helpers of the order intake tests."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.orders.intake import order_from_body
from domain.orders.model import Order

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"
NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)
ID = UUID("00000000-0000-4000-8000-000000000001")
DELETE = object()

BASE: dict[str, Any] = {
    "order": {
        "id": "IL251101GB07",
        "form_id": "frm_1",
        "branch": "il",
        "domain": "visanet.co.il",
        "payment_processor": "bit",
        "payment_id": "bit_1",
        "amount": 165,
        "currency": "ILS",
        "status": "active",
    },
    "form": {
        "id": "frm_1",
        "country": "uk",
        "client": {
            "name": "Avi Cohen",
            "email": "avi@example.com",
            "phone": {"code": "+972", "number": "0507247157"},
            "whatsappAlertsEnabled": True,
        },
        "product": {"name": "uk_2_years", "country": "uk", "validity": "2_years", "wait": 3},
        "quantity": 1,
        "urgency": "none",
        "orderId": "IL251101GB07",
        "applicants": [{"id": "apl_1"}],
    },
}


def build(body: Any) -> Order:
    return order_from_body(body, id=ID, now=NOW)


def body_with(**changes: Any) -> dict[str, Any]:
    """BASE with dotted paths replaced (`form__client__name="x"`), or removed with DELETE."""
    body = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for key in parents:
            target = target[key]
        if value is DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return body


def fields(order: Order) -> set[str]:
    return {flag.field for flag in order.flags}


def fixture(name: str) -> Any:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"storefront fixture {path} is absent")
    return json.loads(path.read_text())
