"""The `visapi` command: serve, worker, scheduler, migrate, export-schema, seed, keys,
fake-vendors."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from visapi.metrics_dir import MULTIPROC_ENV, metrics_directory
from visapi.settings import Settings, SettingsError, load_settings, unknown_names

if TYPE_CHECKING:
    from app.auth.commands import IssuedKey
    from visapi.bootstrap import Container

T = TypeVar("T")
SCHEMA_CHECK_TIMEOUT_S = 10.0


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _start_logging(settings: Settings) -> None:
    """JSON logs, and one warning naming `VISAPI_*` variables no setting reads (typos)."""
    import logging

    from visapi.logging import configure_logging

    configure_logging(settings.log_level)
    unknown = unknown_names()
    if unknown:
        logging.getLogger("visapi.settings").warning(
            "unknown settings ignored: %s (see the settings in README.md)", ", ".join(unknown)
        )


def _require_redis(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise click.ClickException(
            f"`visapi {command}` needs VISAPI_REDIS_URL; without it `visapi serve` runs the "
            "worker and the periodic jobs in-process"
        )


def _require_schema(settings: Settings, command: str) -> None:
    """Refuse to start on a database not at this code's migration head, in one line."""
    from sqlalchemy.exc import DBAPIError

    from infrastructure.db.engine import create_engine
    from infrastructure.db.revision import schema_problem

    async def ask() -> str | None:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            async with asyncio.timeout(SCHEMA_CHECK_TIMEOUT_S):
                return await schema_problem(engine)
        finally:
            await engine.dispose()

    try:
        problem = asyncio.run(ask())
    except (OSError, DBAPIError, TimeoutError) as exc:
        # A database down is no reason to stay down: the process waits for it like a running one
        # does, and /readyz says `database` until it answers (then `migrations`, if behind).
        click.echo(
            f"visapi {command}: could not check the database schema ({type(exc).__name__});"
            " starting anyway",
            err=True,
        )
        return
    if problem is not None:
        raise click.ClickException(f"visapi {command} cannot start: {problem}")


@click.group()
def main() -> None:
    """VisAPI: the visa agency's back office (GraphQL API, jobs, periodic runs)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API (GraphiQL at /graphql)."""
    import uvicorn

    settings = _settings()
    if workers > 1 and settings.embedded:
        raise click.ClickException(
            "--workers > 1 needs VISAPI_REDIS_URL: the embedded cache and job queue live in one "
            "process"
        )
    from rest.proxies import parse_networks

    _require_schema(settings, "serve")
    _start_logging(settings)
    trusted = [str(network) for network in parse_networks(settings.trusted_proxies)]
    with metrics_directory(os.environ, workers):
        _first_key_notice(settings)
        click.echo(f"VisAPI: GraphiQL on http://{host}:{port}/graphql", err=True)
        uvicorn.run(
            "visapi.asgi:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            # Explicit, never uvicorn's default (FORWARDED_ALLOW_IPS, else loopback): with no
            # trusted proxies X-Forwarded-For is not read at all (rest.proxies).
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted,
        )


def _queues(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """`critical,default` → the names, each one of the queues; None (all) when omitted."""
    from app.jobs import Queue

    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    known = [q.value for q in Queue]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        what = f"unknown queue(s) {', '.join(unknown)}" if unknown else "no queue named"
        raise click.BadParameter(f"{what}; queues are {', '.join(known)}")
    return list(dict.fromkeys(names))


@main.command()
@click.option(
    "--queues",
    default=None,
    callback=_queues,
    help="Comma-separated queues to consume: critical, default, bulk (default: all).",
)
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=None, type=click.IntRange(min=1), help="Per process.")
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve /metrics on 127.0.0.1:PORT (default: VISAPI_WORKER_METRICS_PORT, else off).",
)
def worker(
    queues: list[str] | None, processes: int, threads: int | None, metrics_port: int | None
) -> None:
    """Run a job worker (needs VISAPI_REDIS_URL)."""
    settings = _settings()
    _require_redis(settings, "worker")
    _require_schema(settings, "worker")
    # Before prometheus-client is imported: the worker's metrics are its own (in memory, or a
    # directory of its own with --processes > 1), never files of a directory `serve` empties.
    os.environ.pop(MULTIPROC_ENV, None)
    from visapi.worker_processes import run_worker

    _start_logging(settings)
    port = metrics_port if metrics_port is not None else settings.worker_metrics_port
    run_worker(settings, queues, processes=processes, threads=threads, metrics_port=port)


@main.command()
def scheduler() -> None:
    """Run the periodic jobs (needs VISAPI_REDIS_URL); any number may run, each tick fires once."""
    settings = _settings()
    _require_redis(settings, "scheduler")
    _require_schema(settings, "scheduler")
    from visapi.scheduler import run_scheduler

    _start_logging(settings)
    run_scheduler(settings)


@main.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    from infrastructure.db.migrate import upgrade

    settings = _settings()
    _start_logging(settings)
    upgrade(settings.database_url)
    click.echo("database is at the latest revision", err=True)


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL."""
    from graph.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


@main.command()
@click.option("--orders", "count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(min=1, max=10_000))
def seed(count: int, batch: int) -> None:
    """Insert demo orders (with their creation events), with a progress bar."""
    from tqdm import tqdm

    from infrastructure.db.seed import seed_orders

    settings = _settings()
    with tqdm(total=count, unit="order", file=sys.stderr) as bar:
        asyncio.run(seed_orders(settings.database_url, count, batch=batch, progress=bar.update))


@main.command("fake-vendors")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
@click.option(
    "--token",
    default="fake-cbb-token",
    show_default=True,
    help="The X-ACCESS-TOKEN it accepts; give the API the same as VISAPI_CBB_TOKEN.",
)
def fake_vendors(host: str, port: int, token: str) -> None:
    """Run the fake CBB and Slack webhook server (scripted from /_fake/, for tests and demos)."""
    import uvicorn

    from infrastructure.vendors.fake_server import create_fake_vendor

    if not token.strip():
        raise click.ClickException("--token must not be blank")
    click.echo(
        f"fake vendors on http://{host}:{port}: VISAPI_CBB_BASE_URL=http://{host}:{port}",
        err=True,
    )
    uvicorn.run(create_fake_vendor(token), host=host, port=port, log_level="warning")


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--name", required=True, help="What the key is for, e.g. storefront.")
@click.option(
    "--scopes",
    required=True,
    help="Comma-separated permissions: orders:read,orders:write or admin.",
)
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None, help="Default 90.")
def create_key(name: str, scopes: str, expires_in_days: int | None) -> None:
    """Create an API key and print it (the full key is shown this once)."""
    from app.auth.commands import CreateApiKey

    settings = _settings()
    command = CreateApiKey(
        name=name,
        scopes=tuple(s for s in scopes.split(",") if s.strip()),
        expires_in_days=expires_in_days,
        actor="cli",
    )
    issued: IssuedKey = _run_with_container(settings, lambda c: c.bus.handle(command))
    key = issued.key
    click.echo(
        f"created API key {key.prefix} ({key.name}): scopes {','.join(key.scopes)}, "
        f"expires {key.expires_at:%Y-%m-%d}. It is shown once:",
        err=True,
    )
    click.echo(issued.secret)  # stdout carries the key alone, for scripts


def _run_with_container(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
    """Run `work` against a bootstrapped container; refusals become one-line CLI errors."""
    from sqlalchemy.exc import DBAPIError

    from app.errors import AppError
    from domain.errors import DomainError
    from infrastructure.queue.broker import close_broker
    from visapi.bootstrap import bootstrap

    async def run() -> T:
        container = bootstrap(settings)
        try:
            return await work(container)
        finally:
            await container.aclose()
            await asyncio.to_thread(close_broker, container.broker)

    try:
        return asyncio.run(run())
    except (DomainError, AppError) as exc:
        raise click.ClickException(exc.message) from None
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    except DBAPIError:
        raise click.ClickException("the database is not ready: run `visapi migrate`") from None


async def _first_key(container: Container) -> str | None:
    """What `serve` says about access on start: None when keys exist already."""
    from app.auth.commands import CreateApiKey

    if await container.access.reads.count_keys() > 0:
        return None
    if not container.settings.embedded:
        # Production: serve's stderr may reach a log store, where no key belongs.
        return (
            "VisAPI: no API key exists yet; create one with "
            "`visapi keys create --name admin --scopes admin`"
        )
    command = CreateApiKey(name="first admin", scopes=("admin",), actor="visapi serve")
    issued: IssuedKey = await container.bus.handle(command)
    rule = "=" * 76
    return (
        f"{rule}\nNo API key existed, so this admin key was created. It is shown ONCE:\n\n"
        f"    {issued.secret}\n\nSend it as the X-API-Key header (GraphiQL: Headers tab,"
        f' {{"X-API-Key": "..."}}).\n{rule}'
    )


def _first_key_notice(settings: Settings) -> None:
    """`make run` on a fresh database needs a way in: an admin key, created and shown once."""
    try:
        notice = _run_with_container(settings, _first_key)
    except click.ClickException as exc:
        notice = f"VisAPI: {exc.message}"
    if notice:
        click.echo(notice, err=True)


if __name__ == "__main__":
    main()
