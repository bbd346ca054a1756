"""rest.health.readiness with fake checks: 200 when all answer, 503 naming the failing ones;
the schema is only asked when the database answers. The module's timeout is fixed (2 s), so a
timing-out check is one that raises TimeoutError: nothing here waits."""

from __future__ import annotations

from typing import Any

import orjson

from rest.health import readiness


async def ok() -> None:
    return None


async def refused() -> None:
    raise ConnectionRefusedError("no route")


async def timed_out() -> None:
    raise TimeoutError


async def at_head() -> str | None:
    return None


async def behind() -> str | None:
    return "database at 0007, code at 0009"


async def ready(checks: dict[str, Any], schema: Any = at_head) -> tuple[int, Any]:
    response = await readiness(checks, schema)
    return response.status_code, orjson.loads(response.body)


async def test_all_checks_answering_is_ready() -> None:
    status, body = await ready({"database": ok, "cache": ok, "broker": ok})
    assert (status, body["status"]) == (200, "ok")
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "migrations": "ok"}


async def test_in_process_cache_and_broker_count_as_ok() -> None:
    status, body = await ready({"database": ok})
    assert status == 200
    assert (body["checks"]["cache"], body["checks"]["broker"]) == ("ok", "ok")


async def test_a_failing_check_is_503_naming_it_and_the_error_type() -> None:
    status, body = await ready({"database": ok, "cache": refused})
    assert status == 503
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"] == "error: ConnectionRefusedError"


async def test_a_timing_out_check_is_reported_as_timeout() -> None:
    status, body = await ready({"database": ok, "broker": timed_out})
    assert (status, body["checks"]["broker"]) == (503, "timeout")


async def test_a_database_down_leaves_the_schema_unchecked() -> None:
    asked: list[int] = []

    async def schema() -> str | None:
        asked.append(1)
        return None

    status, body = await ready({"database": refused}, schema)
    assert status == 503
    assert (body["failing"], body["checks"]["migrations"]) == (["database"], "unchecked")
    assert asked == []


async def test_a_schema_behind_the_code_is_503_saying_so() -> None:
    status, body = await ready({"database": ok}, behind)
    assert (status, body["failing"]) == (503, ["migrations"])
    assert body["checks"]["migrations"] == "database at 0007, code at 0009"
