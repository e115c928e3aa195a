"""Acknowledgement by SMS reply: ``ACK``, ``ACK <code>`` or ``1`` from a paged phone.

Each message (Twilio's MessageSid) takes effect once: a captured, correctly signed ``ACK`` sent
again, even after a later incident paged the same person, is refused (409) and changes nothing.
"""

import logging
import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.ratelimit import TOO_MANY, RateLimited
from channels.twilio_sms import verify_twilio_request
from domain.actions import Acknowledge
from services.temporal import ActionRefused, IncidentNotFound, act
from store import inbound, service, tokens
from workflows.incident import IncidentWorkflow

log = logging.getLogger("crisisflow.webhooks")
MAX_SID = 100  # Twilio's are 34 characters
router = APIRouter(tags=["webhooks"], dependencies=[Depends(RateLimited("webhooks"))], responses=TOO_MANY)
_REPLY = re.compile(r"^\s*(?:ack\s*(?P<code>\d{4})?|1)\s*[.!]?\s*$", re.IGNORECASE)


def _twiml(message: str, status: int = 200) -> Response:
    reply = MessagingResponse()
    reply.message(message)
    return Response(str(reply), media_type="application/xml", status_code=status)


@router.post(
    "/webhooks/twilio/sms",
    responses={
        400: {"description": "Not a message (no MessageSid)"},
        403: {"description": "Bad signature or unknown sender"},
        409: {"description": "A replay: this MessageSid was handled before"},
    },
)
async def sms_reply(
    request: Request, settings: SettingsDep, catalog: CatalogDep, session: SessionDep, client: ClientDep
) -> Response:
    """Twilio's inbound-message webhook. The sender's phone number must be on the roster."""
    form = await verify_twilio_request(settings, request)
    sender = next((p for p in catalog.roster.people if p.phone == form.get("From", "")), None)
    if sender is None:
        return Response("unknown sender", status_code=403)
    sid = form.get("MessageSid", "").strip()
    if not sid or len(sid) > MAX_SID:
        log.warning("refused SMS reply from %s without a usable MessageSid", sender.id)
        return Response("MessageSid is required", status_code=400)
    if not await inbound.claim(session, "twilio", sid, sender.id):
        log.warning("refused SMS reply %s from %s: it was handled before (a replay)", sid, sender.id)
        return Response("this message was handled before (a replay); nothing changed", status_code=409)
    match = _REPLY.match(form.get("Body", ""))
    if match is None:
        return _twiml("Reply ACK to acknowledge your page, or ACK <code> when you have several.")
    pages = await tokens.open_for_person(session, sender.id, "acknowledge")
    code = match.group("code")
    if code:
        pages = [row for row in pages if row.code == code]
    if not pages:
        return _twiml(f"No open page{' with code ' + code if code else ''} for you. Nothing changed.")
    if len({row.incident_id for row in pages}) > 1:
        choices = {}
        for row in pages:
            if row.ledger_key.endswith("/sms") and row.incident_id not in choices:
                incident = await service.get_incident(session, row.incident_id)
                choices[row.incident_id] = f"ACK {row.code} ({incident.title if incident else row.incident_id})"
        return _twiml("You have several open pages. Reply " + " or ".join(choices.values()))
    row = pages[0]
    try:
        receipt = await act(
            client,
            row.incident_id,
            IncidentWorkflow.acknowledge,
            Acknowledge(person=sender.id, via="SMS reply"),
            update_id=f"sms-{row.token_hash[:40]}",
        )
        outcome = "Acknowledged: " + "; ".join(receipt.events)
    except ActionRefused as refused:
        outcome = f"Nothing changed: {refused.message}."
    except IncidentNotFound:
        outcome = "That incident no longer exists."
    for spent in pages:
        await tokens.spend(session, spent, outcome)
    return _twiml(outcome)
