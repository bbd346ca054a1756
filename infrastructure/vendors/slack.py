"""Slack incoming-webhook adapter (implements app.workflows.ports.Chat) over httpx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.metrics import NO_METRICS, Metrics
from app.vendors import VendorError
from infrastructure.vendors.metered import metered


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def categorise(response: httpx.Response) -> VendorError | None:
    """The taxonomy's category of a webhook answer; None for success."""
    status, body = response.status_code, response.text[:200]
    if status < 300:
        return None
    if status == 429:
        return VendorError("rate_limit", body, retry_after_s=_retry_after(response))
    if status in (401, 403, 404, 410):
        # Slack answers a revoked or unknown webhook with 403/404/410: a new URL is needed.
        return VendorError("auth", f"HTTP {status}: {body}")
    if status >= 500:
        return VendorError("vendor_error", f"HTTP {status}: {body}")
    return VendorError("validation", f"HTTP {status}: {body}")


class SlackWebhookChat:
    """Posts `{"channel", "text"}` to one incoming-webhook URL; one pooled client."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, metrics: Metrics = NO_METRICS) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._metrics = metrics

    async def post(self, channel: str, text: str) -> Mapping[str, Any]:
        async with metered(self._metrics, "slack", "message.post"):
            return await self._post(channel, text)

    async def _post(self, channel: str, text: str) -> Mapping[str, Any]:
        try:
            response = await self._client.post(self._url, json={"channel": channel, "text": text})
        except httpx.TimeoutException as exc:
            raise VendorError("timeout", f"slack: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise VendorError("network", f"slack: {type(exc).__name__}: {exc}") from None
        error = categorise(response)
        if error is not None:
            raise error
        return {"status": response.status_code, "channel": channel}

    async def aclose(self) -> None:
        await self._client.aclose()
