"""Settings: read once from the environment into a frozen object; a bad value stops the start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from visapi.settings_checks import SettingsError, check

__all__ = ["Settings", "SettingsError", "load_settings", "unknown_names"]


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./visapi.db"
    read_database_url: str | None = None
    redis_url: str | None = None
    # Prefix of every Redis key (cache, broker queues): several deployments may share one Redis.
    redis_namespace: str = "visapi"
    db_pool_size: int = 10
    # The profile: "production" keeps introspection to admins and GraphiQL off unless asked for,
    # whatever services are configured.
    env: str = "development"
    log_level: str = "INFO"
    introspection: bool = True  # false: off for everyone
    graphiql: bool | None = None  # unset: on in development, off in production
    # HTTP limits
    request_timeout_s: float = 30.0
    max_body_bytes: int = 1_048_576
    # The GraphQL document itself (`query`); variables may still fill the body (an order).
    max_query_bytes: int = 32_768
    # Parsed, validated documents a process remembers (an estimate of their memory).
    document_cache_bytes: int = 8_388_608
    # Which documents run (any | persisted | trusted; unset: trusted in production, else any),
    # how many one caller may register by APQ, and how many registered documents a process
    # keeps parsed (graph.persisted).
    documents: str | None = None
    documents_max_per_caller: int = 500
    documents_cache_size: int = 2_048
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    # Definitions, spreads and inline fragments: validation compares fragments pairwise.
    max_fragments: int = 100
    max_page_size: int = 100
    # A document's cost: list sizes (`first`, or the default page) times the fields under them
    # (graph.cost); refused above this before any resolver runs.
    max_query_cost: int = 50_000
    # Subscriptions (graph.live): how many one connection and one caller may hold, how many
    # events may wait for a subscriber before it is dropped, the server's ping interval and
    # how long a pong may take, and how often open connections re-check their credentials
    # (a revoked key's subscriptions close within about this long).
    subscriptions_per_connection: int = 20
    subscriptions_per_caller: int = 100
    subscription_buffer: int = 256
    subscription_ping_s: float = 15.0
    subscription_pong_timeout_s: float = 10.0
    subscription_recheck_s: float = 2.0
    # Cache TTLs (seconds)
    cache_order_ttl_s: float = 300.0
    cache_unprocessed_ttl_s: float = 30.0
    cache_stats_ttl_s: float = 60.0
    cache_log_stats_ttl_s: float = 30.0
    # The whole-response cache of read documents (graph.response_cache); its entries live for
    # the least `@cacheControl(maxAge)` of the fields selected, and never longer than this.
    response_cache: bool = True
    response_cache_max_age_s: float = 300.0
    # Jobs: Dramatiq timings (milliseconds) and the outbox sweeper
    job_max_retries: int = 5
    job_min_backoff_ms: int = 1_000
    job_max_backoff_ms: int = 300_000
    job_time_limit_ms: int = 60_000
    # RetryLater ("another attempt holds the claim") is not counted against job_max_retries;
    # it has this cap of its own (see infrastructure/queue/retries.py).
    job_max_deferrals: int = 100
    # Redis broker: a worker silent this long is presumed dead and its messages requeued.
    job_heartbeat_timeout_ms: int = 60_000
    # ...by the broker's maintenance, which every worker and scheduler runs on a timer (a third
    # of the heartbeat timeout: requeued within twice the timeout) and which also runs on this
    # many of every million broker commands (Dramatiq's default, 1000).
    job_maintenance_chance: int = 1_000
    job_dead_message_ttl_ms: int = 604_800_000
    # Actors are async: a thread is a slot for one message in flight, mostly waiting on the
    # event loop. 16 rather than 4 lets grouped jobs form larger groups (make bench-pipeline:
    # 8 -> 16 threads gave 13,608 -> 15,008 jobs/min grouped, 104 -> 106 MB per process).
    worker_threads: int = 16
    # Jobs of one kind a worker process runs at the same time are handled as one group of at
    # most this many (one transaction for the group; app/groups.py); 1 handles each alone.
    job_group_size: int = 20
    # `visapi worker` serves /metrics on 127.0.0.1:this port (unset: no endpoint).
    worker_metrics_port: int | None = None
    outbox_sweep_interval_s: float = 10.0
    outbox_sweep_age_s: float = 5.0
    scheduler_tick_s: float = 1.0
    # Vendors: the sandbox adapters answer when the CRM is not configured
    cbb_base_url: str | None = None
    cbb_token: str | None = None
    cbb_timeout_s: float = 10.0
    # The CRM's rate limit, shared by every process through Redis (unset: not paced): calls
    # past it wait for the next second (infrastructure/vendors/pacing.py).
    cbb_rate_per_s: float | None = None
    # In-process retries of one vendor call (5xx and timeouts only), before the job's own retry.
    cbb_retries: int = 2
    # First pause between those retries, doubled each time.
    cbb_backoff_s: float = 0.5
    # A notification claimed longer ago than this is presumed abandoned by a dead worker.
    notification_stale_claim_s: float = 120.0
    # Business logs older than this many days are deleted, `log_retention_batch` rows per
    # statement, every `log_retention_interval_s`.
    log_retention_days: float = 30.0
    log_retention_batch: int = 1000
    log_retention_interval_s: float = 3600.0
    # Retention of the other tables that grow with traffic (days), by the same mechanism:
    # `retention_batch` rows per DELETE, every `retention_interval_s`. Raw order bodies (PII)
    # by receipt, outbox rows by publication (an unpublished row is never deleted), delivery
    # reports by receipt, dead letters by replay; a dead letter never replayed is a job that
    # never ran, kept longer so an operator can still find and replay it.
    retention_webhook_payloads_days: float = 30.0
    retention_outbox_days: float = 7.0
    retention_delivery_events_days: float = 90.0
    retention_failed_jobs_days: float = 30.0
    retention_unreplayed_failed_jobs_days: float = 90.0
    retention_sandbox_messages_days: float = 30.0
    retention_batch: int = 1000
    retention_interval_s: float = 3600.0
    # A repeated X-Idempotency-Key gets the first answer for this long.
    idempotency_ttl_s: float = 86_400.0
    # A repeat arriving while the first request runs waits this long for its answer, then 409.
    idempotency_wait_s: float = 10.0
    # A key whose first request never answered (its process died) is free again after this long;
    # it must exceed the request timeout, which cancels (and so releases) any live request.
    idempotency_reclaim_s: float = 60.0
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    slack_webhook_url: str | None = None  # unset: slack.send steps go to sandbox_messages
    slack_timeout_s: float = 10.0
    # SMTP for email.send steps (unset host: sandbox_messages); TLS means STARTTLS.
    email_host: str | None = None
    email_port: int = 25
    email_from: str = "visapi@localhost"
    email_user: str | None = None
    email_password: str | None = None
    email_tls: bool = False
    email_timeout_s: float = 10.0
    # Workflows: where pdf.generate stores files, cache of enabled workflows, cron evaluation
    # (every interval; fire times older than the lookback are skipped), step retry backoff.
    pdf_dir: str = "./pdfs"
    workflow_cache_ttl_s: float = 600.0
    workflow_cron_interval_s: float = 15.0
    workflow_cron_lookback_s: float = 120.0
    workflow_step_backoff_s: float = 1.0
    workflow_run_time_limit_ms: int = 3_600_000
    trigger_max_body_bytes: int = 524_288
    # Access control. secret_key keys the HMAC under which key checks are cached: give every
    # process the same one so they share the cache (unset: a random key per process).
    secret_key: str | None = None
    api_key_hash_cost: str = "default"  # argon2 cost: "default" (the library's) or "low" (tests)
    api_key_expiry_days: int = 90
    api_key_cache_ttl_s: float = 900.0
    user_cache_ttl_s: float = 60.0
    key_usage_flush_interval_s: float = 300.0
    # Requests per window: per key (or user), per client IP without credentials, and failed
    # authentications per IP and key prefix (app.auth.lockout).
    rate_limit_per_key: int = 1200
    rate_limit_per_ip: int = 300
    rate_limit_failed_auth: int = 30
    rate_limit_window_s: float = 60.0
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or CIDRs);
    # none by default: the socket peer is the client (rest.proxies says why).
    trusted_proxies: str = ""
    # Browser apps on other origins (comma-separated, `https://app.example.com`; `*` for any,
    # refused in production); none: no CORS headers at all. Preflights cached this long.
    cors_origins: str = ""
    cors_max_age_s: int = 600

    @property
    def embedded(self) -> bool:
        """No Redis: memory cache, StubBroker worker thread and periodic runner inside `serve`."""
        return self.redis_url is None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def documents_mode(self) -> str:
        """VISAPI_DOCUMENTS, else `trusted` in production and `any` elsewhere."""
        if self.documents is not None:
            return self.documents
        return "trusted" if self.production else "any"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def retention_days(self) -> dict[str, float]:
        """Days kept per retention rule (infrastructure/db/retention.py) but the logs'."""
        return {
            "webhook_payloads": self.retention_webhook_payloads_days,
            "outbox": self.retention_outbox_days,
            "delivery_events": self.retention_delivery_events_days,
            "failed_jobs": self.retention_failed_jobs_days,
            "unreplayed_failed_jobs": self.retention_unreplayed_failed_jobs_days,
            "sandbox_messages": self.retention_sandbox_messages_days,
        }


def _parse(name: str, raw: str, kind: Any) -> Any:
    text = raw.strip()
    if kind in ("bool", "bool | None"):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name}={raw!r} is not a boolean (use true or false)")
    if kind == "int | None" and not text:
        return None
    if kind in ("int", "int | None"):
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
    return text or None if kind == "str | None" else text


# `VISAPI_*` names read outside Settings: the build's commit (/api/v1/version) and, by prefix,
# the test suite's services (tests/services.py). Any other unknown name is likely a typo.
OUTSIDE_SETTINGS = frozenset({"VISAPI_GIT_SHA"})
OUTSIDE_PREFIXES = ("VISAPI_TEST_",)


def unknown_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """`VISAPI_*` variables that no setting reads: typos, or settings of another version."""
    env = os.environ if environ is None else environ
    known = {f"VISAPI_{f.name.upper()}" for f in fields(Settings)} | OUTSIDE_SETTINGS
    return sorted(
        name
        for name in env
        if name.startswith("VISAPI_")
        and name not in known
        and not name.startswith(OUTSIDE_PREFIXES)
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `VISAPI_*` variables (the field name upper-cased)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f"VISAPI_{f.name.upper()}"
        if name in env:
            values[f.name] = _parse(name, env[name], f.type)
    settings = Settings(**values)
    check(settings)
    return settings
