"""Domain errors: a broken invariant or an unusable input, each with a machine code."""


class DomainError(Exception):
    """An invariant of the model would be broken; `code` is the API's machine code."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidOrderBody(DomainError):
    """A body that cannot be stored meaningfully (no order, no id, amount not a number)."""
