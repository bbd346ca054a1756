"""/metrics of `visapi serve --workers 2`: every worker answers with the same totals, merged from
the per-process files of the run's PROMETHEUS_MULTIPROC_DIR (cleaned at start)."""

from __future__ import annotations

import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.processes import CLI, ROOT, base_env, wait_until_up
from tests.scrape import parse
from tests.services import free_port
from tests.waiting import until
from visapi.metrics_dir import metrics_directory

HTTP = "visapi_http_request_duration_seconds_count"
GRAPHQL = "visapi_graphql_operation_duration_seconds_count"
REQUESTS = 24
POSTS = {"method": "POST", "route": "/graphql", "status": "2xx"}


def pids_in(folder: Path) -> set[str]:
    """Processes that have recorded a histogram value (files are named `histogram_<pid>.db`)."""
    return {f.stem.split("_")[-1] for f in folder.glob("histogram_*.db")}


@pytest.mark.postgres
@pytest.mark.redis
def test_every_worker_answers_the_same_totals(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # A file left by an earlier run: its counts must not be added to this run's.
    (folder / "counter_1.db").write_bytes(b"\x00" * 16)
    env = base_env(
        VISAPI_DATABASE_URL=postgres_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=f"visapi-metrics-{uuid.uuid4().hex[:8]}",
        VISAPI_SECRET_KEY="shared-between-processes-0123456789",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    port, log = free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until_up(process, base, log)
        # A connection per request, and several at once, so both workers take some.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with (
            httpx.Client(base_url=base, timeout=10, limits=fresh) as client,
            ThreadPoolExecutor(8) as pool,
        ):
            # The second worker may still be starting: wait until both have answered a probe.
            deadline = time.monotonic() + 30
            while len(pids_in(folder)) < 2:
                assert time.monotonic() < deadline, f"one worker only:\n{log.read_text()}"
                list(pool.map(lambda _: client.get("/api/v1/healthz"), range(16)))
            query = {"query": "query Probe { __typename }"}
            answers = pool.map(lambda _: client.post("/graphql", json=query), range(REQUESTS))
            assert [a.status_code for a in answers] == [200] * REQUESTS
            # A request is counted just after its answer went out: wait for the last one.
            until(
                lambda: parse(client.get("/metrics").text).get_value(HTTP, **POSTS) >= REQUESTS,
                timeout_s=10,
                why="not every request was counted",
            )
            scrapes = [parse(client.get("/metrics").text) for _ in range(8)]
        pids = pids_in(folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert len(pids) == 2, f"both workers should have served requests: {pids}"
    assert not (folder / "counter_1.db").exists()
    # healthz probes came first (their number varies): the same count in every scrape.
    healthz = {s.get_value(HTTP, method="GET", route="/api/v1/healthz", status="2xx")
               for s in scrapes}  # fmt: skip
    assert len(healthz) == 1
    assert healthz.pop() >= 16
    # Sent without credentials: counted, under "anonymous" rather than the name it chose.
    probes = {
        s.get_value(GRAPHQL, operation="anonymous", type="query", outcome="ok") for s in scrapes
    }
    assert probes == {REQUESTS}
    graphql = {s.get_value(HTTP, method="POST", route="/graphql", status="2xx") for s in scrapes}
    assert graphql == {REQUESTS}
    # The scrapes count themselves: never fewer than the scrape before, whichever worker answers.
    seen = [s.get_value(HTTP, method="GET", route="/metrics", status="2xx") for s in scrapes]
    assert seen == sorted(seen)
    assert seen[-1] > seen[0]
    assert {s.get_value("visapi_queue_depth", queue="default", state="ready") for s in scrapes} == {
        0
    }


def test_a_fresh_metrics_directory_per_run_removed_after() -> None:
    environ: dict[str, str] = {}
    with metrics_directory(environ, processes=2):
        made = Path(environ["PROMETHEUS_MULTIPROC_DIR"])
        assert made.is_dir()
        assert not any(made.iterdir())
        (made / "counter_123.db").write_bytes(b"")
    assert "PROMETHEUS_MULTIPROC_DIR" not in environ
    assert not made.exists()
    with metrics_directory(environ, processes=1):
        assert environ == {}  # one process keeps its metrics in memory
