"""Health routes: liveness, readiness (each dependency probed with a timeout) and version."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

log = logging.getLogger("visapi.health")

JSON = "application/json; charset=utf-8"
READY_TIMEOUT_S = 2.0  # per check: a readiness probe must answer before the prober gives up
UNCHECKED = "unchecked"  # a check that depends on a failing one

# A dependency check: it raises (or times out) when the dependency is not usable.
Check = Callable[[], Awaitable[object]]
# The schema check: None at the migration head, else what is wrong.
SchemaProblem = Callable[[], Awaitable[str | None]]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type=JSON)


def health_routes(
    checks: Mapping[str, Check], schema: SchemaProblem, about: Mapping[str, str | None]
) -> list[Route]:
    """`checks` must hold `database`; `cache` and `broker` default to ok (in-process ones)."""

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        return await readiness(checks, schema)

    async def version(request: Request) -> Response:
        return json_response(dict(about))

    return [
        Route("/api/v1/healthz", healthz, methods=["GET"]),
        Route("/api/v1/readyz", readyz, methods=["GET"]),
        Route("/api/v1/version", version, methods=["GET"]),
    ]


async def readiness(checks: Mapping[str, Check], schema: SchemaProblem) -> Response:
    results = await asyncio.gather(*(_probe(name, check) for name, check in checks.items()))
    report = dict(zip(checks, results, strict=True))
    report.setdefault("cache", "ok")  # in-process memory cache: up while we are
    report.setdefault("broker", "ok")  # StubBroker in this process
    # Only a database that answers can say its schema; when it does not, "database" says it all.
    ok = report["database"] == "ok"
    report["migrations"] = await _schema(schema) if ok else UNCHECKED
    failing = [name for name, result in report.items() if result not in ("ok", UNCHECKED)]
    if failing:
        body = {"status": "unavailable", "failing": failing, "checks": report}
        return json_response(body, 503)
    return json_response({"status": "ok", "checks": report})


async def _probe(name: str, check: Check) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await check()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness check %s failed: %r", name, exc)
        return "timeout" if isinstance(exc, TimeoutError) else f"error: {type(exc).__name__}"
    return "ok"


async def _schema(problem: SchemaProblem) -> str:
    """`ok` at the migration head, else what is wrong (a 503 naming `migrations`)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            found = await problem()
    except Exception as exc:  # as _probe: not ready, the reason to the log
        log.warning("readiness check migrations failed: %r", exc)
        return "timeout" if isinstance(exc, TimeoutError) else f"error: {type(exc).__name__}"
    return "ok" if found is None else found
