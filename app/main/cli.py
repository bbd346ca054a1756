"""The `visapi` command: serve, worker, scheduler, migrate, export-schema, seed."""

from __future__ import annotations

import asyncio
import sys

import click

from app.main.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _require_redis(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise click.ClickException(
            f"`visapi {command}` needs VISAPI_REDIS_URL; without it `visapi serve` runs the "
            "worker and the periodic jobs in-process"
        )


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
    from app.main.logging import configure_logging

    configure_logging(settings.log_level)
    click.echo(f"VisAPI: GraphiQL on http://{host}:{port}/graphql", err=True)
    uvicorn.run(
        "app.main.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@main.command()
@click.option("--queues", default=None, help="Comma-separated queues (default: all).")
def worker(queues: str | None) -> None:
    """Run a job worker (needs VISAPI_REDIS_URL)."""
    settings = _settings()
    _require_redis(settings, "worker")
    from app.main.logging import configure_logging
    from app.main.worker import run_worker

    configure_logging(settings.log_level)
    run_worker(settings, queues.split(",") if queues else None)


@main.command()
def scheduler() -> None:
    """Run the periodic jobs (needs VISAPI_REDIS_URL); any number may run, each tick fires once."""
    settings = _settings()
    _require_redis(settings, "scheduler")
    from app.main.logging import configure_logging
    from app.main.scheduler import run_scheduler

    configure_logging(settings.log_level)
    run_scheduler(settings)


@main.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    from infrastructure.db.migrate import upgrade

    settings = _settings()
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


if __name__ == "__main__":
    main()
