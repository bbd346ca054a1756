"""The export of a customer's data (DOMAIN.md: the agency holds passports; a person may ask for
everything stored about them)."""

from __future__ import annotations

from typing import Any

from app.errors import InvalidInput
from app.privacy.ports import Person, PersonalData
from domain.orders.normalise import normalise_phone
from domain.orders.specs import Compare, Or, Spec


def person_of(email: str | None, phone: str | None) -> Person:
    """The person named by exactly one of an email or a phone; InvalidInput naming the field."""
    if (email is None) == (phone is None):
        raise InvalidInput("give exactly one of email and phone", field="email")
    if email is not None:
        text = email.strip()
        if not 3 <= len(text) <= 320 or "@" not in text:
            raise InvalidInput("email is not an email address", field="email")
        return Person(email=text)
    assert phone is not None
    digits, _ = normalise_phone(phone)
    if not digits:
        raise InvalidInput(f"phone {phone[:32]!r} holds no phone number", field="phone")
    return Person(phone=digits)


def orders_of(person: Person) -> Spec:
    """The orders that carry the person's email (as given, or in lower case) or phone."""
    if person.email is not None:
        variants = tuple(dict.fromkeys([person.email, person.email.lower()]))
        return Or(tuple(Compare("client_email", "eq", v) for v in variants))
    return Compare("client_phone", "eq", person.phone)


class PrivacyQueries:
    def __init__(self, personal: PersonalData) -> None:
        self.personal = personal

    async def export(self, person: Person) -> dict[str, Any]:
        found = await self.personal.export(person)
        subject = {"email": person.email} if person.email else {"phone": person.phone}
        return {"subject": subject, **found}
