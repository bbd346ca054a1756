"""The Metrics port: what the application counts and times, named by what happened.

Adapters (infrastructure.metrics) turn these calls into Prometheus series. Every label value
passed here must come from a small, fixed set (route templates, actor names, vendor names,
statuses): a client-chosen string as a label would grow the series without bound.
"""

from __future__ import annotations

from typing import Protocol

# Outcomes of one job delivery (`Metrics.job`): done, failed and retried later, failed for good.
JOB_OK = "ok"
JOB_RETRIED = "retried"
JOB_FAILED = "failed"

# Operation labels that are not client-chosen names: an operation without a name, one that
# could not be identified (unparsable document, unknown operationName), and names past the cap.
ANONYMOUS = "anonymous"
INVALID = "invalid"
OTHER = "other"
FIXED_OPERATION_LABELS = frozenset({ANONYMOUS, INVALID, OTHER})


class Metrics(Protocol):
    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One HTTP answer; `route` is the route's template (`/graphql`), never the raw path."""
        ...

    def graphql_operation(self, name: str, kind: str, ok: bool, seconds: float) -> None:
        """One GraphQL operation: its name ("anonymous" when it has none), query or mutation,
        whether it answered without errors, and how long it took."""
        ...

    def job(self, actor: str, outcome: str, seconds: float) -> None:
        """One job delivery, with its outcome (JOB_OK, JOB_RETRIED or JOB_FAILED)."""
        ...

    def job_group(self, actor: str, size: int) -> None:
        """A group of `size` jobs of `actor` started (app/groups.py)."""
        ...

    def cache_lookup(self, prefix: str, hit: bool) -> None:
        """One cache read under `prefix`, counted where the cache counts its own stats."""
        ...

    def vendor_call(self, vendor: str, operation: str, outcome: str, seconds: float) -> None:
        """One call to a vendor API: e.g. ("cbb", "upsert_contact", "ok" | "timeout" | ...)."""
        ...

    def workflow_run(self, status: str) -> None:
        """A workflow run reached `status` (queued, running, succeeded, failed, canceled)."""
        ...

    def cache_counts(self) -> dict[str, tuple[int, int]]:
        """Hits and misses per prefix, over every process sharing these metrics."""
        ...

    def response_lookup(self, document: str, hit: bool) -> None:
        """One response-cache lookup of a document (its hash when sent by hash, else
        `other`: app.responses bounds the labels)."""
        ...

    def response_counts(self) -> dict[str, tuple[int, int]]:
        """Response-cache hits and misses per document label, over every process."""
        ...

    async def lookup_totals(self) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
        """`cache_counts` and `response_counts` over the whole deployment when its processes
        share them (through Redis), else as those two give them."""
        ...


class NoMetrics:
    """Counts nothing: the default of adapters built without metrics (unit tests, scripts)."""

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        pass

    def graphql_operation(self, name: str, kind: str, ok: bool, seconds: float) -> None:
        pass

    def job(self, actor: str, outcome: str, seconds: float) -> None:
        pass

    def job_group(self, actor: str, size: int) -> None:
        pass

    def cache_lookup(self, prefix: str, hit: bool) -> None:
        pass

    def vendor_call(self, vendor: str, operation: str, outcome: str, seconds: float) -> None:
        pass

    def workflow_run(self, status: str) -> None:
        pass

    def cache_counts(self) -> dict[str, tuple[int, int]]:
        return {}

    def response_lookup(self, document: str, hit: bool) -> None:
        pass

    def response_counts(self) -> dict[str, tuple[int, int]]:
        return {}

    async def lookup_totals(self) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
        return {}, {}


NO_METRICS: Metrics = NoMetrics()
