"""`visapi keys`: create, list and revoke API keys from the command line (the database's own
authority: no scope rule applies, as for the first admin key)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import click

from visapi.cli_support import run_with_container, settings_or_exit

if TYPE_CHECKING:
    from app.auth.commands import IssuedKey
    from app.auth.ports import KeyView


@click.group()
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

    settings = settings_or_exit()
    command = CreateApiKey(
        name=name,
        scopes=tuple(s for s in scopes.split(",") if s.strip()),
        expires_in_days=expires_in_days,
        actor="cli",
    )
    issued: IssuedKey = run_with_container(settings, lambda c: c.bus.handle(command))
    key = issued.key
    click.echo(
        f"created API key {key.prefix} ({key.name}): scopes {','.join(key.scopes)}, "
        f"expires {key.expires_at:%Y-%m-%d}. It is shown once:",
        err=True,
    )
    click.echo(issued.secret)  # stdout carries the key alone, for scripts


@keys.command("list")
def list_keys() -> None:
    """Every key, newest first: id, prefix, name, scopes, expiry, last use, revocation (never a
    secret or its hash). Tab-separated, one key a line."""
    settings = settings_or_exit()

    async def all_keys(container: object) -> list[KeyView]:
        reads = container.access.reads  # type: ignore[attr-defined]
        found: list[KeyView] = []
        after = None
        while True:
            page = await reads.key_page(500, after)
            found += page.items
            if not page.has_next or not page.items:
                return found
            last = page.items[-1]
            after = (last.created_at, last.id)

    for k in run_with_container(settings, all_keys):
        click.echo(
            "\t".join(
                [
                    str(k.id),
                    k.prefix,
                    k.name,
                    ",".join(k.scopes),
                    f"expires {k.expires_at:%Y-%m-%d}",
                    f"used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used",
                    f"REVOKED {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active",
                ]
            )
        )


@keys.command("revoke")
@click.argument("key")
def revoke_key(key: str) -> None:
    """Revoke a key at once, on every process: KEY is its id or its prefix (vk_...)."""
    from app.auth.commands import RevokeApiKey

    settings = settings_or_exit()

    async def revoke(container: object) -> KeyView:
        reads = container.access.reads  # type: ignore[attr-defined]
        try:
            id = UUID(key)
        except ValueError:
            stored = await reads.key_by_prefix(key.split(".")[0])
            if stored is None:
                raise click.ClickException(f"no API key {key.split('.')[0]!r}") from None
            id = stored.id
        revoked: KeyView = await container.bus.handle(  # type: ignore[attr-defined]
            RevokeApiKey(id=id, actor="cli")
        )
        return revoked

    revoked = run_with_container(settings, revoke)
    click.echo(f"revoked API key {revoked.prefix} ({revoked.name})", err=True)
