"""The one table of permissions and roles (DOMAIN.md "Authentication and authorisation")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from domain.errors import DomainError


class Permission(StrEnum):
    """One vocabulary for key scopes and roles; `admin` implies every other permission."""

    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    WEBHOOK_VIZI = "webhook:vizi"
    LOGS_READ = "logs:read"
    LOGS_WRITE = "logs:write"
    WORKFLOWS_READ = "workflows:read"
    WORKFLOWS_WRITE = "workflows:write"
    WORKFLOWS_RUN = "workflows:run"
    JOBS_READ = "jobs:read"
    JOBS_WRITE = "jobs:write"
    KEYS_READ = "keys:read"
    KEYS_WRITE = "keys:write"
    USERS_ADMIN = "users:admin"
    CACHE_ADMIN = "cache:admin"
    ADMIN = "admin"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


_P = Permission

# THE table. Every check in the system (GraphQL fields, REST routes, key scopes) reads it.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.VIEWER: frozenset({_P.ORDERS_READ, _P.LOGS_READ, _P.WORKFLOWS_READ, _P.JOBS_READ}),
        Role.OPERATOR: frozenset(
            {
                _P.ORDERS_READ,
                _P.ORDERS_WRITE,
                _P.LOGS_READ,
                _P.WORKFLOWS_READ,
                _P.WORKFLOWS_WRITE,
                _P.WORKFLOWS_RUN,
                _P.JOBS_READ,
                _P.JOBS_WRITE,
            }
        ),
        Role.ADMIN: frozenset({_P.ADMIN}),
    }
)


def grants(held: Iterable[Permission], needed: Permission) -> bool:
    """True when `held` includes `needed`, or `admin`, which stands for everything."""
    held = frozenset(held)
    return needed in held or Permission.ADMIN in held


def lacking(held: Iterable[Permission], needed: Iterable[Permission]) -> list[str]:
    """The permissions of `needed` that `held` does not grant, sorted by name: what a caller
    lacks to grant, revoke or change something holding `needed` (empty: nothing)."""
    held = frozenset(held)
    return sorted(p.value for p in frozenset(needed) if not grants(held, p))


def expand(held: Iterable[Permission]) -> frozenset[Permission]:
    """Every permission `held` grants, `admin` spelled out (for display, e.g. `me`)."""
    return frozenset(p for p in Permission if grants(held, p))


def parse_scopes(raw: Iterable[str], field: str = "scopes") -> frozenset[Permission]:
    """Key scopes from their strings: at least one, each a permission of the table."""
    scopes: set[Permission] = set()
    for text in raw:
        try:
            scopes.add(Permission(text.strip()))
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise DomainError(
                f"unknown scope {text[:64]!r}; scopes are: {known}", field=field
            ) from None
    if not scopes:
        raise DomainError("a key needs at least one scope", field=field)
    return frozenset(scopes)


class PrincipalKind(StrEnum):
    API_KEY = "api_key"
    USER = "user"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (its scopes) or a user (their role's permissions)."""

    kind: PrincipalKind
    id: UUID
    name: str  # the key's name or the user's email
    permissions: frozenset[Permission]
    role: Role | None = None
    key_prefix: str | None = None
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        """How the audit trail names this caller: never a secret, never an email (PII)."""
        if self.kind is PrincipalKind.API_KEY:
            return f"key:{self.key_prefix}"
        return f"user:{self.id}"

    def may(self, needed: Permission) -> bool:
        return grants(self.permissions, needed)


def parse_role(raw: str, field: str = "role") -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise DomainError(
            f"unknown role {raw[:32]!r}; roles are viewer, operator, admin", field=field
        ) from None
