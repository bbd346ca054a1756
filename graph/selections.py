"""Whether a document selects a field below the one being resolved, fragments included: a list
resolver uses it to load the children a page asks for in one batch, before the page completes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types import Info


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments spread (each named fragment once)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)


def _selects(
    nodes: Iterable[FieldNode],
    path: tuple[str, ...],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> bool:
    if not path:
        return True
    name, rest = path[0], path[1:]
    for node in nodes:
        below = [f for f in _fields(node.selection_set, fragments, set()) if f.name.value == name]
        if below and _selects(below, rest, fragments):
            return True
    return False


def selects(info: Info, *path: str) -> bool:
    """Whether the field being resolved selects `path` (GraphQL names, e.g. "edges", "node",
    "events") under any alias or fragment. @skip/@include are not evaluated: a skipped field
    counts as selected, which costs a load, never an answer."""
    raw = info._raw_info
    return _selects(raw.field_nodes, path, raw.fragments)
