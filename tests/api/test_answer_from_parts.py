"""An action's answer built from the view's parts (api/held_views.py, #22 item 3) is the answer built
from the incident's own view: the same model and the same JSON, byte for byte, so answering from the
Update's parts changes nothing a client reads."""

from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

from api.held_views import HeldViews
from api.incidents import ActionResult, answer_from_view_json
from domain.catalog import load_catalog
from domain.incident import IncidentView
from domain.receipts import UpdateReceipt
from domain.statements import StatementKind
from domain.view_delta import Written, model_delta
from services.declare import IncidentLinks
from tests.unit.conftest import Driver, make_plan

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
LINKS = IncidentLinks(self="/incidents/inc-1", page="/incidents/inc-1/view", temporal_ui="http://temporal/inc-1")


def through_history(receipt: UpdateReceipt) -> UpdateReceipt:
    """The receipt as the API's client decodes it from the Update's result."""
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(converter.to_payloads([receipt]), [UpdateReceipt])[0]


def test_an_approval_answered_from_the_parts_is_the_answer_from_the_whole_view():
    drive = Driver(make_plan(load_catalog(PLAYBOOKS), "technical_outage"))
    drive.to_communicate()
    holding = drive.system_draft(StatementKind.HOLDING)
    held = HeldViews()
    held.hold("inc-1", drive.incident.view(drive.now))
    approval = next(item for item in drive.incident.pending(drive.now) if item.kind == "approval")
    before = len(drive.state.timeline)
    drive.tick(seconds=5)
    drive.decide(holding.version, approval.people[0])
    view = drive.incident.view(drive.now)
    changes = [event.message for event in drive.state.timeline[before:]]
    sent = model_delta(view, held.get("inc-1").digests, Written())  # as the workflow answers
    assert sent is not None and 0 < len(sent.sent) < 10  # the statement, the pending list, the timeline's last chunk…
    receipt = through_history(UpdateReceipt(phase=drive.incident.phase, events=changes, view=sent))

    text = held.answered("inc-1", receipt.view, held.get("inc-1"))
    answer = answer_from_view_json(text, LINKS, receipt.events)

    assert answer == ActionResult(**dict(view), changes=changes, links=LINKS)
    # as the view validated from the same text and the answer built from it (before, 9f8217d), to the byte
    # (the parts' JSON has its keys sorted, so a timeline event's free-form data reads in that order in both)
    before = ActionResult(**dict(IncidentView.model_validate_json(text)), changes=receipt.events, links=LINKS)
    assert answer.model_dump_json() == before.model_dump_json()
    assert any(s.version == holding.version and s.decisions for s in answer.statements)
