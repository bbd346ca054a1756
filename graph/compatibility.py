"""The schema as a contract: what a change of the SDL would break for clients already written.

schema.graphql, as committed, is the contract frontends code against. graphql-core's
`find_breaking_changes` lists what would make a valid client document invalid or a client's
reading of an answer wrong (a field, argument, enum value or type removed, a type changed, an
argument made required); `find_dangerous_changes` what may surprise a client without breaking it
(an enum value or union member added, a default changed). `make test` fails on the first kind;
`make schema` refuses to write it unless told `ALLOW_BREAKING=1`. Both only report the second.
"""

from __future__ import annotations

from graphql import (
    BreakingChange,
    DangerousChange,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

POLICY = (
    "Clients already written against schema.graphql would break. Go through @deprecated first:"
    " keep the field, argument or enum value, mark it"
    ' `@deprecated(reason: "use ... instead")` (strawberry: `deprecation_reason=`), add its'
    " replacement beside it, and remove it only in a later release, once clients have moved,"
    " with `make schema ALLOW_BREAKING=1` in a commit that says so."
)


def _schema(sdl: str) -> GraphQLSchema:
    # Directives the SDL uses but does not define (none today) would make build_schema refuse;
    # a schema exported by strawberry defines every directive it uses.
    return build_schema(sdl, assume_valid_sdl=True)


def breaking_changes(old_sdl: str, new_sdl: str) -> list[BreakingChange]:
    """What replacing `old_sdl` by `new_sdl` breaks for clients of the old one."""
    return find_breaking_changes(_schema(old_sdl), _schema(new_sdl))


def dangerous_changes(old_sdl: str, new_sdl: str) -> list[DangerousChange]:
    """What may surprise clients of `old_sdl` without invalidating their documents."""
    return find_dangerous_changes(_schema(old_sdl), _schema(new_sdl))


def listed(changes: list[BreakingChange] | list[DangerousChange]) -> str:
    """One line per change: its kind and graphql-core's description of it."""
    return "\n".join(f"  - {change.type.name}: {change.description}" for change in changes)


def refusal(changes: list[BreakingChange]) -> str:
    """The message naming every breaking change and the way to make it without breaking."""
    count = f"{len(changes)} breaking change{'s' if len(changes) != 1 else ''}"
    return f"{count} to schema.graphql:\n{listed(changes)}\n{POLICY}"
