"""X-Forwarded-For names the client only behind VISAPI_TRUSTED_PROXIES: through the app in both
modes, and through real `visapi serve` processes, where uvicorn gets the same networks (with no
trusted proxies it no longer trusts loopback, so a local caller cannot spoof)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.auth import drop_namespace
from tests.e2e.test_rate_limits_http import TYPENAME, app_with_clients
from tests.processes import CLI, ROOT, base_env, wait_until_up
from tests.services import free_port
from visapi.settings import Settings


def via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(app_settings: Settings) -> None:
    settings = replace(app_settings, rate_limit_per_ip=2)
    async with app_with_clients(settings) as (_, one, _two):
        answers = [
            await one.post("/graphql", json=TYPENAME, headers=via(f"198.51.100.{n}"))
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]  # all 10.0.0.1's


async def test_a_trusted_proxy_names_the_client(app_settings: Settings) -> None:
    # The clients' peers are 10.0.0.1 and 10.0.0.2: the first is our load balancer.
    settings = replace(app_settings, rate_limit_per_ip=2, trusted_proxies="10.0.0.1/32")
    async with app_with_clients(settings) as (_, balancer, other):
        for _ in range(2):
            ok = await balancer.post("/graphql", json=TYPENAME, headers=via("198.51.100.1"))
            assert ok.status_code == 200
        # The left-most entry is the client's own writing: the right-most untrusted one counts.
        spoofed = via("203.0.113.5, 198.51.100.1")
        assert (await balancer.post("/graphql", json=TYPENAME, headers=spoofed)).status_code == 429
        fresh = await balancer.post("/graphql", json=TYPENAME, headers=via("198.51.100.2"))
        assert fresh.status_code == 200
        for _ in range(2):  # an untrusted peer is itself the client, whatever it says
            assert (
                await other.post("/graphql", json=TYPENAME, headers=via("1.1.1.1"))
            ).status_code == 200
        assert (
            await other.post("/graphql", json=TYPENAME, headers=via("1.1.1.2"))
        ).status_code == 429


def probe(base: str, trusted: bool, round: int = 0, local: str = "127.0.0.1") -> None:
    """From `local`, naming other clients (a per-IP limit of 3): a slash redirect under
    `X-Forwarded-Proto: https`, which only uvicorn reads, then three anonymous requests."""
    transport = httpx.HTTPTransport(local_address=local)
    with httpx.Client(base_url=base, timeout=10, transport=transport) as client:
        headers = {"X-Forwarded-Proto": "https", **via(f"198.51.{round}.9")}
        redirect = client.get("/graphql/", headers=headers)
        assert redirect.status_code == 307
        scheme = "https" if trusted else "http"
        assert redirect.headers["location"].startswith(f"{scheme}://"), redirect.headers
        statuses = [
            client.post("/graphql", json=TYPENAME, headers=via(f"198.51.{round}.{n}"))
            for n in range(3)
        ]
        expected = [200, 200, 200] if trusted else [200, 200, 429]  # untrusted: all one IP's
        assert [s.status_code for s in statuses] == expected


def run_serve(
    env: dict[str, str], tmp_path: Path, *args: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port, log = free_port(), tmp_path / f"serve-{uuid.uuid4().hex[:6]}.log"
    command = [*CLI, "serve", "--port", str(port), *args]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    return process, f"http://127.0.0.1:{port}", log


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_serve_trusts_no_proxy_by_default(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(VISAPI_DATABASE_URL=sqlite_url, VISAPI_RATE_LIMIT_PER_IP="3")
    env.pop("FORWARDED_ALLOW_IPS", None)
    process, base, log = run_serve(env, tmp_path)
    try:
        wait_until_up(process, base, log)
        probe(base, trusted=False)
    finally:
        stop(process)


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_workers_pass_the_trusted_proxies_to_uvicorn(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = base_env(
        VISAPI_DATABASE_URL=postgres_url,
        VISAPI_REDIS_URL=redis_url,
        VISAPI_REDIS_NAMESPACE=f"visapi-proxies-{uuid.uuid4().hex[:8]}",
        VISAPI_SECRET_KEY="shared-between-processes-0123456789",
        VISAPI_RATE_LIMIT_PER_IP="3",
        # Not 127.0.0.1, which uvicorn trusted by itself: only the setting can make it trusted.
        VISAPI_TRUSTED_PROXIES="127.0.0.2/32",
    )
    process, base, log = run_serve(env, tmp_path, "--workers", "2")
    try:
        wait_until_up(process, base, log)
        for round in range(4):  # a client per round, so each worker likely answers some
            probe(base, trusted=True, round=round, local="127.0.0.2")
    finally:
        stop(process)
        asyncio.run(drop_namespace(redis_url, env["VISAPI_REDIS_NAMESPACE"]))
