"""Order specifications: composable predicates (and/or/not) that the read side compiles to SQL.

The same tree is evaluated in memory by `is_satisfied_by`, so unit tests and fakes agree with
the SQL compiler in infrastructure on what a filter means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Attributes of Order a specification may name; the SQL compiler maps each to one column.
FIELDS = frozenset(
    {
        "branch",
        "order_status",
        "created_at",
        "amount",
        "whatsapp_alerts_enabled",
        "processed_at",
        "client_email",
        "client_phone",
        "product_doc_type",
        "product_country",
    }
)


class Spec:
    """Base of all specifications; combine with `&`, `|` and `~`."""

    def is_satisfied_by(self, candidate: Any) -> bool:
        raise NotImplementedError

    def __and__(self, other: Spec) -> Spec:
        return And((self, other))

    def __or__(self, other: Spec) -> Spec:
        return Or((self, other))

    def __invert__(self) -> Spec:
        return Not(self)


@dataclass(frozen=True)
class And(Spec):
    parts: tuple[Spec, ...]

    def is_satisfied_by(self, candidate: Any) -> bool:
        return all(p.is_satisfied_by(candidate) for p in self.parts)


@dataclass(frozen=True)
class Or(Spec):
    parts: tuple[Spec, ...]

    def is_satisfied_by(self, candidate: Any) -> bool:
        return any(p.is_satisfied_by(candidate) for p in self.parts)


@dataclass(frozen=True)
class Not(Spec):
    part: Spec

    def is_satisfied_by(self, candidate: Any) -> bool:
        return not self.part.is_satisfied_by(candidate)


@dataclass(frozen=True)
class Compare(Spec):
    """`field op value` with op one of eq, in, gte, lt; `eq None` means IS NULL."""

    field: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"unknown order field {self.field!r}")
        if self.op not in ("eq", "in", "gte", "lt"):
            raise ValueError(f"unknown operator {self.op!r}")

    def is_satisfied_by(self, candidate: Any) -> bool:
        actual = getattr(candidate, self.field)
        if self.op == "eq":
            return bool(actual == self.value) if self.value is not None else actual is None
        if self.op == "in":
            return actual in self.value
        if actual is None:
            return False
        return bool(actual >= self.value) if self.op == "gte" else bool(actual < self.value)


def all_of(parts: list[Spec]) -> Spec | None:
    """AND of the parts, or None (match everything) when there are none."""
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def unprocessed() -> Spec:
    return Compare("processed_at", "eq", None)


def processed() -> Spec:
    return Not(unprocessed())
