"""The crisis team: people, their roles and contacts, and each role's escalation order.

Only activities read contacts (at send time). Workflows get an :class:`OrgChart`: the same people
and escalation orders by id, with no way to reach anyone, so no contact can enter history.
"""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

_IDENT = r"^[a-z][a-z0-9_.-]*$"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(Strict):
    name: str = Field(min_length=1, description="The brand as the public knows it; used in statements.")
    website: str | None = None
    status_page: str | None = None


class Person(Strict):
    id: str = Field(pattern=_IDENT)
    name: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    phone: str = Field(description="E.164, for example +48601234567")
    email: str
    timezone: str = "UTC"

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.match(value):
            raise ValueError(f"'{value}' is not an E.164 phone number (like +48601234567)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone name (like Europe/Warsaw)") from None
        return value


class Role(Strict):
    description: str = ""
    escalation: list[str] = Field(
        min_length=1, description="Person ids, paged in this order until one acknowledges."
    )


class Roster(Strict):
    organization: Organization
    people: list[Person] = Field(min_length=1)
    roles: dict[str, Role] = Field(min_length=1)

    def problems(self) -> list[tuple[str, str]]:
        """Cross-references a schema cannot see, as ``(path, reason)`` pairs."""
        errors: list[tuple[str, str]] = []
        ids = [person.id for person in self.people]
        seen: set[str] = set()
        for index, person_id in enumerate(ids):
            if person_id in seen:
                errors.append((f"people.{index}.id", f"'{person_id}' is listed twice"))
            seen.add(person_id)
        for index, person in enumerate(self.people):
            for role in person.roles:
                if role not in self.roles:
                    errors.append((f"people.{index}.roles", f"unknown role '{role}'"))
        by_id = {person.id: person for person in self.people}
        for name, role in self.roles.items():
            for position, person_id in enumerate(role.escalation):
                person = by_id.get(person_id)
                if person is None:
                    errors.append((f"roles.{name}.escalation.{position}", f"unknown person '{person_id}'"))
                elif name not in person.roles:
                    errors.append(
                        (f"roles.{name}.escalation.{position}", f"'{person_id}' does not have the role '{name}'")
                    )
        return errors

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def org_chart(self) -> "OrgChart":
        return OrgChart(
            organization=self.organization.name,
            people=[p.id for p in self.people],
            escalation={name: list(role.escalation) for name, role in self.roles.items()},
        )


class OrgChart(BaseModel):
    """Who can act and in which order they are paged, by id only (safe for workflow history)."""

    model_config = ConfigDict(frozen=True)

    organization: str
    people: list[str]
    escalation: dict[str, list[str]]

    def members(self, role: str) -> list[str]:
        return list(self.escalation.get(role, []))
