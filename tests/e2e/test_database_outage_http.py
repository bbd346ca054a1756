"""The order webhook while PostgreSQL is away: 503 "retry later", then the same post is taken
once the database is back. The fault run's storefront got one 500 here during a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.auth import errors_of, key, running
from tests.outages import DatabaseOutage
from visapi.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

URL = "/api/v1/webhooks/vizi/orders"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vizi-orders"


def order(order_id: str) -> Any:
    body = json.loads((FIXTURES / "il-uk-eta.json").read_text())
    body["order"]["id"] = body["form"]["orderId"] = order_id
    return body


@pytest.mark.parametrize("how", ["connections dropped", "connections refused"])
async def test_an_order_posted_while_the_database_is_away_is_answered_503(
    production_settings: Settings, postgres_admin_url: str, how: str
) -> None:
    database = make_url(production_settings.database_url).database
    assert database is not None
    outage = DatabaseOutage(postgres_admin_url, database)
    async with running(production_settings) as (container, http):
        http.headers["X-API-Key"] = await key(container, "webhook:vizi", "logs:write")
        first = await http.post(URL, json=order("IL261207DB01"))  # the key check is cached
        assert first.status_code == 201, first.text
        try:
            if how == "connections dropped":
                await outage.drop_connections()
            else:
                await outage.cut()
            away = await http.post(URL, json=order("IL261207DB02"))
        finally:
            await outage.restore()
        assert away.status_code == 503, away.text
        [error] = errors_of(away)
        assert error["extensions"]["code"] == "UNAVAILABLE"
        assert "database is unavailable" in error["message"]
        again = await http.post(URL, json=order("IL261207DB02"))
        assert again.status_code == 201, again.text
