"""What the incident told people beside the flow (reminders, briefings, schedulers) and the
notices a channel did not deliver."""

from datetime import datetime
from typing import Any

from domain.events import EventKind
from domain.incident.state import Receipt


class Notices:
    def record_delivery_failure(self, person: str, failed: str, fallback: str, reason: str, now: datetime) -> None:
        self._event(
            now,
            EventKind.DELIVERY_FAILED,
            None,
            f"{failed} to {person} did not arrive ({reason}); sent again by {fallback}",
            person=person,
            channel=failed,
            fallback=fallback,
        )

    def record_notice_failed(
        self, who: str, channels: list[str], reason: str, what: str, reached_by: list[str], now: datetime
    ) -> None:
        """A notice (not a page) that a channel did not deliver in its bounded time, or refused for good."""
        outcome = f"reached by {' and '.join(reached_by)}" if reached_by else "not delivered"
        message = f"{' and '.join(channels)} to {who} failed ({reason}) for: {what}; {outcome}"
        self._event(
            now,
            EventKind.NOTICE_FAILED,
            None,
            message,
            person=who,
            channels=channels,
            reason=reason,
            what=what,
            reached_by=reached_by,
        )

    def record_reminder(self, subject: str, people: list[str], now: datetime, **data: Any) -> None:
        self._event(now, EventKind.REMINDER_SENT, None, f"{subject} — reminded {', '.join(people)}", people=people, **data)

    def record_briefing(self, event: str, reached: int, now: datetime) -> None:
        self._event(
            now,
            EventKind.STAKEHOLDERS_BRIEFED,
            None,
            f"Stakeholders briefed ({event}): {reached} email(s)",
            event=event,
            reached=reached,
        )

    def record_schedulers(self, event: str, what: str, receipts: list[Receipt], now: datetime) -> None:
        reached = [r.channel for r in receipts if r.error is None]
        missed = [f"{r.channel} ({r.error})" for r in receipts if r.error]
        note = f"; not reached: {', '.join(missed)}" if missed else ""
        self._event(
            now,
            EventKind.SCHEDULERS_TOLD,
            None,
            f"{what}: told {', '.join(reached) or 'nobody'}{note}",
            event=event,
            targets=reached,
        )
