"""`visapi worker --queues`: a real worker process consumes the queues named, and only those."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.main.cli import main
from app.main.settings import Settings
from infrastructure.queue.broker import create_broker
from tests.integration.workers import drop_namespace, message
from tests.processes import CLI, ROOT, base_env


@pytest.mark.parametrize(
    ("queues", "complaint"),
    [
        ("critical,urgent", "unknown queue(s) urgent; queues are critical, default, bulk"),
        (" , ", "no queue named; queues are critical, default, bulk"),
    ],
)
def test_unknown_queues_are_refused_naming_the_valid_ones(queues: str, complaint: str) -> None:
    result = CliRunner().invoke(main, ["worker", "--queues", queues], env={"VISAPI_REDIS_URL": ""})
    assert result.exit_code == 2
    assert complaint in result.output


def test_the_worker_needs_redis() -> None:
    env = {"VISAPI_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["worker", "--queues", "critical"], env=env)
    assert result.exit_code == 1
    assert "needs VISAPI_REDIS_URL" in result.output


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
        deadline = time.monotonic() + 30
        while client.hlen(f"{namespace}:critical.msgs") or client.hlen(f"{namespace}:bulk.msgs"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert client.llen(f"{namespace}:default") == 1  # nobody consumes default here
    finally:
        process.terminate()
        process.wait(timeout=30)
        drop_namespace(broker, settings)
    assert process.returncode == 0, log.read_text()
