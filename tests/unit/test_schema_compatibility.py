"""The breaking-change check (graph.compatibility) on small SDL pairs, and `visapi export-schema
--write` (what `make schema` runs) refusing to overwrite the contract with a breaking change."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from graphql import BreakingChangeType, DangerousChangeType

from graph.compatibility import breaking_changes, dangerous_changes, refusal
from graph.schema import schema
from visapi.cli import main

OLD = """
type Query {
  order(id: ID, orderId: String): Order
  orders(first: Int): [Order!]
}

type Order {
  id: ID!
  amount: String!
  clientName: String
  legacyTotal: Int @deprecated(reason: "Use amount.")
}

enum Status {
  ACTIVE
  CANCELED
}
"""


def _changed(old: str, new: str) -> list[tuple[BreakingChangeType, str]]:
    return [(c.type, c.description) for c in breaking_changes(old, new)]


def test_a_removed_field_breaks() -> None:
    new = OLD.replace("  clientName: String\n", "")
    assert _changed(OLD, new) == [
        (BreakingChangeType.FIELD_REMOVED, "Field Order.clientName was removed.")
    ]


def test_a_removed_deprecated_field_still_breaks() -> None:
    # @deprecated announces the removal; the removal itself is the deliberate break.
    new = OLD.replace('  legacyTotal: Int @deprecated(reason: "Use amount.")\n', "")
    assert [t for t, _ in _changed(OLD, new)] == [BreakingChangeType.FIELD_REMOVED]


def test_a_changed_field_type_breaks() -> None:
    new = OLD.replace("amount: String!", "amount: Int!")
    assert _changed(OLD, new) == [
        (
            BreakingChangeType.FIELD_CHANGED_KIND,
            "Field Order.amount changed type from String! to Int!.",
        )
    ]


def test_a_nullable_output_made_non_null_is_safe_and_the_reverse_breaks() -> None:
    tightened = OLD.replace("clientName: String\n", "clientName: String!\n")
    assert _changed(OLD, tightened) == []
    loosened = OLD.replace("amount: String!", "amount: String")
    assert [t for t, _ in _changed(OLD, loosened)] == [BreakingChangeType.FIELD_CHANGED_KIND]


def test_a_nullable_argument_made_non_null_breaks() -> None:
    new = OLD.replace("orders(first: Int)", "orders(first: Int!)")
    assert _changed(OLD, new) == [
        (
            BreakingChangeType.ARG_CHANGED_KIND,
            "Argument Query.orders(first:) has changed type from Int to Int!.",
        )
    ]


def test_a_removed_enum_value_and_a_new_required_argument_break() -> None:
    new = OLD.replace("  CANCELED\n", "").replace("orderId: String)", "orderId: String, x: Int!)")
    assert sorted(t.name for t, _ in _changed(OLD, new)) == [
        "REQUIRED_ARG_ADDED",
        "VALUE_REMOVED_FROM_ENUM",
    ]


def test_additions_are_not_breaking_and_the_surprising_ones_are_reported() -> None:
    new = (
        OLD.replace("  CANCELED\n", "  CANCELED\n  PAUSED\n")
        .replace("orders(first: Int)", "orders(first: Int, after: String)")
        .replace("  id: ID!\n", "  id: ID!\n  currency: String!\n")
        .replace('"Use amount."', '"Use amount, a string."')
    )
    assert _changed(OLD, new) == []
    assert {c.type for c in dangerous_changes(OLD, new)} == {
        DangerousChangeType.VALUE_ADDED_TO_ENUM,
        DangerousChangeType.OPTIONAL_ARG_ADDED,
    }


def test_the_refusal_names_every_change_and_the_deprecation_path() -> None:
    new = OLD.replace("  clientName: String\n", "").replace("amount: String!", "amount: Int!")
    message = refusal(breaking_changes(OLD, new))
    assert message.startswith("2 breaking changes to schema.graphql:\n")
    assert "  - FIELD_REMOVED: Field Order.clientName was removed.\n" in message
    assert (
        "  - FIELD_CHANGED_KIND: Field Order.amount changed type from String! to Int!.\n" in message
    )
    assert "@deprecated" in message
    assert "ALLOW_BREAKING=1" in message


# `make schema` is `visapi export-schema --write schema.graphql [--allow-breaking]`.
EXPORTED = schema.as_str() + "\n"
# What the committed file would be had a client-visible field been removed from the code since.
WITH_EXTRA_FIELD = EXPORTED.replace(
    "type OrderFlag {\n", "type OrderFlag {\n  retired: String\n", 1
)


def _export(target: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export-schema", "--write", str(target), *flags])
    return result.exit_code, result.output


def test_make_schema_refuses_a_breaking_change_and_leaves_the_file(tmp_path: Path) -> None:
    assert WITH_EXTRA_FIELD != EXPORTED
    target = tmp_path / "schema.graphql"
    target.write_text(WITH_EXTRA_FIELD)
    code, output = _export(target)
    assert code == 1
    assert "FIELD_REMOVED: Field OrderFlag.retired was removed." in output
    assert "@deprecated" in output
    assert "ALLOW_BREAKING=1" in output
    assert target.read_text() == WITH_EXTRA_FIELD


def test_make_schema_writes_a_breaking_change_when_allowed(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    target.write_text(WITH_EXTRA_FIELD)
    code, output = _export(target, "--allow-breaking")
    assert code == 0, output
    assert "OrderFlag.retired was removed." in output
    assert target.read_text() == EXPORTED


@pytest.mark.parametrize("before", [None, "", EXPORTED])
def test_make_schema_writes_a_new_or_unchanged_file(tmp_path: Path, before: str | None) -> None:
    target = tmp_path / "schema.graphql"
    if before is not None:
        target.write_text(before)
    code, output = _export(target)
    assert (code, output) == (0, "")
    assert target.read_text() == EXPORTED
    assert [p.name for p in tmp_path.iterdir()] == ["schema.graphql"]  # no temporary left


def test_make_schema_overwrites_a_file_that_is_no_schema_only_when_allowed(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    target.write_text("<<<<<<< HEAD\ntype Query {")
    code, output = _export(target)
    assert code == 1
    assert "is not a schema" in output
    assert "ALLOW_BREAKING=1" in output
    assert target.read_text() == "<<<<<<< HEAD\ntype Query {"
    assert _export(target, "--allow-breaking")[0] == 0
    assert target.read_text() == EXPORTED
