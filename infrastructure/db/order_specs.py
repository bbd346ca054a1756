"""Compile an order Spec tree into one SQLAlchemy WHERE clause that agrees with `is_satisfied_by`.

SQL compares with three-valued logic (a NULL column makes `col = x` unknown, and NOT unknown is
still unknown), while the specs evaluate in Python with two values. The compiler pushes every
NOT down to the leaves (De Morgan), so positive leaves only appear under AND/OR, where unknown
acts as false exactly like Python; negated leaves on nullable columns add `OR col IS NULL`
explicitly. Plain `=`, `IN`, `>=` keep the indexes usable, unlike `IS DISTINCT FROM`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnElement, and_, false, or_, true

from domain.orders.specs import FIELDS, And, Compare, Not, Or, Spec
from infrastructure.db.tables import orders

# The whitelist: a spec field names exactly one column, never anything taken from input.
COLUMNS: dict[str, Column[Any]] = {name: orders.c[name] for name in sorted(FIELDS)}


def compile_spec(spec: Spec) -> ColumnElement[bool]:
    """The WHERE clause selecting exactly the rows whose values satisfy `spec`."""
    return _compile(spec, negate=False)


def _compile(spec: Spec, *, negate: bool) -> ColumnElement[bool]:
    if isinstance(spec, Not):
        return _compile(spec.part, negate=not negate)
    if isinstance(spec, And | Or):
        parts = [_compile(p, negate=negate) for p in spec.parts]
        # NOT over AND is OR over the negations, and the other way round.
        conjunction = isinstance(spec, And) != negate
        if not parts:
            # An empty AND is true and an empty OR false (all()/any() of nothing).
            return true() if conjunction else false()
        return and_(*parts) if conjunction else or_(*parts)
    if isinstance(spec, Compare):
        return _leaf(spec, negate=negate)
    raise TypeError(f"cannot compile {type(spec).__name__} to SQL")


def _leaf(spec: Compare, *, negate: bool) -> ColumnElement[bool]:
    col = COLUMNS[spec.field]
    # Python says "not (None == x)" is true: a negated leaf must also select NULL rows.
    or_null = col.is_(None) if col.nullable else None
    if spec.op == "eq":
        if spec.value is None:
            return col.is_not(None) if negate else col.is_(None)
        return _or_null(col != spec.value, or_null) if negate else col == spec.value
    if spec.op == "in":
        values = list(spec.value)
        has_none = None in values
        present = [v for v in values if v is not None]
        if negate:
            # NOT IN over the non-null values; NULL rows qualify unless None was listed.
            return _or_null(col.not_in(present), None if has_none else or_null)
        return or_(col.in_(present), col.is_(None)) if has_none else col.in_(present)
    if spec.value is None:
        raise ValueError(f"{spec.field} {spec.op} needs a value, not None")
    if spec.op == "gte":
        return _or_null(col < spec.value, or_null) if negate else col >= spec.value
    return _or_null(col >= spec.value, or_null) if negate else col < spec.value


def _or_null(
    clause: ColumnElement[bool], or_null: ColumnElement[bool] | None
) -> ColumnElement[bool]:
    return or_(clause, or_null) if or_null is not None else clause
