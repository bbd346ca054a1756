"""The Starlette app: routes, middleware, and the lifespan that builds and closes the container."""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import importlib.resources
import logging
import os
import platform
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from app.auth.ports import AccessReads
from app.bus import MessageBus
from app.logs.queries import LogQueries
from app.main.bootstrap import Container, bootstrap
from app.main.gate import GateMiddleware
from app.main.http_metrics import HttpMetricsMiddleware, metrics_endpoint
from app.main.log_export import export_route
from app.main.middleware import build_middleware, error_body
from app.main.scheduler import PeriodicRunner, periodic_runner
from app.main.settings import Settings, load_settings
from app.main.triggers import trigger_route
from app.main.vizi import vizi_routes
from app.main.whatsapp import whatsapp_routes
from app.main.worker import EmbeddedWorker, embedded_worker
from app.orders.queries import OrderQueries
from app.queues.queries import QueueQueries
from app.sandbox import SandboxRecords
from app.workflows.queries import WorkflowQueries
from graph.schema import build_schema
from graph.view import GraphQLView
from infrastructure.db.revision import Migrations, SchemaCheck
from infrastructure.metrics import PrometheusMetrics
from infrastructure.queue.broker import close_broker

log = logging.getLogger("visapi.health")

GRAPHIQL = ("app.main", "static/graphiql")  # package and folder of the vendored GraphiQL
JSON = "application/json; charset=utf-8"
READY_TIMEOUT_S = 2.0  # per check: a readiness probe must answer before the prober gives up
UNCHECKED = "unchecked"  # a check that depends on a failing one


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type=JSON)


class Started:
    """The container once the lifespan has built it (the routes exist before it does)."""

    container: Container | None = None

    def get(self) -> Container:
        if self.container is None:
            raise RuntimeError("the application has not started: run its lifespan")
        return self.container

    @property
    def bus(self) -> MessageBus:
        return self.get().bus

    @property
    def orders(self) -> OrderQueries:
        return self.get().orders

    @property
    def access(self) -> AccessReads:
        return self.get().access.reads

    @property
    def sandbox_records(self) -> SandboxRecords:
        return self.get().sandbox_records

    @property
    def queues(self) -> QueueQueries:
        return self.get().queues

    @property
    def logs(self) -> LogQueries:
        return self.get().logs

    @property
    def workflows(self) -> WorkflowQueries:
        return self.get().workflows.queries


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    started = Started()
    # Built with the app, not in the lifespan: the schema's extension and the middleware need it.
    metrics = PrometheusMetrics()
    # The head this code expects, read from the migration scripts once (not per probe).
    schema_check = SchemaCheck(Migrations.of_code())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        container = bootstrap(settings, metrics=metrics)
        worker: EmbeddedWorker | None = None
        runner: PeriodicRunner | None = None
        try:
            if settings.embedded:
                # The job worker (its own thread and loop) and the periodic jobs (on this loop)
                # run inside the API process; in production they are separate commands.
                worker, runner = embedded_worker(container), periodic_runner(container)
                worker.start()
                runner.start()
            started.container = app.state.container = container
            # What startup built (modules, schema, engines) lives as long as the process: frozen,
            # full collections stop walking it (gen-2 pauses of 100+ ms under load, PERFORMANCE.md).
            gc.freeze()
            yield
        finally:
            gc.unfreeze()
            started.container = None
            if runner is not None:
                await runner.stop()
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            await container.aclose()
            await asyncio.to_thread(close_broker, container.broker)
            metrics.retire()

    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_fragments=settings.max_fragments,
        introspection=settings.introspection,
        admin_introspection=settings.production,
        metrics=metrics,
        document_cache_bytes=settings.document_cache_bytes,
    )
    graphiql = settings.graphiql_enabled
    view = GraphQLView(
        schema,
        started,
        max_page_size=settings.max_page_size,
        max_query_bytes=settings.max_query_bytes,
        graphiql_html=_graphiql_page() if graphiql else None,
    )
    about = _version(production=settings.production)

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        return await _readiness(started.get(), schema_check)

    async def version(request: Request) -> Response:
        return json_response(about)

    routes: list[BaseRoute] = [
        *([Mount("/graphql/static", StaticFiles(packages=[GRAPHIQL]))] if graphiql else []),
        Route("/graphql", view),
        Route("/api/v1/healthz", healthz, methods=["GET"]),
        Route("/api/v1/readyz", readyz, methods=["GET"]),
        Route("/api/v1/version", version, methods=["GET"]),
        *vizi_routes(started.get),
        *whatsapp_routes(started.get),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        Route("/api/v1/logs/export", export_route(lambda: started.logs), methods=["GET"]),
        Route(
            "/api/v1/triggers/{key}",
            trigger_route(lambda: started.bus, settings.trigger_max_body_bytes),
            methods=["POST"],
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(HttpMetricsMiddleware, metrics=metrics, routes=routes),
            *build_middleware(settings),
            # Innermost: under the timeout (a key check may hash) and after the correlation id.
            Middleware(GateMiddleware, access=lambda: started.get().access, settings=settings),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown path, wrong method) in the one error format."""
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "INVALID_INPUT")
    return Response(
        error_body(exc.detail, code),
        exc.status_code,
        dict(exc.headers or {}),
        media_type=JSON,
    )


def _graphiql_page() -> str:
    package, folder = GRAPHIQL
    return importlib.resources.files(package).joinpath(folder, "index.html").read_text("utf-8")


def _version(*, production: bool) -> dict[str, str | None]:
    about: dict[str, str | None] = {
        "name": "visapi",
        "version": importlib.metadata.version("visapi"),
    }
    if production:
        return about  # the interpreter and the build tell an attacker which flaws to try
    return {
        **about,
        "commit": os.environ.get("VISAPI_GIT_SHA") or None,
        "python": platform.python_version(),
    }


async def _readiness(container: Container, schema: SchemaCheck) -> Response:
    checks: dict[str, Callable[[], Awaitable[object]]] = {
        "database": lambda: _select_one(container.engine),
    }
    if container.read_engine is not container.engine:
        checks["read_database"] = lambda: _select_one(container.read_engine)
    if container.redis is not None:
        checks["cache"] = lambda: container.redis.ping()
        # The broker's Redis client is synchronous (Dramatiq): ping it off the event loop.
        client = getattr(container.broker, "client", None)
        checks["broker"] = (lambda: asyncio.to_thread(client.ping)) if client else checks["cache"]
    results = await asyncio.gather(*(_probe(name, check) for name, check in checks.items()))
    report = dict(zip(checks, results, strict=True))
    report.setdefault("cache", "ok")  # in-process memory cache: up while we are
    report.setdefault("broker", "ok")  # StubBroker in this process
    # Only a database that answers can say its schema; when it does not, "database" says it all.
    ok = report["database"] == "ok"
    report["migrations"] = await _schema(schema, container.engine) if ok else UNCHECKED
    failing = [name for name, result in report.items() if result not in ("ok", UNCHECKED)]
    if failing:
        body = {"status": "unavailable", "failing": failing, "checks": report}
        return json_response(body, 503)
    return json_response({"status": "ok", "checks": report})


async def _probe(name: str, check: Callable[[], Awaitable[object]]) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await check()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness check %s failed: %r", name, exc)
        return "timeout" if isinstance(exc, TimeoutError) else f"error: {type(exc).__name__}"
    return "ok"


async def _schema(check: SchemaCheck, engine: AsyncEngine) -> str:
    """`ok` at the migration head, else what is wrong (a 503 naming `migrations`)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            problem = await check.problem(engine)
    except Exception as exc:  # as _probe: not ready, the reason to the log
        log.warning("readiness check migrations failed: %r", exc)
        return "timeout" if isinstance(exc, TimeoutError) else f"error: {type(exc).__name__}"
    return "ok" if problem is None else problem


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
