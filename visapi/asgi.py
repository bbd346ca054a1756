"""The Starlette app: routes, middleware, and the lifespan that runs the embedded worker and
closes the container."""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import importlib.resources
import os
import platform
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.documents.ports import DocumentsMode
from app.responses import ResponseCache, ResponseStore
from graph.cache_control import Plans
from graph.http_answers import negotiate
from graph.live_socket import Connections
from graph.response_cache import Responses
from graph.schema import Schema, build_schema
from graph.subscribers import Subscribers
from graph.view import GraphQLView
from infrastructure.cache.memory import MemoryCache
from infrastructure.cache.redis import RedisCache
from infrastructure.cache.responses import MemoryResponses, RedisResponses
from infrastructure.db.revision import Migrations, SchemaCheck
from infrastructure.metrics import PrometheusMetrics
from infrastructure.queue.broker import close_broker
from rest.cached_answers import CachedAnswers
from rest.compression import PrecompressedStaticFiles
from rest.cors import parse_origins
from rest.gate import GateMiddleware
from rest.health import Check, health_routes
from rest.http_metrics import HttpMetricsMiddleware, metrics_endpoint
from rest.log_export import export_route
from rest.middleware import build_middleware, error_body
from rest.triggers import trigger_route
from rest.vizi import vizi_routes
from rest.whatsapp import whatsapp_routes
from visapi.bootstrap import Container, bootstrap
from visapi.scheduler import PeriodicRunner, periodic_runner
from visapi.settings import Settings, load_settings
from visapi.worker import EmbeddedWorker, embedded_worker

GRAPHIQL = ("visapi", "static/graphiql")  # package and folder of the vendored GraphiQL
JSON = "application/json; charset=utf-8"


def create_app(settings: Settings | None = None) -> Starlette:
    """The API. Bootstrapping opens no connection, so the services exist with the app and
    routes get them handed over; the lifespan starts the embedded worker and closes them."""
    settings = settings or load_settings()
    # Built before the schema: its extension and the HTTP middleware count into it.
    metrics = PrometheusMetrics()
    container = bootstrap(settings, metrics=metrics)
    routes = _routes(settings, container, metrics)
    services = container.services
    responses = _graphql_view(routes).responses
    gate = Middleware(
        GateMiddleware,
        access=services.access,
        window_s=settings.rate_limit_window_s,
        per_key=settings.rate_limit_per_key,
        per_ip=settings.rate_limit_per_ip,
        trusted_proxies=settings.trusted_proxies,
        # The response cache's probe: a cached GET answer rides on the admission's round trip.
        probe=responses.prefetch,
    )
    app = Api(
        routes=routes,
        middleware=[
            Middleware(HttpMetricsMiddleware, metrics=metrics, routes=routes),
            *build_middleware(
                timeout_s=settings.request_timeout_s,
                max_body_bytes=settings.max_body_bytes,
                cors_origins=parse_origins(settings.cors_origins),
                cors_max_age_s=settings.cors_max_age_s,
            ),
            gate,  # innermost: under the timeout (a key check may hash), after the correlation id
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=partial(_lifespan, container=container),
    )
    if responses.cache is not None:
        # A cached GraphQL answer is sent before the whole stack, in the admission's round trip.
        app.edge = CachedAnswers(
            partial(Starlette.__call__, app),
            access=services.access,
            probe=responses.prefetch,
            answer_hit=responses.answer_hit,
            metrics=metrics,
            cors=bool(parse_origins(settings.cors_origins)),
        )
    return app


class Api(Starlette):
    """Starlette with rest.cached_answers in front of everything, its error middleware
    included (the edge hands what it cannot answer to the stack, errors of its own too)."""

    edge: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.edge is None:
            await super().__call__(scope, receive, send)
        else:
            scope["app"] = self
            await self.edge(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: Starlette, *, container: Container) -> AsyncIterator[None]:
    worker: EmbeddedWorker | None = None
    runner: PeriodicRunner | None = None
    try:
        if container.settings.embedded:
            # The job worker (its own thread and loop) and the periodic jobs (on this loop)
            # run inside the API process; in production they are separate commands.
            worker, runner = embedded_worker(container), periodic_runner(container)
            worker.start()
            runner.start()
        app.state.container = container
        # What startup built (modules, schema, engines) lives as long as the process: frozen,
        # full collections stop walking it (gen-2 pauses of 100+ ms under load, PERFORMANCE.md).
        gc.freeze()
        yield
    finally:
        gc.unfreeze()
        if runner is not None:
            await runner.stop()
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        await container.aclose()
        await asyncio.to_thread(close_broker, container.broker)
        container.metrics.retire()


def _routes(
    settings: Settings, container: Container, metrics: PrometheusMetrics
) -> list[BaseRoute]:
    services = container.services
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_fragments=settings.max_fragments,
        max_cost=settings.max_query_cost,
        max_page_size=settings.max_page_size,
        introspection=settings.introspection,
        admin_introspection=settings.production,
        metrics=metrics,
        document_cache_bytes=settings.document_cache_bytes,
        documents_mode=DocumentsMode(settings.documents_mode),
        registered_documents=settings.documents_cache_size,
    )
    graphiql = settings.graphiql_enabled
    view = GraphQLView(
        schema,
        services,
        max_page_size=settings.max_page_size,
        max_query_bytes=settings.max_query_bytes,
        graphiql_html=_graphiql_page() if graphiql else None,
        responses=_responses(settings, container, metrics, schema),
        subscribers=Subscribers(
            hub=container.live, per_caller=settings.subscriptions_per_caller, metrics=metrics
        ),
        connections=Connections(
            access=services.access, recheck_s=settings.subscription_recheck_s, metrics=metrics
        ),
        subscriptions_per_connection=settings.subscriptions_per_connection,
        allowed_origins=parse_origins(settings.cors_origins),
    )
    return [
        *(
            [Mount("/graphql/static", PrecompressedStaticFiles(packages=[GRAPHIQL]))]
            if graphiql
            else []
        ),
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),  # subscriptions (graphql-transport-ws)
        *health_routes(
            readiness_checks(container),
            # The head this code expects, read from the migration scripts once (not per probe).
            partial(SchemaCheck(Migrations.of_code()).problem, container.engine),
            _version(production=settings.production),
        ),
        *vizi_routes(services),
        *whatsapp_routes(
            services.bus,
            verify_token=settings.whatsapp_verify_token,
            app_secret=settings.whatsapp_app_secret,
        ),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        Route("/api/v1/logs/export", export_route(services.logs), methods=["GET"]),
        Route(
            "/api/v1/triggers/{key}",
            trigger_route(services.bus, settings.trigger_max_body_bytes),
            methods=["POST"],
        ),
    ]


def _graphql_view(routes: list[BaseRoute]) -> GraphQLView:
    return next(r.app for r in routes if isinstance(r, Route) and isinstance(r.app, GraphQLView))


def _responses(
    settings: Settings, container: Container, metrics: PrometheusMetrics, schema: Schema
) -> Responses:
    """The response cache over the app's own cache, so that writes' evictions reach answers."""
    cache = container.cache
    store: ResponseStore | None = None
    if isinstance(cache, RedisCache):
        store = RedisResponses(cache)
    elif isinstance(cache, MemoryCache):
        store = MemoryResponses(cache)
    # else a cache a test replaced: no generations shared with the writes, so no caching
    if not settings.response_cache or store is None:
        return Responses(negotiate)
    return Responses(
        negotiate,
        ResponseCache(store, max_age_s=settings.response_cache_max_age_s, metrics=metrics),
        Plans(schema._schema, max_tokens=settings.max_tokens, max_bytes=settings.max_query_bytes),
        registered=schema.registered,
        mode=DocumentsMode(settings.documents_mode),
    )


def readiness_checks(container: Container) -> dict[str, Check]:
    checks: dict[str, Check] = {"database": partial(_select_one, container.engine)}
    if container.read_engine is not container.engine:
        checks["read_database"] = partial(_select_one, container.read_engine)
    if container.redis is not None:
        checks["cache"] = container.redis.ping
        # The broker's Redis client is synchronous (Dramatiq): ping it off the event loop.
        client = getattr(container.broker, "client", None)
        checks["broker"] = partial(asyncio.to_thread, client.ping) if client else checks["cache"]
    return checks


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


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
