"""What the `visapi` commands share: settings as one-line errors, logging, the start checks,
and a container for one-off work (key creation, the first admin key)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from visapi.settings import Settings, SettingsError, load_settings, unknown_names

if TYPE_CHECKING:
    from app.auth.commands import IssuedKey
    from visapi.bootstrap import Container

T = TypeVar("T")
SCHEMA_CHECK_TIMEOUT_S = 10.0


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def start_logging(settings: Settings) -> None:
    """JSON logs, and one warning naming `VISAPI_*` variables no setting reads (typos)."""
    import logging

    from visapi.logging import configure_logging

    configure_logging(settings.log_level)
    unknown = unknown_names()
    if unknown:
        logging.getLogger("visapi.settings").warning(
            "unknown settings ignored: %s (see the settings in README.md)", ", ".join(unknown)
        )


def require_redis(settings: Settings, command: str) -> None:
    if settings.embedded:
        raise click.ClickException(
            f"`visapi {command}` needs VISAPI_REDIS_URL; without it `visapi serve` runs the "
            "worker and the periodic jobs in-process"
        )


def require_schema(settings: Settings, command: str) -> None:
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


def run_with_container(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
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


def first_key_notice(settings: Settings) -> None:
    """`make run` on a fresh database needs a way in: an admin key, created and shown once."""
    try:
        notice = run_with_container(settings, _first_key)
    except click.ClickException as exc:
        notice = f"VisAPI: {exc.message}"
    if notice:
        click.echo(notice, err=True)
