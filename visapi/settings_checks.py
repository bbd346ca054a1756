"""The checks a setting's value must pass beyond its type: a bad one stops the start, named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest.cors import ANY, parse_origins
from rest.proxies import parse_networks

if TYPE_CHECKING:
    from visapi.settings import Settings

MAX_RETENTION_DAYS = 36_500


class SettingsError(ValueError):
    """A setting is malformed; the message names the variable."""


ENVS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DOCUMENTS_MODES = ("any", "persisted", "trusted")


def check(s: Settings) -> None:
    if s.env not in ENVS:
        raise SettingsError(f"VISAPI_ENV={s.env!r} is not one of {', '.join(ENVS)}")
    if s.log_level.upper() not in LOG_LEVELS:
        raise SettingsError(
            f"VISAPI_LOG_LEVEL={s.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        )
    if s.documents is not None and s.documents not in DOCUMENTS_MODES:
        raise SettingsError(
            f"VISAPI_DOCUMENTS={s.documents!r} is not one of {', '.join(DOCUMENTS_MODES)}"
        )
    if not s.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        if s.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(
                "VISAPI_DATABASE_URL must name the async driver: postgresql+asyncpg://..."
            )
        raise SettingsError(
            "VISAPI_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if s.redis_url is not None and not s.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("VISAPI_REDIS_URL must start with redis://, rediss:// or unix://")
    for name in (
        "db_pool_size",
        "max_body_bytes",
        "max_query_bytes",
        "document_cache_bytes",
        "documents_max_per_caller",
        "documents_cache_size",
        "max_page_size",
        "worker_threads",
        "job_group_size",
        "log_retention_batch",
        "log_retention_interval_s",
        "retention_batch",
        "retention_interval_s",
        "response_cache_max_age_s",
        "subscriptions_per_connection",
        "subscriptions_per_caller",
        "subscription_buffer",
    ):
        if getattr(s, name) <= 0:
            raise SettingsError(f"VISAPI_{name.upper()} must be positive")
    for name in ("job_max_retries", "job_max_deferrals", "max_fragments"):
        if getattr(s, name) < 0:
            raise SettingsError(f"VISAPI_{name.upper()} must not be negative")
    for name in ("job_min_backoff_ms", "job_max_backoff_ms", "job_heartbeat_timeout_ms"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"VISAPI_{name.upper()} must be positive")
    if not 0 < s.job_maintenance_chance <= 1_000_000:
        # Zero would never requeue the messages of a dead worker.
        raise SettingsError("VISAPI_JOB_MAINTENANCE_CHANCE must be between 1 and 1000000")
    if s.job_min_backoff_ms > s.job_max_backoff_ms:
        raise SettingsError("VISAPI_JOB_MIN_BACKOFF_MS must not exceed VISAPI_JOB_MAX_BACKOFF_MS")
    if not s.redis_namespace.replace("-", "").replace("_", "").isalnum():
        raise SettingsError("VISAPI_REDIS_NAMESPACE must be letters, digits, - or _")
    if s.worker_metrics_port is not None and not 1 <= s.worker_metrics_port <= 65535:
        raise SettingsError("VISAPI_WORKER_METRICS_PORT must be a port number (1-65535)")
    if not s.response_cache_max_age_s < float("inf"):  # NaN and infinity too
        raise SettingsError("VISAPI_RESPONSE_CACHE_MAX_AGE_S must be a finite number of seconds")
    if s.request_timeout_s <= 0:
        raise SettingsError("VISAPI_REQUEST_TIMEOUT_S must be positive")
    _check_retention(s)
    _check_vendors(s)
    if s.notification_stale_claim_s * 1000 <= s.job_time_limit_ms:
        # A live attempt still sending would be taken for a dead one: a second message.
        raise SettingsError(
            "VISAPI_NOTIFICATION_STALE_CLAIM_S must exceed the job time limit"
            " (VISAPI_JOB_TIME_LIMIT_MS)"
        )
    _check_idempotency(s)
    for name in (
        "workflow_cache_ttl_s",
        "workflow_cron_interval_s",
        "workflow_run_time_limit_ms",
        "trigger_max_body_bytes",
        "email_port",
    ):
        if getattr(s, name) <= 0:
            raise SettingsError(f"VISAPI_{name.upper()} must be positive")
    if s.workflow_cron_lookback_s < s.workflow_cron_interval_s:
        # Else a fire time could fall between two evaluations and never run.
        raise SettingsError("VISAPI_WORKFLOW_CRON_LOOKBACK_S must be at least the cron interval")
    _check_access(s)
    _check_browsers(s)
    if s.cbb_rate_per_s is not None and not 1 <= s.cbb_rate_per_s < float("inf"):
        raise SettingsError("VISAPI_CBB_RATE_PER_S must be at least 1 (calls a second)")
    for name in ("subscription_ping_s", "subscription_pong_timeout_s", "subscription_recheck_s"):
        # `not 0 < x < 3600` refuses NaN and infinity too.
        if not 0 < getattr(s, name) <= 3600:
            raise SettingsError(f"VISAPI_{name.upper()} must be between 0 and 3600 seconds")


def _check_retention(s: Settings) -> None:
    for name in ("log_retention_days", *(f"retention_{rule}_days" for rule in s.retention_days)):
        # `not > 0` also refuses NaN; past a century the cutoff would fall before year 1.
        if not 0 < getattr(s, name) <= MAX_RETENTION_DAYS:
            raise SettingsError(
                f"VISAPI_{name.upper()} must be a number of days above 0, at most"
                f" {MAX_RETENTION_DAYS}"
            )


def _check_vendors(s: Settings) -> None:
    if bool(s.cbb_base_url) != bool(s.cbb_token):
        # One without the other would silently fall back to the sandbox: nothing reaches the CRM.
        raise SettingsError("set both VISAPI_CBB_BASE_URL and VISAPI_CBB_TOKEN, or neither")
    if s.cbb_base_url and not s.cbb_base_url.startswith(("https://", "http://")):
        raise SettingsError("VISAPI_CBB_BASE_URL must start with https:// or http://")
    if s.cbb_timeout_s <= 0:
        raise SettingsError("VISAPI_CBB_TIMEOUT_S must be positive")
    if s.cbb_retries < 0 or s.cbb_backoff_s < 0:
        raise SettingsError("VISAPI_CBB_RETRIES and VISAPI_CBB_BACKOFF_S must not be negative")


def _check_idempotency(s: Settings) -> None:
    for name in ("idempotency_ttl_s", "idempotency_wait_s", "idempotency_reclaim_s"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"VISAPI_{name.upper()} must be positive")
    if s.idempotency_wait_s >= s.request_timeout_s:
        # A repeat must hear 409 "in progress" before its own request times out.
        raise SettingsError(
            "VISAPI_IDEMPOTENCY_WAIT_S must be shorter than VISAPI_REQUEST_TIMEOUT_S"
        )
    if s.idempotency_reclaim_s <= s.request_timeout_s:
        raise SettingsError(
            "VISAPI_IDEMPOTENCY_RECLAIM_S must be longer than VISAPI_REQUEST_TIMEOUT_S"
        )


def _check_access(s: Settings) -> None:
    for name in (
        "api_key_expiry_days",
        "api_key_cache_ttl_s",
        "user_cache_ttl_s",
        "key_usage_flush_interval_s",
        "rate_limit_per_key",
        "rate_limit_per_ip",
        "rate_limit_failed_auth",
        "rate_limit_window_s",
    ):
        if getattr(s, name) <= 0:
            raise SettingsError(f"VISAPI_{name.upper()} must be positive")
    try:
        parse_networks(s.trusted_proxies)
    except ValueError as exc:
        raise SettingsError(f"VISAPI_TRUSTED_PROXIES: {exc}") from None
    if s.api_key_hash_cost not in ("default", "low"):
        raise SettingsError("VISAPI_API_KEY_HASH_COST must be default or low")
    if s.secret_key is not None and len(s.secret_key) < 32:
        raise SettingsError("VISAPI_SECRET_KEY must have at least 32 characters")
    if s.jwt_secret and s.jwt_public_key:
        raise SettingsError(
            "set VISAPI_JWT_SECRET (HS256) or VISAPI_JWT_PUBLIC_KEY (RS256), not both"
        )
    if s.jwt_secret is not None and len(s.jwt_secret) < 32:
        # RFC 7518 3.2: an HS256 key at least as long as the hash output.
        raise SettingsError("VISAPI_JWT_SECRET must have at least 32 characters")
    if (s.jwt_secret or s.jwt_public_key) and not (s.jwt_issuer and s.jwt_audience):
        # Without both checks, any token of the identity provider (for another app) would do.
        raise SettingsError("JWTs need VISAPI_JWT_ISSUER and VISAPI_JWT_AUDIENCE")


def _check_browsers(s: Settings) -> None:
    if s.max_query_cost <= 0:
        raise SettingsError("VISAPI_MAX_QUERY_COST must be positive")
    try:
        origins = parse_origins(s.cors_origins)
    except ValueError as exc:
        raise SettingsError(f"VISAPI_CORS_ORIGINS: {exc}") from None
    if ANY in origins and s.production:
        # Without cookies `*` leaks little (anonymous callers read health, version and
        # `__typename`), but it lets any page a user visits drive the API with a key it got
        # hold of, and in production it is nearly always a development value carried over.
        raise SettingsError(
            "VISAPI_CORS_ORIGINS=* is refused with VISAPI_ENV=production: list your frontends'"
            " origins (https://app.example.com, ...)"
        )
    if not 0 <= s.cors_max_age_s <= 86_400:
        # Browsers cap it anyway (Chromium at 2 hours, Firefox at 24).
        raise SettingsError("VISAPI_CORS_MAX_AGE_S must be between 0 and 86400 seconds")
