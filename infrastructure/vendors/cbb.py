"""The CBB HTTP client: one httpx.AsyncClient, the token header, in-process retries of
transient failures, and the mapping of every failure onto the vendor error taxonomy.

Errors name the operation ("contact.get"), never the URL: paths carry phone numbers, and the
message is stored on the sync row and shown in GraphQL. The token never appears in a message.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.metrics import NO_METRICS, Metrics
from app.vendors import VendorError
from infrastructure.vendors.metered import metered
from infrastructure.vendors.pacing import Pacer

log = logging.getLogger("visapi.vendors")

# In-process retries cover timeouts, network errors and 5xx only: the request may never have
# reached the vendor, or the vendor failed on its side. 4xx and `success: false` are answers
# (sending the same again changes nothing), and 429 waits for the job's Retry-After delay.
DEFAULT_BACKOFF_S = 0.5  # doubled per retry: 0.5 s, 1 s, ...
MAX_DETAIL_CHARS = 200


# Failures before the request left this process: retrying them cannot act twice at the vendor.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Retryable(VendorError):
    """A transient failure (no answer, no connection, a 5xx) that the request loop may repeat.

    It carries the vendor error to raise once the retries run out (and with it any Retry-After).
    It is a VendorError only so that `metered` counts the attempt under the failure's category.
    """

    def __init__(self, failure: VendorError) -> None:
        super().__init__(failure.category, failure.message, retry_after_s=failure.retry_after_s)
        self.failure = failure

    @property
    def never_sent(self) -> bool:
        """Whether the request surely never left this process, so repeating it cannot act twice."""
        return isinstance(self.failure.__cause__, _NEVER_SENT)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP date; None when absent or malformed."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class CbbClient:
    """Requests to the CBB API. One per container (its connection pool is bound to the loop
    that first uses it); `aclose` is registered with the container's closers."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float = DEFAULT_BACKOFF_S,
        metrics: Metrics = NO_METRICS,
        pacer: Pacer | None = None,
    ) -> None:
        self._metrics = metrics
        self._pacer = pacer  # the CRM's rate limit across processes (pacing.py)
        self._token = token
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-ACCESS-TOKEN": token, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        error: type[VendorError],
        json: Any = None,
        form: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """The decoded JSON answer of a successful call, else `error(category, message)`.

        A call that is not idempotent (sending a message) is retried in process only when the
        request surely never reached the vendor (no connection): after a read timeout or a 5xx
        the vendor may have acted, and sending again could deliver the message twice.
        """
        attempts = self._retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(method, path, operation, error, json, form)
            except _Retryable as retry:
                failure, never_sent = retry.failure, retry.never_sent
            # Raised outside the handler so that the wrapper does not become its context.
            if attempt == attempts or not (idempotent or never_sent):
                raise failure
            delay = self._backoff_s * 2 ** (attempt - 1)
            log.warning(
                "cbb %s failed (%s), retry %d of %d in %.2fs",
                operation,
                failure.category,
                attempt,
                self._retries,
                delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        operation: str,
        error: type[VendorError],
        json: Any,
        form: dict[str, str] | None,
    ) -> Any:
        """The decoded answer of one HTTP request, counted on its own so that in-process retries
        show as calls of their own; a failure is raised (`_Retryable` when worth repeating)."""
        if self._pacer is not None:
            await self._pacer.wait()  # before the timing: waiting for a slot is not the call
        async with metered(self._metrics, "cbb", operation):
            return await self._request(method, path, operation, error, json, form)

    async def _request(
        self,
        method: str,
        path: str,
        operation: str,
        error: type[VendorError],
        json: Any,
        form: dict[str, str] | None,
    ) -> Any:
        try:
            response = await self._http.request(method, path, json=json, data=form)
        except httpx.TimeoutException as exc:
            failure = error("timeout", f"{operation}: no answer within {self._timeout_s:g}s")
            failure.__cause__ = exc
            raise _Retryable(failure) from None
        except httpx.TransportError as exc:
            detail = self._redact(str(exc)) or type(exc).__name__
            failure = error("network", f"{operation}: {detail}")
            failure.__cause__ = exc
            raise _Retryable(failure) from None
        status = response.status_code
        if status >= 500:
            raise _Retryable(error("vendor_error", self._detail(operation, response)))
        if status == 429:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            raise error("rate_limit", self._detail(operation, response), retry_after_s=wait)
        if status in (401, 403):
            raise error("auth", f"{operation}: HTTP {status}, the token was refused")
        if status >= 400:
            raise error("validation", self._detail(operation, response))
        if status >= 300:
            raise error("vendor_error", f"{operation}: unexpected HTTP {status}")
        return self._decoded(operation, response, error)

    def _decoded(self, operation: str, response: httpx.Response, error: type[VendorError]) -> Any:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise error(
                "vendor_error", f"{operation}: HTTP {response.status_code}, not JSON"
            ) from None
        # CBB reports some failures as HTTP 200 with `success: false`.
        if isinstance(body, dict) and body.get("success") is False:
            reason = body.get("message") or body.get("error") or "no reason given"
            raise error("vendor_error", f"{operation}: success false: {self._clip(str(reason))}")
        return body

    def _detail(self, operation: str, response: httpx.Response) -> str:
        text = response.text.strip()
        if not text:
            return f"{operation}: HTTP {response.status_code}"
        return f"{operation}: HTTP {response.status_code}: {self._clip(text)}"

    def _clip(self, text: str) -> str:
        text = self._redact(text)
        return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "..."

    def _redact(self, text: str) -> str:
        # A vendor echoing the request back (or an exception quoting it) must not leak it.
        return text.replace(self._token, "[redacted]") if self._token else text
