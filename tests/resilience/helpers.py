"""Shared by the failure tests: the loopback Twilio and SendGrid fakes wired into a stack's
settings, the crisis team's moves over the API, and a read-only look at the read model and the ledger."""

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from store import ledger, service
from store.db import create_engine, session_factory
from tests.driver import next_step
from tests.e2e.stack import free_port, until
from tests.fakes.providers import FakeSendGrid, FakeTwilio
from tests.resilience.processes import SplitStack

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "f" * 32
SENDGRID_KEY = "SG.test-key.secret"
WAIT = 4  # seconds per escalation level
DECLARATION = {"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail.", "severity": "SEV2"}


@dataclass
class Providers:
    twilio: FakeTwilio
    sendgrid: FakeSendGrid
    phone: dict[str, str]
    email: dict[str, str]

    def env(self, api_port: int) -> dict[str, str]:
        return {
            "CRISIS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_URL": self.twilio.url,
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "SENDGRID_FROM_EMAIL": "crisis@northwind.example",
            "SENDGRID_API_URL": self.sendgrid.url,
        }

    def sms_to(self, person: str) -> list[str]:
        """Bodies of the SMS Twilio accepted for ``person``, in the order it accepted them."""
        return [r.form["Body"] for r in self.twilio.accepted if r.form.get("To") == self.phone[person]]

    def emails_to(self, person: str) -> list[str]:
        return [
            r.json["subject"]
            for r in self.sendgrid.accepted
            if r.json["personalizations"][0]["to"][0]["email"] == self.email[person]
        ]


def paging_stack(data_dir: Path, providers: Providers, playbooks: Path, **settings: str) -> SplitStack:
    """Server, worker and API as separate processes, paging through the fakes (which call back the API's port)."""
    api_port = free_port()
    stack = SplitStack(data_dir, {"CRISIS_PLAYBOOKS_DIR": str(playbooks), **providers.env(api_port), **settings})
    stack.api_port = api_port
    return stack


def metric(text: str, name: str) -> float:
    """The sum of a Prometheus metric's samples (all label sets) in a worker's /metrics text."""
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def sqlite_url(stack: SplitStack) -> str:
    return f"sqlite+aiosqlite:///{stack.data_dir / 'crisis.db'}"


def state(http, incident: str) -> dict:
    return http.get(f"/incidents/{incident}").raise_for_status().json()


def paged(http, incident: str, person: str) -> bool:
    """The workflow has recorded ``person``'s page: the send activity completed."""
    return any(e["kind"] == "paged" and person in e["message"] for e in state(http, incident)["timeline"])


def drive_to_closed(http, incident: str, seconds: float = 120) -> dict:
    """Act as the crisis team would (``tests/driver.py``) until the incident is closed."""

    def step() -> dict | None:
        current = state(http, incident)
        if current["status"] == "closed":
            return current
        if (action := next_step(current)) is not None:
            response = http.post(f"/incidents/{incident}/{action.path}", json=action.body)
            assert response.status_code == 200, (action, response.text)
        return None

    return until(step, seconds, what=f"{incident} closed")


@dataclass
class ReadModel:
    timeline: list[tuple[int, str, str]]  # (seq, kind, message) as projected
    projected_seq: int
    ledger: list  # NotificationRow, in id order


def read_model(database_url: str, incident: str) -> ReadModel:
    async def read() -> ReadModel:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                row = await service.get_incident(session, incident)
                events = await service.list_timeline(session, incident)
                attempts = await ledger.attempts(session, incident_id=incident)
            return ReadModel([(e.seq, e.kind, e.message) for e in events], row.projected_seq if row else 0, attempts)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def caught_up(database_url: str, http, incident: str) -> ReadModel | None:
    """The read model once it holds every timeline event the workflow has, else None."""
    live = state(http, incident)["timeline"]
    model = read_model(database_url, incident)
    return model if model.projected_seq == len(live) and len(model.timeline) == len(live) else None


def sms_sent(model: ReadModel) -> list:
    """The ledger's SMS that Twilio accepted."""
    return [row for row in model.ledger if row.channel == "sms" and row.accepted_at is not None]


def settled(database_url: str, http, incident: str, providers: Providers, seconds: float = 60) -> ReadModel:
    """The read model once it has caught up and its ledger records every SMS Twilio accepted. A
    send's answer is written just after Twilio accepts it, and a notice (who took it) is sent after
    the acknowledgement was answered: a look between the two is not a difference. Should they still
    differ after ``seconds``, the last model that had caught up, for the assertions to name what."""
    last: list[ReadModel] = []

    def ledger_caught_up() -> ReadModel | None:
        accepted = {r.provider_id for r in providers.twilio.accepted}  # before the ledger is read
        if (model := caught_up(database_url, http, incident)) is None:
            return None
        last[:] = [model]
        return model if accepted <= {row.provider_id for row in sms_sent(model)} else None

    try:
        return until(ledger_caught_up, seconds, what="the read model caught up")
    except AssertionError:
        if not last:
            raise
        return last[0]


def assert_no_sms_twice(providers: Providers, model: ReadModel) -> None:
    """Every SMS the ledger sent went to Twilio exactly once, and Twilio accepted nothing else."""
    bodies = [(r.form["To"], r.form["Body"]) for r in providers.twilio.accepted]
    assert len(bodies) == len(set(bodies)), f"an SMS was accepted twice: {bodies}"
    sent = sms_sent(model)
    assert sorted(row.ledger_key for row in sent) == sorted({row.ledger_key for row in sent}), "a ledger key was sent twice"
    recorded = {row.provider_id: row.ledger_key for row in sent}
    accepted = {r.provider_id: (r.form.get("To"), r.form.get("Body")) for r in providers.twilio.accepted}
    assert recorded.keys() == accepted.keys(), (
        f"the ledger recorded and Twilio did not accept: {[recorded[i] for i in recorded.keys() - accepted.keys()]}; "
        f"Twilio accepted and the ledger did not record: {[accepted[i] for i in accepted.keys() - recorded.keys()]}"
    )
