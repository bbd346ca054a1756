"""Vendor failures, one taxonomy for every adapter (CRM, WhatsApp, chat, email).

Adapters raise `VendorError` with a category; the category decides what the job does next:
transient failures are retried with backoff, permanent ones go straight to the dead letters
(retrying a 401 or a rejected payload cannot succeed), rate-limited ones wait as long as the
vendor asked (Retry-After) before the next attempt.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    RATE_LIMITED = "rate_limited"


# DOMAIN.md "Contact sync": every vendor failure is reported in one of these categories.
CATEGORY_KINDS: dict[str, ErrorKind] = {
    "timeout": ErrorKind.TRANSIENT,
    "network": ErrorKind.TRANSIENT,
    # 5xx, and HTTP 200 with `success: false`: the vendor failed, the request may be fine.
    "vendor_error": ErrorKind.TRANSIENT,
    "rate_limit": ErrorKind.RATE_LIMITED,
    "auth": ErrorKind.PERMANENT,
    # 4xx other than 401/403/429: the request itself is wrong; sending it again changes nothing.
    "validation": ErrorKind.PERMANENT,
}
ERROR_CATEGORIES = frozenset(CATEGORY_KINDS)


class VendorError(Exception):
    """A categorised vendor failure. `retry_after_s` is the vendor's Retry-After, if any."""

    def __init__(self, category: str, message: str, *, retry_after_s: float | None = None) -> None:
        if category not in CATEGORY_KINDS:
            raise ValueError(f"unknown vendor error category {category!r}")
        super().__init__(f"{category}: {message}")
        self.category = category
        self.message = message
        self.retry_after_s = retry_after_s

    @property
    def kind(self) -> ErrorKind:
        return CATEGORY_KINDS[self.category]

    @property
    def retryable(self) -> bool:
        return self.kind is not ErrorKind.PERMANENT
