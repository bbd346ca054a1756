"""`visapi worker --queues`: a real worker process consumes the queues named, and only those."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from infrastructure.queue.broker import create_broker
from tests.integration.holding_worker import HOLDING
from tests.integration.workers import drop_namespace, message
from tests.processes import CLI, ROOT, base_env
from tests.waiting import until
from visapi.settings import Settings


def test_a_worker_consumes_only_its_queues(sqlite_url: str, redis_url: str, tmp_path: Path) -> None:
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(database_url=sqlite_url, redis_url=redis_url, redis_namespace=namespace)
    broker = create_broker(settings)
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=namespace,
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*CLI, "worker", "--queues", "critical,bulk", "--threads", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        for queue in ("critical", "default", "bulk"):
            broker.enqueue(message("sync_contact", {"order_id": str(uuid.uuid4())}, queue))
        client = broker.client  # type: ignore[attr-defined]

        def consumed() -> bool:
            assert process.poll() is None, log.read_text()
            return not client.hlen(f"{namespace}:critical.msgs") + client.hlen(
                f"{namespace}:bulk.msgs"
            )

        until(consumed, timeout_s=30, why=log.read_text)
        assert client.llen(f"{namespace}:default") == 1  # nobody consumes default here
    finally:
        process.terminate()
        process.wait(timeout=30)
        drop_namespace(broker, settings)
    assert process.returncode == 0, log.read_text()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)


@pytest.mark.parametrize("rescuer", ["worker", "scheduler"])
def test_a_dead_workers_jobs_come_back_without_luck(
    sqlite_url: str, redis_url: str, tmp_path: Path, rescuer: str
) -> None:
    """A worker SIGKILLed holding jobs (in flight, prefetched, delayed): another worker runs
    them, or a scheduler alone puts them back in their queues, within twice the heartbeat
    timeout, though the broker's maintenance would run on one command in a million by chance
    alone (so, before the timer, practically never)."""
    heartbeat_ms = 2_000
    namespace = f"visapi-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(database_url=sqlite_url, redis_url=redis_url, redis_namespace=namespace)
    broker = create_broker(settings)
    client = broker.client  # type: ignore[attr-defined]
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=namespace,
        VISAPI_JOB_HEARTBEAT_TIMEOUT_MS=str(heartbeat_ms),
        VISAPI_JOB_MAINTENANCE_CHANCE="1",
        VISAPI_WORKER_THREADS="2",
    )
    holder_log, rescuer_log = tmp_path / "holder.log", tmp_path / f"{rescuer}.log"
    holder = _spawn([sys.executable, "-m", "tests.integration.holding_worker"], env, holder_log)
    rescuing: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(3):  # two in the worker's threads, one prefetched
            broker.enqueue(message("sync_contact", {"order_id": str(uuid.uuid4())}))
        # Fetched by the holder at once, due long after it is dead.
        broker.enqueue(message("sync_contact", {"order_id": str(uuid.uuid4())}), delay=8_000)

        def all_held() -> bool:
            assert holder.poll() is None, holder_log.read_text()
            fetched = not client.llen(f"{namespace}:default") + client.llen(
                f"{namespace}:default.DQ"
            )
            return fetched and holder_log.read_text().count(HOLDING) == 2

        until(all_held, timeout_s=60, why="the holding worker did not fetch the jobs")
        command = ["worker", "--threads", "2"] if rescuer == "worker" else ["scheduler"]
        rescuing = started = _spawn([*CLI, *command], env, rescuer_log)
        holder.kill()
        holder.wait()

        def all_back() -> bool:
            assert started.poll() is None, rescuer_log.read_text()
            if rescuer == "scheduler":  # nobody consumes: back in their queues
                ready = client.llen(f"{namespace}:default")
                return ready == 3 and client.llen(f"{namespace}:default.DQ") == 1
            left = client.hlen(f"{namespace}:default.msgs")
            return left + client.hlen(f"{namespace}:default.DQ.msgs") == 0

        # Requeued by 2 x heartbeat after the kill (then run, the delayed one at its due
        # time); the rest is room for a loaded machine to start the process.
        until(
            all_back,
            timeout_s=2 * heartbeat_ms / 1000 + 30,
            why="the dead worker's jobs never came back",
        )
    finally:
        for process in (holder, rescuing):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        drop_namespace(broker, settings)
    assert rescuing.returncode == 0, rescuer_log.read_text()
