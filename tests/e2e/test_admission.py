"""A credential whose check is cached is admitted in one Redis round trip (the admission
script: cached check, rate-limit hit, key usage), in both modes alike, whatever failures its
prefix has seen: it verified."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.auth.commands import RevokeApiKey
from tests.auth import codes, errors_of, issue, token
from tests.e2e.test_rate_limits_http import TYPENAME, app_with_clients, bad_secret, limits
from visapi.settings import Settings


def count_commands(client: Any) -> list[str]:
    """The commands the client sends from now on (scripts count as their one EVALSHA)."""
    sent: list[str] = []
    original = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    client.execute_command = counting
    return sent


@pytest.mark.redis
async def test_a_cached_key_or_token_costs_one_round_trip(production_settings: Settings) -> None:
    settings = replace(production_settings, rate_limit_per_key=5)
    async with app_with_clients(settings) as (container, one, _):
        full = (await issue(container, "orders:read")).secret
        sent = count_commands(container.redis)
        for headers in ({"X-API-Key": full}, {"Authorization": f"Bearer {token()}"}):
            first = await one.post("/graphql", json=TYPENAME, headers=headers)  # a miss
            assert limits(first) is not None
            assert limits(first)[:2] == ("5", "4")  # type: ignore[index]
            sent.clear()
            for remaining in ("3", "2"):
                response = await one.post("/graphql", json=TYPENAME, headers=headers)
                assert response.status_code == 200
                assert limits(response)[:2] == ("5", remaining)  # type: ignore[index]
            assert sent == ["EVALSHA", "EVALSHA"]


async def test_cached_checks_count_usage_limits_and_still_see_a_revoke(
    app_settings: Settings,
) -> None:
    settings = replace(app_settings, rate_limit_per_key=3)
    async with app_with_clients(settings) as (container, one, two):
        issued = await issue(container, "orders:read")
        headers = {"X-API-Key": issued.secret}
        statuses = [
            (await one.post("/graphql", json=TYPENAME, headers=headers)).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        refused = await two.post("/graphql", json=TYPENAME, headers=headers)
        assert (refused.status_code, codes(refused)) == (429, ["RATE_LIMITED"])
        assert int(refused.headers["retry-after"]) >= 1
        assert await container.access.flush_usage() == 1
        view = await container.access.reads.key_by_id(issued.key.id)
        assert view is not None
        assert view.last_used_at is not None
        await container.bus.handle(RevokeApiKey(id=issued.key.id, actor="tests"))
        revoked = await two.post("/graphql", json=TYPENAME, headers=headers)
        assert revoked.status_code == 401
        assert errors_of(revoked)[0]["message"] == "API key revoked"


async def test_a_cached_key_is_admitted_in_one_call_while_its_prefix_is_locked(
    app_settings: Settings,
) -> None:
    settings = replace(app_settings, rate_limit_failed_auth=2)
    async with app_with_clients(settings) as (container, one, _):
        issued = await issue(container, "orders:read")
        mine = {"X-API-Key": issued.secret}
        assert (await one.post("/graphql", json=TYPENAME, headers=mine)).status_code == 200
        guesses = [
            (await one.post("/graphql", json=TYPENAME, headers=bad_secret(issued.key.prefix)))
            for _ in range(3)
        ]
        assert [(g.status_code, codes(g)) for g in guesses][-1] == (429, ["RATE_LIMITED"])
        sent = count_commands(container.redis) if container.redis is not None else None
        admitted = await one.post("/graphql", json={"query": "{ me { name } }"}, headers=mine)
        assert admitted.json() == {"data": {"me": {"name": "tests"}}}
        assert sent in (None, ["EVALSHA"])  # the fast path, no hash, no failure count read
