"""Subscriptions and the server's own rules, each against a `visapi serve` of its own settings:
the caps per connection and per caller, the trusted-documents rule over WebSocket and SSE,
1001 at shutdown, and a client that never answers pings."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from tests.live import (
    closed_with,
    issued,
    listening,
    message,
    new_key,
    socket,
    sse_events,
    subscribe,
)
from tests.processes import CLI, ROOT, base_env, servers, wait_until_up
from tests.services import free_port


async def test_caps_per_connection_and_per_caller(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_SUBSCRIPTIONS_PER_CONNECTION="2",
        VISAPI_SUBSCRIPTIONS_PER_CALLER="3",
    )
    admin = new_key(env, "admin")
    query = "subscription { logs { message } }"
    with servers(env, tmp_path, 1) as (base,):
        async with (
            socket(base, {"X-API-Key": admin}) as one,
            socket(base, {"X-API-Key": admin}) as two,
        ):
            for n in (1, 2, 3):
                await subscribe(one, f"s{n}", query)
            over_connection = await message(one)
            await subscribe(two, "t1", query)
            await subscribe(two, "t2", query)
            over_caller = await message(two)
    assert over_connection["id"] == "s3"
    assert over_connection["type"] == "error"
    assert "limit" in over_connection["payload"][0]["message"].lower()
    assert over_caller["id"] == "t2"
    errors = (
        over_caller["payload"]
        if over_caller["type"] == "error"
        else over_caller["payload"]["errors"]
    )
    assert errors[0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"


async def test_trusted_documents_hold_over_websocket(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(VISAPI_DATABASE_URL=sqlite_url, VISAPI_DOCUMENTS="trusted")
    admin = new_key(env, "admin")
    with servers(env, tmp_path, 1) as (base,):
        reader, _ = await issued(base, admin, "logs:read")
        async with socket(base, {"X-API-Key": reader}) as ws:
            await subscribe(ws, "free", "subscription { logs { message } }")
            refused = await message(ws)
        over_sse = [e async for e in sse_events(base, reader, "subscription { logs { message } }")]
    errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    assert over_sse[0][1]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    assert over_sse[-1][0] == "complete"


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def test_shutdown_closes_sockets_with_going_away(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(VISAPI_DATABASE_URL=sqlite_url)
    admin = new_key(env, "admin")
    port, log = free_port(), tmp_path / "serve.log"
    process = start(env, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base, log)
        async with socket(base, {"X-API-Key": admin}) as ws:
            await subscribe(ws, "l", "subscription { logs { message } }")
            await listening(base, "logs")
            process.send_signal(signal.SIGTERM)
            code, _ = await closed_with(ws)
        assert code == 1001
        process.wait(timeout=15)  # uvicorn re-raises the signal it handled: -15
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_client_that_never_answers_pings_is_closed(sqlite_url: str, tmp_path: Path) -> None:
    env = base_env(
        VISAPI_DATABASE_URL=sqlite_url,
        VISAPI_SUBSCRIPTION_PING_S="0.5",
        VISAPI_SUBSCRIPTION_PONG_TIMEOUT_S="0.5",
    )
    with servers(env, tmp_path, 1) as (base,):
        port = int(base.rsplit(":", 1)[1])
        # A bare client: the handshake by hand, then it only reads (no library answers pings).
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        frames = await asyncio.wait_for(reader.read(), 10)  # until the server hangs up
        writer.close()
    opcodes, payloads = [], []
    while frames:  # the server's frames: unmasked, short (a ping's 4 random bytes, a close)
        length = frames[1] & 0x7F
        opcodes.append(frames[0] & 0x0F)
        payloads.append(frames[2 : 2 + length])
        frames = frames[2 + length :]
    assert 0x9 in opcodes  # pinged
    assert opcodes[-1] == 0x8  # then closed,
    assert int.from_bytes(payloads[-1][:2], "big") == 1011  # for the keepalive's timeout
