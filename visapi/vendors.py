"""The vendor adapters: CBB over HTTP when it is configured, else the sandboxes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.contacts.ports import ContactSync
from app.metrics import NO_METRICS, Metrics
from app.notifications.ports import Messaging
from infrastructure.vendors.cbb import CbbClient
from infrastructure.vendors.cbb_adapters import CbbContactSync, CbbMessaging
from infrastructure.vendors.pacing import memory_pacer, redis_pacer
from infrastructure.vendors.sandbox import SandboxContactSync, SandboxMessaging
from visapi.settings import Settings


@dataclass
class Vendors:
    contacts: ContactSync
    messaging: Messaging


def cbb_client(
    settings: Settings, metrics: Metrics = NO_METRICS, redis: Any = None
) -> CbbClient | None:
    """The CBB client when VISAPI_CBB_BASE_URL and VISAPI_CBB_TOKEN are set, else None; paced
    to VISAPI_CBB_RATE_PER_S across processes (through Redis when there is one)."""
    if not (settings.cbb_base_url and settings.cbb_token):
        return None
    rate = settings.cbb_rate_per_s
    pacer = None
    if rate is not None:
        pacer = (
            redis_pacer(redis, settings.redis_namespace, rate)
            if redis is not None
            else memory_pacer(rate)
        )
    return CbbClient(
        settings.cbb_base_url,
        settings.cbb_token,
        timeout_s=settings.cbb_timeout_s,
        retries=settings.cbb_retries,
        backoff_s=settings.cbb_backoff_s,
        metrics=metrics,
        pacer=pacer,
    )


def build_vendors(
    settings: Settings,
    engine: AsyncEngine,
    closers: list[Callable[[], Awaitable[None]]],
    *,
    contacts: ContactSync | None = None,
    messaging: Messaging | None = None,
    metrics: Metrics = NO_METRICS,
    redis: Any = None,
) -> Vendors:
    # Adapters passed in (tests' scripted vendors) are used as they are; the embedded worker's
    # container is given the API's. Adapters built here hold this container's engine or HTTP
    # pool, bound to its event loop, so another container builds its own.
    client = cbb_client(settings, metrics, redis) if contacts is None or messaging is None else None
    if client is not None:
        closers.append(client.aclose)
        return Vendors(
            contacts=contacts or CbbContactSync(client),
            messaging=messaging or CbbMessaging(client),
        )
    return Vendors(
        contacts=contacts or SandboxContactSync(engine),
        messaging=messaging or SandboxMessaging(engine),
    )
