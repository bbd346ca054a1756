"""The privacy slice: a customer's data exported (the erasure is a bulk operation: slices/bulk)."""

from __future__ import annotations

from collections.abc import Mapping

from app.jobs import JobPolicy
from app.privacy.queries import PrivacyQueries
from infrastructure.db.privacy import SqlPersonalData
from visapi.platform import Platform
from visapi.slices import Slice

JOBS: Mapping[type, JobPolicy] = {}


def build(p: Platform) -> Slice[PrivacyQueries]:
    # The primary, never a replica: an export right after an erasure must show it.
    return Slice(PrivacyQueries(SqlPersonalData(p.engine)), {})
