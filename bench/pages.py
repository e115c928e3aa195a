"""Where the benchmark sees a message "accepted by the provider".

- :class:`OutboxPages`: for the stacks without provider credentials, where every message goes to
  the outbox channel (``channels/outbox.py``): accepted means its row is committed to
  ``outbox_messages``. We read the SQLite file directly, read-only, at a tight interval, so the
  API (and its own latency) stays out of the measurement.
- :class:`ProviderPages`: for the fan-out, whose stack sends through the official Twilio and
  SendGrid SDKs to the loopback fakes of ``tests/fakes/providers.py``, running in the bench
  process. Accepted means the fake answered 201/202, after its injected delay; the fake notes
  the time itself.
"""

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.fakes.providers import FakeSendGrid, FakeTwilio, Fault, Recorded

POLL_S = 0.002


class Pages(Protocol):
    async def wait_first_page(self, incident_id: str, timeout: float = 30) -> float:
        """Wall-clock time (``time.time()``) at which the first page of the incident was accepted."""
        ...

    async def wait_sends(self, incident_id: str, count: int, kind: str = "page", timeout: float = 120) -> float:
        """Wall-clock time at which ``count`` messages of ``kind`` for the incident had been accepted."""
        ...

    def count(self, kind: str = "page") -> int:
        """Messages of ``kind`` accepted so far, all incidents together."""
        ...


class OutboxPages:
    """The outbox table of one ``crisis.db``: a committed row is an accepted message."""

    def __init__(self, database: Path, poll_s: float = POLL_S):
        self._database = Path(database)
        self._poll_s = poll_s
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, check_same_thread=False)
        return self._connection

    def _count(self, incident_id: str, kind: str) -> int:
        row = (
            self._db()
            .execute("SELECT count(*) FROM outbox_messages WHERE incident_id = ? AND kind = ?", (incident_id, kind))
            .fetchone()
        )
        return row[0]

    async def wait_first_page(self, incident_id: str, timeout: float = 30) -> float:
        return await self.wait_sends(incident_id, 1, "page", timeout)

    async def wait_sends(
        self, incident_id: str, count: int, kind: str = "page", timeout: float = 120, poll_s: float | None = None
    ) -> float:
        deadline = time.monotonic() + timeout
        while True:
            if self._count(incident_id, kind) >= count:
                return time.time()
            if time.monotonic() > deadline:
                seen = self._count(incident_id, kind)
                raise TimeoutError(f"{incident_id}: {seen} of {count} '{kind}' messages after {timeout} s")
            await asyncio.sleep(poll_s or self._poll_s)

    def count(self, kind: str = "page") -> int:
        return self._db().execute("SELECT count(*) FROM outbox_messages WHERE kind = ?", (kind,)).fetchone()[0]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class Accepted:
    first: float  # time.time() at which the first message was accepted
    last: float  # … and the last of them


ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "e" * 32
API_KEY = "SG.crisisflow-bench.0123456789abcdef"


class ProviderPages:
    """Fakes of Twilio and SendGrid on loopback, in this process, that one stack (and nothing else)
    sends to, each answering every request after ``delay_s`` as a provider's API would take that
    long. ``settings`` points a stack's official SDKs at them."""

    def __init__(self, delay_s: float):
        self.delay_s = delay_s
        self.twilio = FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
        self.sendgrid = FakeSendGrid(api_key=API_KEY)

    def __enter__(self) -> "ProviderPages":
        self.twilio.start()
        try:
            self.sendgrid.start()
        except BaseException:
            self.twilio.stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.twilio.stop()
        self.sendgrid.stop()

    @property
    def settings(self) -> dict[str, str]:
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_URL": self.twilio.url,
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_FROM_EMAIL": "crisis@bench.example",
            "SENDGRID_API_URL": self.sendgrid.url,
        }

    def reset(self) -> None:
        """Forget every request so far (the stack must be idle): what is accepted next is the next incident's."""
        for fake in (self.twilio, self.sendgrid):
            fake.reset()
            fake.inject(Fault(delay=self.delay_s, times=10**9))

    def _accepted(self) -> tuple[list[Recorded], list[Recorded]]:
        return self.twilio.accepted, self.sendgrid.accepted

    async def wait_accepted(self, count: int, timeout: float = 600, poll_s: float = 0.005) -> Accepted:
        """Once ``count`` messages (SMS and email together) are accepted since the last reset."""
        deadline = time.monotonic() + timeout
        while True:
            sms, email = self._accepted()
            if len(sms) + len(email) >= count:
                times = sorted(r.answered_at for r in sms + email)
                return Accepted(first=times[0], last=times[count - 1])
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(sms)} SMS and {len(email)} emails of {count} accepted after {timeout} s")
            await asyncio.sleep(poll_s)

    def check_one_each(self, incident_id: str, phones: set[str], emails: set[str]) -> None:
        """Every person got exactly one SMS and one email, and every email was one of this incident's pages."""
        sms, email = self._accepted()
        to_phones = [r.form["To"] for r in sms]
        to_emails = [r.json["personalizations"][0]["to"][0]["email"] for r in email]
        keys = [FakeSendGrid.custom_args(r.json).get("crisis_ledger_key", "") for r in email]
        problems = []
        if sorted(to_phones) != sorted(phones):
            problems.append(f"{len(to_phones)} SMS to {len(set(to_phones))} numbers, expected one to each of {len(phones)}")
        if sorted(to_emails) != sorted(emails):
            problems.append(f"{len(to_emails)} emails to {len(set(to_emails))} addresses, expected one to each of {len(emails)}")
        if stray := [key for key in keys if not key.startswith(f"{incident_id}/page.")]:
            problems.append(f"{len(stray)} emails were not pages of {incident_id}, e.g. {stray[0]!r}")
        if problems:
            raise AssertionError("; ".join(problems))
