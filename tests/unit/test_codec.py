"""The read-model codec: what `dumps` writes, and `decode` rebuilding each type from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest

from app.codec import converter, decode, decoder, dumps, loads

ID = UUID("00000000-0000-4000-8000-000000000007")
AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Leaf:
    id: UUID
    amount: Decimal
    at: datetime | None
    day: date
    colour: Colour


@dataclass(frozen=True)
class Tree:
    leaves: list[Leaf]
    pair: tuple[int, ...]
    meta: dict[str, Any]
    note: str | None = None
    derived: int = field(default=0, init=False)


def test_decimals_are_written_as_text_to_keep_every_digit() -> None:
    assert loads(dumps({"a": Decimal("0.10")})) == {"a": "0.10"}


@pytest.mark.parametrize(("value", "json"), [((1, 2), [1, 2]), (frozenset({3}), [3]), ({4}, [4])])
def test_tuples_and_sets_are_written_as_lists(value: Any, json: Any) -> None:
    assert loads(dumps(value)) == json


def test_a_uuid_subclass_is_written_as_its_text() -> None:
    class DriverUUID(UUID):  # asyncpg returns its own subclass
        pass

    assert loads(dumps(DriverUUID(int=7))) == str(UUID(int=7))


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="Type is not JSON serializable: object"):
        dumps(object())


def test_a_nested_read_model_round_trips() -> None:
    tree = Tree(
        leaves=[Leaf(ID, Decimal("49.90"), AT, date(2026, 3, 2), Colour.RED)],
        pair=(1, 2),
        meta={"k": [1, "x"]},
    )
    assert decoder(Tree)(dumps(tree)) == tree


def test_optional_fields_decode_none_as_none() -> None:
    leaf = Leaf(ID, Decimal("1"), None, date(2026, 1, 1), Colour.RED)
    assert decode(Leaf, loads(dumps(leaf))).at is None


@pytest.mark.parametrize(
    ("tp", "json", "value"),
    [
        (Decimal, "1.50", Decimal("1.50")),
        (UUID, str(ID), ID),
        (datetime, AT.isoformat(), AT),
        (date, "2026-03-02", date(2026, 3, 2)),
        (Colour, "red", Colour.RED),
        (tuple[UUID, ...], [str(ID)], (ID,)),
        (list[Decimal], ["1", "2"], [Decimal(1), Decimal(2)]),
        (Decimal | None, "3", Decimal(3)),
        (int, 5, 5),
    ],
)
def test_decode_by_type(tp: Any, json: Any, value: Any) -> None:
    assert decode(tp, json) == value


@pytest.mark.parametrize("tp", [int, str, dict[str, Any], Any, list[int], int | str])
def test_json_native_types_need_no_conversion(tp: Any) -> None:
    assert converter(tp) is None


def test_a_bare_tuple_becomes_a_tuple() -> None:
    assert decode(tuple[int, ...], [1, 2]) == (1, 2)


def test_an_entry_missing_a_field_is_a_key_error_the_cache_treats_as_a_miss() -> None:
    json = loads(dumps(Leaf(ID, Decimal("1"), None, date(2026, 1, 1), Colour.RED)))
    del json["colour"]
    with pytest.raises(KeyError, match="colour"):
        decode(Leaf, json)


def test_fields_outside_init_are_not_read_back() -> None:
    json = {"leaves": [], "pair": [], "meta": {}, "note": None, "derived": 5}
    assert decode(Tree, json).derived == 0


def test_the_converter_of_a_type_is_built_once() -> None:
    assert converter(Leaf) is converter(Leaf)
