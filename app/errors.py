"""Application errors carrying the API's machine codes (DOMAIN.md "GraphQL surface")."""


class AppError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(AppError):
    code = "NOT_FOUND"


class Conflict(AppError):
    code = "CONFLICT"


class Unauthenticated(AppError):
    """Missing, malformed, unknown, expired or revoked credentials: HTTP 401."""

    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class InvalidInput(AppError):
    code = "INVALID_INPUT"


class Unavailable(AppError):
    """A dependency we must not bypass (e.g. idempotency store) is down: answer 503, retry later."""

    code = "UNAVAILABLE"
