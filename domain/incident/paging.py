"""Paging the crisis team: who was paged at which escalation level, and who acknowledged."""

from datetime import datetime, timedelta

from domain.actions import Acknowledge
from domain.durations import humanize
from domain.events import EventKind
from domain.incident.state import Page, Rejected


def _page_place(role: str, level: int, round_: int) -> str:
    """Where a page stands in its role's escalation, as the timeline says it: "(legal, level 2, round 2)"."""
    again = f", round {round_ + 1}" if round_ else ""
    return f"({role}, level {level + 1}{again})"


class Paging:
    def is_acknowledged(self, role: str) -> bool:
        return self.state.acknowledgements[role].acknowledged_by is not None

    def check_acknowledge(self, action: Acknowledge) -> None:
        self._require_open()
        self._require_person(action.person)
        roles = [r for r, ack in self.state.acknowledgements.items() if action.person in self.members(r)]
        if not roles:
            paged = ", ".join(self.state.acknowledgements)
            raise Rejected(f"person: '{action.person}' holds none of the paged roles ({paged})", "invalid")
        if all(self.is_acknowledged(r) for r in roles):
            by = ", ".join(f"{r} by {self.state.acknowledgements[r].acknowledged_by}" for r in roles)
            raise Rejected(f"already acknowledged ({by})")

    def acknowledge(self, action: Acknowledge, now: datetime) -> None:
        for role, ack in self.state.acknowledgements.items():
            if action.person in self.members(role) and ack.acknowledged_by is None:
                ack.acknowledged_by = action.person
                ack.acknowledged_at = now
                self._meet(f"acknowledge.{role}", now)
                self._event(
                    now,
                    EventKind.ACKNOWLEDGED,
                    action.person,
                    f"{action.person} acknowledged as {role}",
                    role=role,
                    via=action.via,
                )

    def record_page(self, role: str, person: str, level: int, round_: int, now: datetime) -> None:
        self.state.acknowledgements[role].pages.append(Page(person=person, level=level, round=round_, at=now))
        if level:
            verb = "Escalated to"
        else:
            verb = "Paged again" if round_ else "Paged"
        self._event(
            now,
            EventKind.PAGED,
            None,
            f"{verb} {person} {_page_place(role, level, round_)}",
            role=role,
            person=person,
            level=level,
            round=round_,
        )

    def record_page_withdrawn(self, role: str, person: str, level: int, round_: int, now: datetime) -> None:
        """A page still being retried (a provider was out) when the role was answered: not sent late."""
        taker = self.state.acknowledgements[role].acknowledged_by
        why = f"{taker} took it" if taker else "the incident was resolved"
        self._event(
            now,
            EventKind.PAGE_WITHDRAWN,
            None,
            f"Stopped retrying the page to {person} {_page_place(role, level, round_)}: {why} first",
            role=role,
            person=person,
            level=level,
            round=round_,
        )

    def record_no_answer(self, role: str, person: str, waited: timedelta, now: datetime) -> None:
        self._event(
            now,
            EventKind.PAGE_UNANSWERED,
            None,
            f"No acknowledgement from {person} ({role}) within {humanize(waited)}",
            role=role,
            person=person,
        )

    def record_chain_exhausted(self, role: str, now: datetime) -> None:
        self.state.acknowledgements[role].exhausted = True
        self._event(
            now, EventKind.ESCALATION_EXHAUSTED, None, f"Nobody in {role} acknowledged after every escalation level", role=role
        )

    def paged_people(self) -> list[str]:
        """Everyone paged for this incident so far, in the order they were paged."""
        return list(dict.fromkeys(page.person for ack in self.state.acknowledgements.values() for page in ack.pages))
