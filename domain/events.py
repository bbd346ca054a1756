"""Domain events: facts recorded on an aggregate, stored in `events` with the change."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of all events; subclasses name their `type` and `aggregate_type`."""

    type: ClassVar[str]
    aggregate_type: ClassVar[str]

    aggregate_id: UUID
    occurred_at: datetime
    actor: str | None = field(default=None)

    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready values (ids and times as strings)."""
        data = asdict(self)
        for key in ("aggregate_id", "occurred_at", "actor"):
            data.pop(key)
        return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
