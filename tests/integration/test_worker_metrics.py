"""`visapi worker --metrics-port`: real worker processes on Redis serve /metrics on 127.0.0.1
with their jobs, their vendor calls and the queue depths; with --processes 2 one port reports
the merged totals of both processes."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.orders.commands import CreateOrder, OrderAccepted
from infrastructure.queue.broker import create_broker
from tests.integration.workers import drop_namespace, message
from tests.pipeline import body
from tests.processes import CLI, ROOT, base_env
from tests.scrape import Samples, parse
from tests.services import free_port
from tests.vendor import FakeVendor
from tests.waiting import eventually
from visapi.bootstrap import bootstrap
from visapi.settings import Settings

JOBS = "visapi_job_duration_seconds_count"
VENDOR = "visapi_vendor_call_duration_seconds_count"


@contextmanager
def worker(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as out:
        process = subprocess.Popen(
            [*CLI, "worker", "--threads", "1", *args], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()


def read(log: Path) -> str:
    """The worker's output, for a failure's message (read only then)."""
    return log.read_text()


async def scrape_until(
    port: int, process: subprocess.Popen[bytes], log: Path, done: Callable[[Samples], bool]
) -> Samples:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:

        async def scraped() -> Samples | None:
            assert process.poll() is None, read(log)
            try:
                response = await http.get("/metrics")
            except httpx.TransportError:
                return None  # not listening yet
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/plain")
            samples = parse(response.text)
            return samples if done(samples) else None

        return await eventually(
            scraped, timeout_s=30, why=lambda: f"never came; worker log:\n{read(log)}"
        )


def production(sqlite_url: str, redis_url: str, **more: str) -> tuple[Settings, dict[str, str]]:
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(database_url=sqlite_url, redis_url=redis_url, redis_namespace=namespace)
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=namespace,
        **more,
    )
    return settings, env


async def test_one_worker_reports_its_jobs_and_vendor_calls(
    sqlite_url: str, redis_url: str, fake_vendor: FakeVendor, tmp_path: Path
) -> None:
    settings, env = production(
        sqlite_url,
        redis_url,
        VISAPI_CBB_BASE_URL=fake_vendor.base_url,
        VISAPI_CBB_TOKEN=fake_vendor.token,
        VISAPI_WORKER_METRICS_PORT=str(port := free_port()),  # the setting, not the flag
    )
    log = tmp_path / "worker.log"
    api = bootstrap(settings)  # the API side: the order's jobs go to Redis through the outbox
    try:
        with worker(env, log) as process:
            idle = await scrape_until(port, process, log, lambda s: True)
            assert idle.get_value(JOBS, actor="sync_contact", outcome="ok") == 0
            accepted = await api.bus.handle(CreateOrder(payload=body()))
            assert isinstance(accepted, OrderAccepted)

            def synced_and_confirmed(s: Samples) -> bool:
                return s.get_value(JOBS, actor="send_notification", outcome="ok") == 1

            samples = await scrape_until(port, process, log, synced_and_confirmed)
            assert samples.get_value(JOBS, actor="sync_contact", outcome="ok") == 1
            for operation in ("contact.get", "contact.create", "message.send"):
                ok = samples.get_value(VENDOR, vendor="cbb", operation=operation, outcome="ok")
                assert ok == len(fake_vendor.requests(operation)) == 1, operation
            assert samples.get_value("visapi_queue_depth", queue="default", state="ready") == 0
            assert ("visapi_queue_depth", (("queue", "critical"), ("state", "dead"))) in samples
            # Only /metrics is served.
            async with httpx.AsyncClient() as http:
                other = await http.get(f"http://127.0.0.1:{port}/")
            assert other.status_code == 404
    finally:
        await api.aclose()
        drop_namespace(api.broker, settings)


async def test_two_processes_report_on_one_port(
    sqlite_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings, env = production(sqlite_url, redis_url)
    broker = create_broker(settings)
    port, log = free_port(), tmp_path / "workers.log"
    jobs = 8
    try:
        with worker(env, log, "--processes", "2", "--metrics-port", str(port)) as process:
            await scrape_until(port, process, log, lambda s: True)
            for _ in range(jobs):  # no such order: each job ends at once, acknowledged
                broker.enqueue(message("sync_contact", {"order_id": str(uuid.uuid4())}, "default"))

            def all_done(s: Samples) -> bool:
                return s.get_value(JOBS, actor="sync_contact", outcome="ok") == jobs

            # The supervisor runs no job: what it serves is the two workers' files, merged.
            samples = await scrape_until(port, process, log, all_done)
            assert samples.get_value("visapi_queue_depth", queue="default", state="ready") == 0
    finally:
        drop_namespace(broker, settings)


def test_a_taken_port_stops_the_worker_naming_it(
    sqlite_url: str, redis_url: str, tmp_path: Path
) -> None:
    _, env = production(sqlite_url, redis_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "worker", "--metrics-port", str(port)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"worker metrics port {port}" in result.stderr
