"""The `visapi` command: serve, worker, scheduler, migrate, export-schema, seed, keys,
documents, fake-vendors."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from visapi.cli_documents import documents
from visapi.cli_keys import keys
from visapi.cli_migrate import migrate
from visapi.cli_support import (
    first_key_notice,
    require_redis,
    require_schema,
    settings_or_exit,
    start_logging,
)
from visapi.metrics_dir import MULTIPROC_ENV, metrics_directory


@click.group()
@click.version_option(package_name="visapi", prog_name="visapi")
def main() -> None:
    """VisAPI: the visa agency's back office (GraphQL API, jobs, periodic runs)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API (GraphiQL at /graphql)."""
    import uvicorn

    settings = settings_or_exit()
    if workers > 1 and settings.embedded:
        raise click.ClickException(
            "--workers > 1 needs VISAPI_REDIS_URL: the embedded cache and job queue live in one "
            "process"
        )
    from rest.proxies import parse_networks

    require_schema(settings, "serve")
    start_logging(settings)
    trusted = [str(network) for network in parse_networks(settings.trusted_proxies)]
    with metrics_directory(os.environ, workers):
        first_key_notice(settings)
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
            # Subscriptions: pings, a pong deadline, 1001 at shutdown, messages no larger
            # than a request body.
            ws="visapi.websockets:GoingAwayProtocol",
            ws_ping_interval=settings.subscription_ping_s,
            ws_ping_timeout=settings.subscription_pong_timeout_s,
            ws_max_size=settings.max_body_bytes,
            # No permessage-deflate: its zlib contexts cost ~50 KB per socket (tracemalloc, 500
            # idle subscriptions: 25 of 51 MB), for messages of a few hundred bytes.
            ws_per_message_deflate=False,
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
    settings = settings_or_exit()
    require_redis(settings, "worker")
    require_schema(settings, "worker")
    # Before prometheus-client is imported: the worker's metrics are its own (in memory, or a
    # directory of its own with --processes > 1), never files of a directory `serve` empties.
    os.environ.pop(MULTIPROC_ENV, None)
    from visapi.worker_processes import run_worker

    start_logging(settings)
    port = metrics_port if metrics_port is not None else settings.worker_metrics_port
    run_worker(settings, queues, processes=processes, threads=threads, metrics_port=port)


@main.command()
def scheduler() -> None:
    """Run the periodic jobs (needs VISAPI_REDIS_URL); any number may run, each tick fires once."""
    settings = settings_or_exit()
    require_redis(settings, "scheduler")
    require_schema(settings, "scheduler")
    from visapi.scheduler import run_scheduler

    start_logging(settings)
    run_scheduler(settings)


@main.command("export-schema")
@click.option(
    "--write",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the SDL to this file (schema.graphql) instead of stdout, unless it would break"
    " the file's clients.",
)
@click.option("--allow-breaking", is_flag=True, help="With --write: write even a breaking change.")
def export_schema(target: Path | None, allow_breaking: bool) -> None:
    """Print the GraphQL SDL, or write it over the committed contract (`make schema`)."""
    from graphql import GraphQLError

    from graph.compatibility import breaking_changes, dangerous_changes, listed, refusal
    from graph.schema import schema

    sdl = schema.as_str() + "\n"
    if target is None:
        sys.stdout.write(sdl)
        return
    old = target.read_text() if target.exists() else ""
    if old.strip() and old != sdl:  # an empty file (a failed `>` redirect) holds no contract
        try:
            broken = breaking_changes(old, sdl)
        except GraphQLError as exc:
            if not allow_breaking:
                raise click.ClickException(
                    f"{target} is not a schema ({exc.message}): fix it, or overwrite it with"
                    " ALLOW_BREAKING=1 / --allow-breaking"
                ) from None
            old, broken = sdl, []
        if broken and not allow_breaking:
            raise click.ClickException(f"{target} left as it is: {refusal(broken)}")
        if broken:
            click.echo(f"Breaking changes written (allowed):\n{listed(broken)}", err=True)
        if dangerous := dangerous_changes(old, sdl):
            click.echo(
                f"Dangerous changes (clients may be surprised):\n{listed(dangerous)}", err=True
            )
    # Written whole or not at all: a failed export must never leave the contract truncated.
    partial = target.with_name(f".{target.name}.tmp")
    partial.write_text(sdl)
    partial.replace(target)


@main.command()
@click.option("--orders", "count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(min=1, max=10_000))
def seed(count: int, batch: int) -> None:
    """Insert demo orders (with their creation events), with a progress bar."""
    from tqdm import tqdm

    from infrastructure.db.seed import seed_orders

    settings = settings_or_exit()
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


main.add_command(documents)
main.add_command(keys)
main.add_command(migrate)

if __name__ == "__main__":
    main()
