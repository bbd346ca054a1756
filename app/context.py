"""Who is asking, for log lines and stored logs: the correlation id and job id of this task.

The HTTP middleware sets the correlation id per request; the worker sets both per message
(from the outbox row that caused it). Context variables follow each asyncio task, so
concurrent requests and jobs never see each other's ids.
"""

from __future__ import annotations

from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("visapi_correlation_id", default=None)
job_id: ContextVar[str | None] = ContextVar("visapi_job_id", default=None)
