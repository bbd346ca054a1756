"""People: a user is created on their first valid token with role viewer; admins change roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.auth.permissions import Role
from domain.errors import DomainError
from domain.events import DomainEvent

MAX_EMAIL = 320  # users.email is String(320)
MAX_SUBJECT = 255


@dataclass(frozen=True, kw_only=True)
class UserCreated(DomainEvent):
    type = "user.created"
    aggregate_type = "user"

    role: str


@dataclass(frozen=True, kw_only=True)
class UserRoleChanged(DomainEvent):
    type = "user.role_changed"
    aggregate_type = "user"

    old_role: str
    new_role: str


@dataclass
class User:
    id: UUID
    email: str
    role: Role
    external_subject: str
    created_at: datetime
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def first_seen(cls, *, id: UUID, email: str, subject: str, now: datetime) -> User:
        """The user of a valid token seen for the first time: a viewer until an admin says else."""
        email = email.strip().lower()
        if not 3 <= len(email) <= MAX_EMAIL or "@" not in email:
            raise DomainError("the token's email claim is not an email address", field="email")
        if not 1 <= len(subject) <= MAX_SUBJECT:
            raise DomainError("the token's subject is empty or too long", field="sub")
        user = cls(id=id, email=email, role=Role.VIEWER, external_subject=subject, created_at=now)
        # The user is their own actor: nobody else caused the row.
        user.events.append(
            UserCreated(aggregate_id=id, occurred_at=now, actor=f"user:{id}", role=user.role.value)
        )
        return user

    def set_role(self, role: Role, *, now: datetime, actor: str | None) -> bool:
        """Change the role; False (and no event) when it is already that role."""
        if role is self.role:
            return False
        old, self.role = self.role, role
        self.events.append(
            UserRoleChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old_role=old.value,
                new_role=role.value,
            )
        )
        return True
