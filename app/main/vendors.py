"""Wiring of the vendor adapters: CBB over HTTP when it is configured, else the sandboxes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.contacts.ports import ContactSync
from app.main.settings import Settings
from app.metrics import NO_METRICS, Metrics
from app.notifications.ports import Messaging
from infrastructure.vendors.cbb import CbbClient
from infrastructure.vendors.cbb_adapters import CbbContactSync, CbbMessaging
from infrastructure.vendors.sandbox import SandboxContactSync, SandboxMessaging


@dataclass
class Vendors:
    contacts: ContactSync
    messaging: Messaging
    # The adapters the caller passed in (tests' scripted sandboxes): the embedded worker's
    # container reuses them. Adapters built here hold this container's engine or HTTP pool,
    # bound to its event loop, so another container builds its own.
    given: dict[str, Any] = field(default_factory=dict)


def cbb_client(settings: Settings, metrics: Metrics = NO_METRICS) -> CbbClient | None:
    """The CBB client when VISAPI_CBB_BASE_URL and VISAPI_CBB_TOKEN are set, else None."""
    if not (settings.cbb_base_url and settings.cbb_token):
        return None
    return CbbClient(
        settings.cbb_base_url,
        settings.cbb_token,
        timeout_s=settings.cbb_timeout_s,
        retries=settings.cbb_retries,
        backoff_s=settings.cbb_backoff_s,
        metrics=metrics,
    )


def build_vendors(
    settings: Settings,
    engine: AsyncEngine,
    closers: list[Callable[[], Awaitable[None]]],
    *,
    contacts: ContactSync | None = None,
    messaging: Messaging | None = None,
    metrics: Metrics = NO_METRICS,
) -> Vendors:
    given: dict[str, Any] = {
        name: adapter
        for name, adapter in (("contacts", contacts), ("messaging", messaging))
        if adapter is not None
    }
    client = cbb_client(settings, metrics) if len(given) < 2 else None
    if client is not None:
        closers.append(client.aclose)
        return Vendors(
            contacts=contacts or CbbContactSync(client),
            messaging=messaging or CbbMessaging(client),
            given=given,
        )
    return Vendors(
        contacts=contacts or SandboxContactSync(engine),
        messaging=messaging or SandboxMessaging(engine),
        given=given,
    )
