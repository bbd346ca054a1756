"""Notification statuses and the one rule for moving between them.

Our side moves a row queued → pending (claimed) → sent; the vendor's delivery events then move
it forward only: sent < delivered < read < failed. Webhooks arrive out of order (a late `sent`
after `delivered`), so a status never goes back (reference digest §11.9).
"""

from __future__ import annotations

from enum import StrEnum


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


RANK = {
    NotificationStatus.QUEUED: 0,
    NotificationStatus.PENDING: 1,
    NotificationStatus.SENT: 2,
    NotificationStatus.DELIVERED: 3,
    NotificationStatus.READ: 4,
    NotificationStatus.FAILED: 5,
}


def advances(current: NotificationStatus, reported: NotificationStatus) -> bool:
    """True when a delivery event reporting `reported` should replace `current`."""
    return RANK[reported] > RANK[current]
