"""Twilio's voice webhooks for phone-call pages: what to say when the call is answered, the key
pressed, and how the call ended.

Each is signed like the SMS webhooks (``X-Twilio-Signature`` over CRISIS_PUBLIC_URL + path + query
and every field, checked by ``verify_twilio_request``). Pressing 1 acknowledges through the same
Update as a link or an SMS reply, naming the channel ("phone call") in the timeline, with the
page's single-use token: its update id is derived from the token and the token is spent, so a
replayed key press changes nothing (409). Any other key, no key or a voicemail changes nothing and
the escalation goes on by itself. The call's status callback records the outcome in the ledger:
answered by a person is ``delivered``; busy, no answer, failed, or a voicemail is ``failed``.
"""

import logging
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from api.deps import ClientDep, SessionDep, SettingsDep
from api.ratelimit import TOO_MANY, RateLimited
from channels.twilio_call import (
    ACKNOWLEDGE_KEY,
    CALL_STATUS_PATH,
    GATHER_PATH,
    VOICE_PATH,
    TwilioCallChannel,
    call_twiml,
    machine_answered,
    spoken,
)
from channels.twilio_sms import verify_twilio_request
from domain.actions import Acknowledge
from domain.messages import LANGUAGES, text
from services.temporal import ActionRefused, IncidentNotFound, act
from store import ledger, tokens
from workflows.incident import IncidentWorkflow

log = logging.getLogger("crisisflow.calls")
router = APIRouter(tags=["webhooks"], dependencies=[Depends(RateLimited("webhooks"))], responses=TOO_MANY)

VIA = "phone call"
PROVIDER = TwilioCallChannel.name
CALL_FAILED = {"busy", "no-answer", "failed", "canceled"}
SIGNED = {400: {"description": "Not a Twilio voice request"}, 403: {"description": "Bad signature"}}


def _twiml(body: str, status: int = 200) -> Response:
    return Response(body, media_type="application/xml", status_code=status)


def _language(request: Request) -> str:
    language = request.query_params.get("language", "en")
    return language if language in LANGUAGES else "en"


@router.post(VOICE_PATH, responses=SIGNED)
async def call_answered(request: Request, settings: SettingsDep) -> Response:
    """Twilio asks what to do once the call is answered: the page in a one-key Gather, or a hang-up
    for a voicemail or fax (``AnsweredBy`` from answering-machine detection)."""
    form = await verify_twilio_request(settings, request)
    answered_by = form.get("AnsweredBy")
    if machine_answered(answered_by):
        log.info("call %s reached %s: hung up, the page is not counted", form.get("CallSid", "?"), answered_by)
    return _twiml(call_twiml(settings.public_url, request.query_params.get("say", ""), _language(request), answered_by))


@router.post(
    GATHER_PATH,
    responses={
        **SIGNED,
        404: {"description": "Unknown call"},
        409: {"description": "Already acknowledged by this call (a replay)"},
        410: {"description": "The page's link expired"},
    },
)
async def key_pressed(request: Request, settings: SettingsDep, session: SessionDep, client: ClientDep) -> Response:
    """The key the person pressed after hearing the page. 1 acknowledges; anything else lets the escalation go on."""
    form = await verify_twilio_request(settings, request)
    language = _language(request)
    sid, digits = form.get("CallSid", "").strip(), form.get("Digits", "").strip()
    if not sid:
        raise HTTPException(400, "CallSid is required")
    row = await ledger.find_by_provider_id(session, PROVIDER, sid)
    page = await tokens.for_send(session, row.ledger_key) if row is not None else None
    if page is None or page.purpose != "acknowledge":
        log.warning("refused a key press for unknown call %s", sid)
        return _twiml(spoken(language, text(language, "call.not_counted", reason="unknown call")), 404)
    if machine_answered(form.get("AnsweredBy")):
        log.warning("key press on call %s ignored: answered by %s", sid, form.get("AnsweredBy"))
        return _twiml(spoken(language, text(language, "call.not_counted", reason="voicemail")))
    if digits != ACKNOWLEDGE_KEY:
        log.info("call %s: key %r pressed, the escalation goes on", sid, digits)
        return _twiml(spoken(language, text(language, "call.other_key")))
    if page.used_at is not None:
        log.warning("refused a key press on call %s: its page was already used (%s)", sid, page.outcome)
        return _twiml(spoken(language, text(language, "call.not_counted", reason="already used")), 409)
    if page.expires_at.replace(tzinfo=page.expires_at.tzinfo or timezone.utc) <= datetime.now(timezone.utc):
        return _twiml(spoken(language, text(language, "call.not_counted", reason="the page expired")), 410)
    try:
        receipt = await act(
            client,
            page.incident_id,
            IncidentWorkflow.acknowledge,
            Acknowledge(person=page.person_id, via=VIA),
            update_id=f"call-{page.token_hash[:40]}",
        )
        outcome, said = "Acknowledged: " + "; ".join(receipt.events), text(language, "call.acknowledged")
    except ActionRefused as refused:
        outcome = f"Nothing changed: {refused.message}."
        said = text(language, "call.not_counted", reason=refused.message)
    except IncidentNotFound:
        outcome = "The incident no longer exists."
        said = text(language, "call.not_counted", reason="the incident no longer exists")
    await tokens.spend(session, page, outcome)
    return _twiml(spoken(language, said))


@router.post(
    CALL_STATUS_PATH,
    responses={
        **SIGNED,
        404: {"description": "Unknown call"},
        409: {"description": "A replay: the ledger already holds this outcome"},
    },
)
async def call_status(request: Request, settings: SettingsDep, session: SessionDep) -> dict:
    """Twilio's call status callback (``completed`` event): the call's outcome in the ledger."""
    form = await verify_twilio_request(settings, request)
    sid, status = form.get("CallSid", "").strip(), form.get("CallStatus", "").strip().lower()
    if not sid or not status:
        raise HTTPException(400, "CallSid and CallStatus are required")
    row = await ledger.find_by_provider_id(session, PROVIDER, sid)
    if row is None:
        log.warning("refused Twilio call status for unknown call %s (%s)", sid, status)
        raise HTTPException(404, "unknown call")
    answered_by = form.get("AnsweredBy", "").strip()
    if status == "completed" and not machine_answered(answered_by):
        recorded, reason = ledger.LedgerStatus.DELIVERED.value, None
    elif status == "completed":
        recorded, reason = ledger.LedgerStatus.FAILED.value, f"call reached {answered_by} (not counted)"
    elif status in CALL_FAILED:
        recorded, reason = ledger.LedgerStatus.FAILED.value, f"call {status}"
    else:
        return {"call": sid, "status": status, "changed": False}
    if recorded == row.status:
        log.warning("refused Twilio call status for %s: %s is already recorded (a replay)", sid, recorded)
        raise HTTPException(409, f"the call is already recorded as {recorded}")
    if reason is None:
        changed = await ledger.mark_delivered(session, row.id)
    else:
        changed = await ledger.mark_failed(session, row.id, reason)
        log.info("%s: %s; the escalation goes on by itself", row.ledger_key, reason)
    await session.commit()
    return {"call": sid, "status": status, "changed": changed}
