"""An escalation policy with phone-call levels, on the time-skipping server: the calls are placed
through the real ``twilio`` SDK (loopback fake), and the fake plays Twilio's part once a call is
answered, sending crisisflow's voice webhooks signed as Twilio does. A voicemail and a wrong key
change nothing and the escalation goes on; 1 acknowledges through the workflow's Update, named
"phone call" in the timeline; the same key press sent again is refused."""

import shutil
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml

from api.main import create_app
from channels.base import ChannelKind
from channels.twilio_call import TwilioCallChannel
from domain.catalog import load_catalog
from domain.severity import Severity
from settings import Settings
from tests.fakes.providers import FakeTwilio
from tests.workflow.harness import open_harness

PROJECT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "e" * 32
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://crisis.northwind.example"
ROLE = "incident_commander"
FIRST, SECOND = "ewa.lewandowska", "james.whitfield"


@pytest.fixture(scope="module")
def calling_playbooks(tmp_path_factory) -> Path:
    """The shipped playbooks, with the commander's policy calling: level 1 by phone only, level 2 by phone and SMS."""
    folder = tmp_path_factory.mktemp("calls") / "playbooks"
    shutil.copytree(PROJECT / "playbooks", folder)
    roster = yaml.safe_load((folder / "team.yaml").read_text(encoding="utf-8"))
    roster["roles"][ROLE]["escalation"] = {
        "levels": [{"people": [FIRST], "channels": ["call"]}, {"people": [SECOND], "channels": ["call", "sms"]}]
    }
    (folder / "team.yaml").write_text(yaml.safe_dump(roster, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def twilio():
    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="session")
async def stack(time_skipping_env, calling_playbooks, twilio, tmp_path):
    """The worker (calls through Twilio, the rest to the outbox) and the API on the same database."""
    database = tmp_path / "crisis.db"
    catalog = load_catalog(calling_playbooks)
    calls = TwilioCallChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, public_url=PUBLIC_URL, api_url=twilio.url, timeout=5
    )
    settings = Settings(
        _env_file=None,
        CRISIS_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        CRISIS_PUBLIC_URL=PUBLIC_URL,
        CRISIS_PLAYBOOKS_DIR=str(calling_playbooks),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_URL=twilio.url,
    )
    async with open_harness(time_skipping_env, catalog, database, channels={ChannelKind.CALL: calls}) as harness:
        app = create_app(settings, temporal=time_skipping_env.client)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
                yield harness, client


def paged(person: str, level: int):
    return lambda s: any(
        e["kind"] == "paged" and e["data"]["person"] == person and e["data"]["level"] == level for e in s["timeline"]
    )


def call_to(twilio: FakeTwilio, person_phone: str) -> str:
    [sid] = [r.provider_id for r in twilio.accepted if r.path.endswith("/Calls.json") and r.form["To"] == person_phone]
    return sid


async def post(client: httpx.AsyncClient, request: tuple[str, dict, dict]) -> httpx.Response:
    url, form, headers = request
    return await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)


async def test_a_call_level_escalates_past_voicemail_and_a_wrong_key_and_1_acknowledges(stack, twilio, catalog):
    harness, client = stack
    twilio.reset()
    plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV1))
    within = plan.playbook.identify.acknowledge_within.at(Severity.SEV1)
    phones = {p.id: p.phone for p in catalog.roster.people}
    handle = await harness.start(plan)

    # Level 1: a call only. Voicemail picks up: it hears nothing, and a key "pressed" on it counts for nothing.
    await harness.until(handle, paged(FIRST, 0))
    first = call_to(twilio, phones[FIRST])
    voicemail = await post(client, twilio.answer_request(first, answered_by="machine_end_beep"))
    assert "<Hangup />" in voicemail.text and "<Gather" not in voicemail.text
    human_twiml = (await post(client, twilio.answer_request(first, answered_by="human"))).text
    ignored = await post(client, twilio.press_request(first, human_twiml, "1", answered_by="machine_start"))
    assert "voicemail" in ignored.text
    assert (await harness.state(handle))["phase"] == "identify"
    outbox = await harness.outbox(plan.id)
    assert [(m.person_id, m.channel) for m in outbox if m.kind == "page"] == []  # the call went to Twilio, nothing else

    # Level 2 after the wait: a call and an SMS. A wrong key lets the escalation go on; 1 acknowledges.
    await harness.env.sleep(within + timedelta(seconds=1))
    await harness.until(handle, paged(SECOND, 1))
    second = call_to(twilio, phones[SECOND])
    assert {m.channel for m in await harness.outbox(plan.id) if m.kind == "page" and m.person_id == SECOND} == {"sms"}
    twiml = (await post(client, twilio.answer_request(second))).text
    wrong = await post(client, twilio.press_request(second, twiml, "2"))
    assert wrong.status_code == 200 and "escalation goes on" in wrong.text
    assert (await harness.state(handle))["phase"] == "identify"

    pressed = await post(client, twilio.press_request(second, twiml, "1"))
    assert pressed.status_code == 200 and "Acknowledged" in pressed.text, pressed.text
    state = await harness.until(handle, lambda s: s["phase"] == "assess")
    [acknowledged] = [e for e in state["timeline"] if e["kind"] == "acknowledged"]
    assert acknowledged["actor"] == SECOND and acknowledged["via"] == "phone call"

    replay = await post(client, twilio.press_request(second, twiml, "1"))
    assert replay.status_code == 409
    after = await harness.state(handle)
    assert [e for e in after["timeline"] if e["kind"] == "acknowledged"] == [acknowledged]


async def test_a_call_page_in_polish_is_read_in_polish(stack, twilio, catalog):
    harness, client = stack
    twilio.reset()
    plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV1)).model_copy(
        update={"language": "pl"}
    )
    handle = await harness.start(plan)
    await harness.until(handle, paged(FIRST, 0))
    sid = call_to(twilio, next(p.phone for p in catalog.roster.people if p.id == FIRST))
    twiml = (await post(client, twilio.answer_request(sid))).text
    assert 'language="pl-PL"' in twiml and "Naciśnij 1, aby potwierdzić" in twiml
    pressed = await post(client, twilio.press_request(sid, twiml, "1"))
    assert "Potwierdzone" in pressed.text
    await harness.until(handle, lambda s: s["phase"] == "assess")
