"""No secret, full key or token in any log line: every access flow, failures included, with
every logger at DEBUG, each record formatted as production formats it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests.auth import JWT_SECRET, key, running, token
from visapi.logging import CorrelationIdFilter, JsonFormatter
from visapi.settings import Settings

CREATE = 'mutation { createApiKey(name: "n", scopes: ["orders:read"]) { secret apiKey { id } } }'


async def test_no_secret_reaches_a_log_line(
    app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [JWT_SECRET]
    async with running(app_settings) as (container, client):
        admin = await key(container, "admin")
        secrets.append(admin)

        async def call(query: str, headers: dict[str, str], **variables: object) -> dict:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            return dict(response.json())

        created = (await call(CREATE, {"X-API-Key": admin}))["data"]["createApiKey"]
        made, made_id = created["secret"], created["apiKey"]["id"]
        secrets.append(made)
        prefix = made.split(".")[0]
        wrong = f"{prefix}.{'f' * 64}"
        good_token, bad_token = token("sub-logs"), token("sub-logs", secret="z" * 48)
        secrets += [wrong, good_token, bad_token]
        for headers in (
            {"X-API-Key": made},
            {"Authorization": f"Bearer {made}"},
            {"X-API-Key": wrong},
            {"X-API-Key": f"{made}extra"},
            {"Authorization": f"Basic {made}"},
            {"Authorization": f"Bearer {good_token}"},
            {"Authorization": f"Bearer {bad_token}"},
            {"Authorization": f"Bearer {token('sub-old', expires_in=-600)}"},
        ):
            await call("{ me { name } orders { totalCount } }", headers)
        rotate = "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }"
        rotated = (await call(rotate, {"X-API-Key": admin}, id=made_id))["data"]["rotateApiKey"]
        secrets.append(rotated["secret"])
        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
        await call(revoke, {"X-API-Key": admin}, id=made_id)
        for presented in (made, rotated["secret"]):
            await call("{ me { name } }", {"X-API-Key": presented})
        # An unexpected error is logged with its traceback: still no secret in it.
        async with container.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE orders RENAME TO orders_gone"))
        broken = await call("{ orders(first: 1) { totalCount } }", {"X-API-Key": admin})
        assert broken["errors"][0]["extensions"]["code"] == "INTERNAL"

    formatter = JsonFormatter()
    stamp = CorrelationIdFilter()
    lines = []
    for record in caplog.records:
        stamp.filter(record)
        lines.append(formatter.format(record))
    assert any("authentication failed" in line for line in lines)  # failures were logged
    assert any('"exc":' in line for line in lines)  # and a traceback
    parts = set(secrets) | {s.rsplit(".", 1)[1] for s in secrets if "." in s}
    for line in lines:
        for secret in parts:
            assert secret not in line, line
