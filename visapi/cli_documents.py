"""`visapi documents`: push a frontend's manifest of trusted documents, list what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.documents.commands import PushDocuments
from app.documents.manifest import read_manifest
from app.errors import InvalidInput
from visapi.cli_support import require_schema, run_with_container, settings_or_exit

if TYPE_CHECKING:
    from app.documents.commands import Pushed
    from app.documents.ports import StoredDocument


@click.group()
def documents() -> None:
    """Persisted documents (APQ registrations and trusted manifests)."""


@documents.command("push")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def push(manifest: Path) -> None:
    """Load MANIFEST: Apollo's persisted-query manifest or Relay's persisted-queries.json.

    Every document is parsed and validated against the schema first; one bad entry fails the
    command, naming it, and nothing is stored. Pushing the same manifest again changes nothing.
    """
    settings = settings_or_exit()
    require_schema(settings, "documents push")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{manifest} is not JSON: {exc}") from None
    try:
        kind, entries = read_manifest(data)
    except InvalidInput as exc:
        raise click.ClickException(f"{manifest}: {exc.message}") from None
    command = PushDocuments(entries=entries, actor="cli")
    try:
        pushed: Pushed = run_with_container(settings, lambda c: c.bus.handle(command))
    except click.ClickException as exc:
        raise click.ClickException(f"{manifest}: {exc.message}; nothing was stored") from None
    click.echo(
        f"{manifest} ({kind}, {len(entries)} documents): {pushed.added} added,"
        f" {pushed.unchanged} already there, {pushed.trusted} APQ documents now trusted",
        err=True,
    )


@documents.command("list")
@click.option("--source", type=click.Choice(["apq", "manifest"]), default=None)
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def list_documents(source: str | None, limit: int) -> None:
    """Print the stored documents, newest first: id, source, operation name, owner."""
    from app.documents.ports import Source

    settings = settings_or_exit()
    wanted = Source(source) if source else None
    rows: list[StoredDocument] = run_with_container(
        settings, lambda c: c.services.documents.page(wanted, limit)
    )
    for doc in rows:
        click.echo(f"{doc.id}\t{doc.source.value}\t{doc.operation_name or '-'}\t{doc.owner or '-'}")
