"""The app under fuzz, and the invariant every answer must keep.

The app runs in-process on an event loop in a thread of its own (lifespan running, called over
httpx.ASGITransport): Hypothesis drives plain synchronous calls, so thousands of inputs need no
event loop juggling in the test. Invariant: no 5xx, no GraphQL error coded INTERNAL, every
error body valid JSON.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import os
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from hypothesis import given, settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from infrastructure.db.migrate import upgrade_async
from tests.auth import drop_namespace, key, with_auth
from tests.services import postgres_url_or_skip, redis_url_or_skip
from visapi.asgi import create_app
from visapi.bootstrap import Container
from visapi.settings import Settings

T = TypeVar("T")
WHATSAPP_SECRET = "fuzz-meta-app-secret"
WHATSAPP_VERIFY = "fuzz-verify-token"
# Hypothesis examples run, by test; the session-finish hook prints the total.
INPUTS: dict[str, int] = {}
STATUSES: dict[int, int] = {}  # HTTP answers by status, to show the inputs got past the gates
# Each test's share of FUZZ_EXAMPLES; production mode (PostgreSQL, Redis) gets a fifth of it.
PRODUCTION_SHARE = 0.2
SMOKE_EXAMPLES = 300  # a plain `pytest` run (make test): a smoke version of the suite


def total_examples() -> int:
    raw = os.environ.get("FUZZ_EXAMPLES", str(SMOKE_EXAMPLES))
    if not raw.isdigit():
        raise ValueError(f"FUZZ_EXAMPLES must be a whole number of inputs, not {raw!r}")
    return int(raw)


def budget(weight: float, mode: str) -> int:
    """Examples for a test given its weight (the weights of all tests sum to 1)."""
    share = PRODUCTION_SHARE if mode == "production" else 1 - PRODUCTION_SHARE
    return max(3, round(total_examples() * weight * share))


def count_input(test: str) -> None:
    INPUTS[test] = INPUTS.get(test, 0) + 1


def in_thread(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a loop of its own in another thread (pytest-asyncio owns this one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, factory()).result()


class Client:
    """Synchronous calls into an httpx.AsyncClient living on another thread's loop."""

    def __init__(self, http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self._http, self._loop = http, loop

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(factory(), self._loop).result()

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.run(lambda: self._http.get(url, **kw))

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.run(lambda: self._http.post(url, **kw))


@dataclass
class Target:
    """The running app, an admin key, and the invariant check."""

    mode: str
    client: Client
    container: Container
    admin_key: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.admin_key, **extra}

    def graphql(self, query: str, variables: Any = None, **extra: str) -> Any:
        """POST a document with the admin key; the checked JSON answer."""
        # ASCII-escaped: lone surrogates reach the server as \ud800 escapes, as a client may send.
        body = json.dumps({"query": query, "variables": variables}).encode()
        headers = self.headers(**{"Content-Type": "application/json", **extra})
        return self.check(self.client.post("/graphql", content=body, headers=headers))

    def check(self, response: httpx.Response) -> Any:
        """The invariant; returns the decoded JSON body (None when the answer is not JSON)."""
        status = response.status_code
        STATUSES[status] = STATUSES.get(status, 0) + 1
        assert status < 500, f"HTTP {status}: {response.text[:2000]}"
        media = response.headers.get("content-type", "")
        if status < 400 and "json" not in media:
            return None
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"HTTP {status}, body not JSON: {response.text[:500]!r}") from None
        for document in body if isinstance(body, list) else [body]:
            errors = document.get("errors") if isinstance(document, dict) else None
            for error in errors or []:
                code = (error.get("extensions") or {}).get("code")
                assert code != "INTERNAL", f"INTERNAL: {error}"
        return body


def embedded_settings(directory: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{directory / 'visapi.db'}")


def fuzz_settings(settings: Settings, pdf_dir: Path) -> Settings:
    """The test identity provider, WhatsApp configured, and limits no fuzz run reaches."""
    return dataclasses.replace(
        with_auth(settings),
        whatsapp_app_secret=WHATSAPP_SECRET,
        whatsapp_verify_token=WHATSAPP_VERIFY,
        rate_limit_per_key=10**9,
        rate_limit_per_ip=10**9,
        rate_limit_failed_auth=10**9,
        pdf_dir=str(pdf_dir),
        trigger_max_body_bytes=4096,
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one module, dropped afterwards."""
    admin_url = postgres_url_or_skip()
    name = f"visapi_fuzz_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    in_thread(lambda: admin(f'CREATE DATABASE "{name}"'))
    try:
        in_thread(lambda: upgrade_async(url))
        yield url
    finally:
        in_thread(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def target(mode: str, directory: Path) -> Iterator[Target]:
    """The app in `mode` ("embedded": SQLite and memory; "production": PostgreSQL and Redis)."""
    if mode == "embedded":
        in_thread(lambda: upgrade_async(embedded_settings(directory).database_url))
        with _serving(mode, fuzz_settings(embedded_settings(directory), directory)) as t:
            yield t
        return
    redis_url = redis_url_or_skip()
    namespace = f"visapi-fuzz-{uuid.uuid4().hex[:10]}"
    with postgres_database() as url:
        settings = Settings(
            database_url=url, redis_url=redis_url, redis_namespace=namespace, db_pool_size=4
        )
        try:
            with _serving(mode, fuzz_settings(settings, directory)) as t:
                yield t
        finally:
            in_thread(lambda: drop_namespace(redis_url, namespace))


@contextmanager
def _serving(mode: str, settings: Settings) -> Iterator[Target]:
    """Serve on a loop thread: one task holds the lifespan open until the module is done."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=f"fuzz-{mode}", daemon=True)
    thread.start()
    ready: concurrent.futures.Future[Target] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve() -> None:
        app = create_app(settings)
        # raise_app_exceptions=False: an exception escaping the app must show as the 500 a
        # client would see, so the invariant (not a traceback in the harness) reports it.
        transport = httpx.ASGITransport(app, raise_app_exceptions=False, client=("127.0.0.1", 1))
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://fuzz") as http,
            ):
                container: Container = app.state.container
                admin = await key(container, "admin", name="fuzz")
                ready.set_result(Target(mode, Client(http, loop), container, admin))
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    served = asyncio.run_coroutine_threadsafe(serve(), loop)
    try:
        yield ready.result(timeout=120)
    finally:
        loop.call_soon_threadsafe(stop.set)
        served.result(timeout=120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def fuzz(app: Target, name: str, weight: float, strategy: Any, send: Callable[[Any], Any]) -> None:
    """Run `send` on `weight`'s share of generated values; each one counts as an input."""
    label = f"{name} [{app.mode}]"

    @settings(max_examples=budget(weight, app.mode))
    @given(strategy)
    def one(value: Any) -> None:
        count_input(label)
        send(value)

    one()
