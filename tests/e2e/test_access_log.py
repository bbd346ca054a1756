"""One JSON access line per HTTP request from a real `visapi serve`: method, route template,
status, duration, the GraphQL operation's name, the caller (a key's prefix), the correlation
id; never the query string, a body or a document's text."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.processes import CLI, ROOT, base_env, servers
from tests.waiting import until


def test_each_request_leaves_one_access_line_without_personal_data(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = base_env(VISAPI_DATABASE_URL=sqlite_url, VISAPI_LOG_LEVEL="INFO")
    key = subprocess.run(
        [*CLI, "keys", "create", "--name", "ops", "--scopes", "admin"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    secret_email = "very.private@example.com"
    with servers(env, tmp_path, 1) as (base,):
        where = f'{{clientEmail: "{secret_email}"}}'
        query = f"query Dashboard {{ orders(filter: {where}) {{ totalCount }} }}"
        httpx.post(
            f"{base}/graphql",
            json={"query": query},
            headers={"X-API-Key": key, "X-Correlation-Id": "access-line-1"},
        )
        httpx.get(f"{base}/api/v1/healthz?token={secret_email}")
        log = tmp_path / "serve-0.log"

        def lines() -> list[dict[str, object]]:
            parsed = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
            return [p for p in parsed if p.get("logger") == "visapi.http"]

        until(lambda: len(lines()) >= 3, timeout_s=10, why="no access lines")
        text = log.read_text()
    graphql = next(p for p in lines() if p["route"] == "/graphql")
    assert graphql["method"] == "POST"
    assert graphql["status"] == 200
    assert graphql["operation"] == "Dashboard"
    assert graphql["caller"] == f"key:{key.split('.')[0]}"
    assert graphql["correlation_id"] == "access-line-1"
    assert isinstance(graphql["duration_ms"], float)
    health = next(p for p in lines() if p["route"] == "/api/v1/healthz")
    assert (health["status"], health["caller"]) == (200, None)
    assert secret_email not in text  # neither the document nor the query string
