"""The crisis team: people, their roles and contacts, and each role's escalation order.

Only activities read contacts (at send time). Workflows get an :class:`OrgChart`: the same people
and escalation orders by id, with no way to reach anyone, so no contact can enter history.
"""

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.durations import Duration
from domain.safe_text import EMAIL_PATTERN, OneLine

_IDENT = r"^[a-z][a-z0-9_.-]*$"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(EMAIL_PATTERN)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not a time zone name (like Europe/Warsaw)") from None
    return value


class Organization(Strict):
    name: OneLine = Field(min_length=1, description="The brand as the public knows it; used in statements.")
    website: str | None = None
    status_page: str | None = None
    timezone: str = Field(
        "UTC", description="The audience's time zone: statements promise the next update in it (like Europe/Warsaw)."
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _zone(value)


class Person(Strict):
    id: str = Field(pattern=_IDENT)
    name: OneLine = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    phone: str = Field(description="E.164, for example +48601234567")
    email: str
    timezone: str = "UTC"
    slack: str | None = Field(
        None, pattern=r"^[UW][A-Z0-9]{2,}$", description="Slack member id (U…), for pages and approvals in Slack."
    )

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.fullmatch(value):
            raise ValueError(f"'{value}' is not an E.164 phone number (like +48601234567)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"'{value}' is not an email address")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _zone(value)


class PageChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"  # a phone call reading the page; pressing 1 acknowledges (pages only)


class EscalationLevel(Strict):
    """One step of an escalation policy: everyone here is paged at once."""

    people: list[str] = Field(default_factory=list, description="Person ids paged at this level.")
    roles: list[str] = Field(
        default_factory=list, description="Roles whose every member is paged at this level (for example executive_sponsor)."
    )
    channels: list[PageChannel] = Field([PageChannel.SMS, PageChannel.EMAIL], min_length=1)
    wait: Duration | None = Field(
        None, description="Wait for an acknowledgement before the next level; default: the playbook's acknowledge_within."
    )

    @model_validator(mode="after")
    def _someone(self) -> "EscalationLevel":
        if not self.people and not self.roles:
            raise ValueError("a level names people or roles to page")
        return self


class EscalationPolicy(Strict):
    levels: list[EscalationLevel] = Field(min_length=1)
    repeat: int | None = Field(
        None, ge=0, le=5, description="Times the whole policy runs again when nobody answers; default: the playbook's."
    )


class Role(Strict):
    description: str = ""
    escalation: Annotated[list[str], Field(min_length=1)] | EscalationPolicy = Field(
        description=(
            "Either person ids, paged one at a time in this order, or a policy of levels "
            "(people or roles, channels, wait) with a repeat count. Paging stops on acknowledgement."
        )
    )

    def policy(self) -> EscalationPolicy:
        if isinstance(self.escalation, EscalationPolicy):
            return self.escalation
        return EscalationPolicy(levels=[EscalationLevel(people=[person]) for person in self.escalation])


class StakeholderGroup(Strict):
    """People kept informed (by email) without acting: executives, customer support, legal… and the
    audiences of a playbook's internal messages (all staff, store staff, partners), which are
    usually distribution lists rather than people of the roster."""

    description: str = ""
    people: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list, description="Every member of these roles is in the group.")
    emails: list[str] = Field(
        default_factory=list, description="Distribution lists or addresses outside the roster (all-staff@…)."
    )

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _EMAIL.match(value):
                raise ValueError(f"'{value}' is not an email address")
        return values


class Roster(Strict):
    organization: Organization
    people: list[Person] = Field(min_length=1)
    roles: dict[str, Role] = Field(min_length=1)
    stakeholders: dict[str, StakeholderGroup] = Field(default_factory=dict)

    def stakeholder_people(self, groups: list[str]) -> list[str]:
        chart = self.org_chart()
        people: list[str] = []
        for name in groups:
            group = self.stakeholders.get(name)
            if group:
                people += group.people + [p for role in group.roles for p in chart.members(role)]
        return list(dict.fromkeys(people))

    def group_addresses(self, groups: list[str]) -> list[tuple[str | None, str]]:
        """Everyone the groups reach by email: ``(person id, address)`` for people of the roster,
        ``(None, address)`` for a group's own addresses; each address once."""
        found = [(p, self.person(p).email) for p in self.stakeholder_people(groups) if self.person(p)]
        found += [(None, email) for name in groups if name in self.stakeholders for email in self.stakeholders[name].emails]
        seen: set[str] = set()
        return [(p, e) for p, e in found if not (e.lower() in seen or seen.add(e.lower()))]

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
        for name, group in self.stakeholders.items():
            for position, person_id in enumerate(group.people):
                if person_id not in by_id:
                    errors.append((f"stakeholders.{name}.people.{position}", f"unknown person '{person_id}'"))
            for position, role in enumerate(group.roles):
                if role not in self.roles:
                    errors.append((f"stakeholders.{name}.roles.{position}", f"unknown role '{role}'"))
        for name, role in self.roles.items():
            if isinstance(role.escalation, EscalationPolicy):
                errors += self._policy_problems(name, role.escalation, by_id)
                continue
            for position, person_id in enumerate(role.escalation):
                person = by_id.get(person_id)
                if person is None:
                    errors.append((f"roles.{name}.escalation.{position}", f"unknown person '{person_id}'"))
                elif name not in person.roles:
                    errors.append((f"roles.{name}.escalation.{position}", f"'{person_id}' does not have the role '{name}'"))
        return errors

    def _policy_problems(self, name: str, policy: EscalationPolicy, by_id: dict) -> list[tuple[str, str]]:
        errors = []
        for index, level in enumerate(policy.levels):
            where = f"roles.{name}.escalation.levels.{index}"
            for position, person_id in enumerate(level.people):
                if person_id not in by_id:
                    errors.append((f"{where}.people.{position}", f"unknown person '{person_id}'"))
            for position, role in enumerate(level.roles):
                if role not in self.roles:
                    errors.append((f"{where}.roles.{position}", f"unknown role '{role}'"))
        return errors

    def _level_people(self, level: EscalationLevel) -> list[str]:
        """A level's people, with each named role expanded to the people its own levels list."""
        people = list(level.people)
        for role in level.roles:
            people += [p for lvl in self.roles[role].policy().levels for p in lvl.people]
        return list(dict.fromkeys(people))

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def org_chart(self) -> "OrgChart":
        policies = {}
        for name, role in self.roles.items():
            policy = role.policy()
            levels = [
                PolicyLevel(people=self._level_people(level), channels=[c.value for c in level.channels], wait=level.wait)
                for level in policy.levels
            ]
            policies[name] = RolePolicy(levels=levels, repeat=policy.repeat)
        return OrgChart(
            organization=self.organization.name,
            timezone=self.organization.timezone,
            people=[p.id for p in self.people],
            escalation={
                name: list(dict.fromkeys(p for lvl in policy.levels for p in lvl.people)) for name, policy in policies.items()
            },
            policies=policies,
        )


class PolicyLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    people: list[str]
    channels: list[str] = ["sms", "email"]
    wait: Duration | None = None


class RolePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    levels: list[PolicyLevel]
    repeat: int | None = None


class OrgChart(BaseModel):
    """Who can act and in which order they are paged, by id only (safe for workflow history).

    ``escalation`` lists each role's members in paging order; ``policies`` holds the levels.
    Incidents declared before policies existed carry no ``policies``: one person per level.
    """

    model_config = ConfigDict(frozen=True)

    organization: str
    timezone: str = Field("UTC", description="The organisation's time zone, for the public's next-update promise.")
    people: list[str]
    escalation: dict[str, list[str]]
    policies: dict[str, RolePolicy] = Field(default_factory=dict)

    def members(self, role: str) -> list[str]:
        return list(self.escalation.get(role, []))

    def policy(self, role: str) -> RolePolicy:
        if role in self.policies:
            return self.policies[role]
        return RolePolicy(levels=[PolicyLevel(people=[person]) for person in self.members(role)])
