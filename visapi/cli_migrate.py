"""`visapi migrate`: upgrade (the default), `--check`, `current`, `downgrade REV`."""

from __future__ import annotations

import click

from visapi.cli_support import settings_or_exit, start_logging


@click.group(invoke_without_command=True)
@click.option("--check", is_flag=True, help="Exit 1 (changing nothing) when not at the latest.")
@click.pass_context
def migrate(ctx: click.Context, check: bool) -> None:
    """Upgrade the database to the latest schema (or, with --check, tell whether it is)."""
    if ctx.invoked_subcommand is not None:
        return
    from infrastructure.db.migrate import current, heads, upgrade

    settings = settings_or_exit()
    start_logging(settings)
    if check:
        at, latest = current(settings.database_url), heads()
        if at in latest:
            click.echo(f"database is at the latest revision ({at})", err=True)
            return
        click.echo(
            f"database is at {at or 'no revision'}, the latest is {','.join(latest)}", err=True
        )
        ctx.exit(1)
    upgrade(settings.database_url)
    click.echo("database is at the latest revision", err=True)


@migrate.command("current")
def current_revision() -> None:
    """Print the revision the database is at (`none` for an empty database)."""
    from infrastructure.db.migrate import current

    settings = settings_or_exit()
    click.echo(current(settings.database_url) or "none")


@migrate.command("downgrade")
@click.argument("revision")
def downgrade_to(revision: str) -> None:
    """Downgrade the database to REVISION (`base`: an empty schema). Data of the tables a
    revision removes is lost: take a backup first."""
    from alembic.util.exc import CommandError

    from infrastructure.db.migrate import downgrade

    settings = settings_or_exit()
    start_logging(settings)
    try:
        downgrade(settings.database_url, revision)
    except CommandError as exc:  # an unknown revision, or one above the current
        raise click.ClickException(f"cannot downgrade to {revision!r}: {exc}") from None
    click.echo(f"database downgraded to {revision}", err=True)
