"""What the processes refuse before they start: no Redis for worker and scheduler, unknown
queues, a bad metrics port. Nothing here starts a process or opens a connection: each refusal
happens before (click's CliRunner runs the command in this process)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from visapi.cli import main
from visapi.scheduler import run_scheduler
from visapi.settings import Settings, SettingsError, load_settings
from visapi.worker_processes import run_worker


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


def test_worker_refuses_to_start_without_redis() -> None:
    with pytest.raises(SystemExit, match="VISAPI_REDIS_URL"):
        run_worker(Settings(redis_url=None))


def test_scheduler_refuses_to_start_without_redis() -> None:
    with pytest.raises(SystemExit, match="VISAPI_REDIS_URL"):
        run_scheduler(Settings(redis_url=None))


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [("abc", "is not an integer"), ("0", "must be a port number"), ("70000", "port number")],
)
def test_a_bad_metrics_port_setting_is_named(raw: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint) as raised:
        load_settings({"VISAPI_WORKER_METRICS_PORT": raw})
    assert "VISAPI_WORKER_METRICS_PORT" in str(raised.value)
    assert load_settings({"VISAPI_WORKER_METRICS_PORT": ""}).worker_metrics_port is None
    assert load_settings({"VISAPI_WORKER_METRICS_PORT": "9464"}).worker_metrics_port == 9464
