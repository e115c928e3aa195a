"""Delivery status webhooks: Twilio's status callbacks and SendGrid's Event Webhook.

Each moves a notification ledger row on (sent → delivered or failed). When a page's SMS or email
fails after the provider accepted it, the incident's workflow is signalled (``delivery_failed``)
so that it resends on the person's other channel at once; only the request that records the
failure signals, so a repeated callback changes nothing.

Bad input never changes anything: a missing or wrong signature is 403, a malformed body 400, an
unknown message 404, and a replay (a status the ledger already holds for that message, such as
the same signed request sent again) 409, each logged.
"""

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError, RPCStatusCode

from api import limits
from api.deps import SessionDep, SettingsDep
from api.ratelimit import TOO_MANY, RateLimited
from channels.base import redact
from channels.sendgrid_email import LEDGER_ARG
from channels.twilio_paths import STATUS_CALLBACK_PATH
from channels.twilio_sms import verify_twilio_request
from domain.messages import DeliveryFailure
from store import ledger
from store.models import NotificationRow

log = logging.getLogger("crisisflow.webhooks")
router = APIRouter(tags=["webhooks"], dependencies=[Depends(RateLimited("webhooks"))], responses=TOO_MANY)

SIGNAL = "delivery_failed"
RESEND_KINDS = {"page"}  # failures of these kinds are signalled to the workflow
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_FAILED = {"undelivered", "failed"}
SENDGRID_FAILED = {"bounce", "dropped"}
# The ledger status each provider status records; the others record nothing.
TWILIO_RECORDS = {"delivered": ledger.LedgerStatus.DELIVERED.value} | dict.fromkeys(
    TWILIO_FAILED, ledger.LedgerStatus.FAILED.value
)
SENDGRID_RECORDS = {"delivered": ledger.LedgerStatus.DELIVERED.value} | dict.fromkeys(
    SENDGRID_FAILED, ledger.LedgerStatus.FAILED.value
)
ALREADY_RECORDED = {409: {"description": "A replay: the ledger already holds this status for the message"}}


async def _fail(request: Request, session: AsyncSession, row: NotificationRow, reason: str) -> bool:
    """Record a failure and tell the workflow, in that order, committing only once the workflow
    has the signal (or is gone): if Temporal does not answer, nothing is recorded and the answer
    is 503, so a provider that retries (SendGrid does) brings the event again."""
    key, incident, person, channel, kind = row.ledger_key, row.incident_id, row.person_id, row.channel, row.kind
    if not await ledger.mark_failed(session, row.id, reason):
        await session.rollback()
        return False  # already failed: said once, not again
    if kind in RESEND_KINDS and person:
        failure = DeliveryFailure(ledger_key=key, person=person, channel=channel, reason=reason)
        try:
            await request.app.state.temporal.get_workflow_handle(incident).signal(SIGNAL, failure)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                await session.rollback()
                log.error("could not signal %s about %s: %s", incident, key, error.message)
                raise HTTPException(
                    503, "Temporal did not answer; send the event again later", headers={"Retry-After": "5"}
                ) from None
            log.info("%s failed (%s) but incident %s is closed: nobody to tell", key, reason, incident)
        else:
            log.info("%s failed (%s): incident %s told to resend on another channel", key, reason, incident)
    else:
        log.info("%s failed (%s)", key, reason)
    await session.commit()
    return True


# ---- Twilio ----------------------------------------------------------------------------------


@router.post(
    STATUS_CALLBACK_PATH,
    responses={
        400: {"description": "Not a status callback"},
        403: {"description": "Bad signature"},
        404: {"description": "Unknown message"},
        **ALREADY_RECORDED,
    },
)
async def twilio_status(request: Request, settings: SettingsDep, session: SessionDep) -> dict[str, Any]:
    """Twilio's message status callback (form-encoded, signed with the auth token)."""
    form = await verify_twilio_request(settings, request)
    sid, status = form.get("MessageSid", "").strip(), form.get("MessageStatus", "").strip().lower()
    if not sid or not status:
        log.warning("refused Twilio status callback without MessageSid or MessageStatus")
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    row = await ledger.find_by_provider_id(session, "twilio", sid)
    if row is None:
        log.warning("refused Twilio status callback for unknown message %s (%s)", sid, status)
        raise HTTPException(404, "unknown message")
    if (recorded := TWILIO_RECORDS.get(status)) == row.status:
        log.warning("refused Twilio status callback for %s: %s is already recorded (a replay)", sid, status)
        raise HTTPException(409, f"the message is already recorded as {recorded}")
    changed = False
    if status == "delivered":
        changed = await ledger.mark_delivered(session, row.id)
        await session.commit()
    elif status in TWILIO_FAILED:
        code = form.get("ErrorCode", "").strip()
        changed = await _fail(request, session, row, f"SMS {status}" + (f" (Twilio error {code})" if code else ""))
    return {"message": sid, "status": status, "changed": changed}


# ---- SendGrid --------------------------------------------------------------------------------


def _verify_sendgrid(settings, request: Request, body: bytes) -> None:
    key = (settings.sendgrid_webhook_public_key or "").strip()
    if not key:  # nothing to verify against: an unsigned event could fake a bounce and a re-send (docs/security.md)
        log.warning("refused SendGrid events: SENDGRID_WEBHOOK_PUBLIC_KEY is not set, so no event can be verified")
        raise HTTPException(403, "SendGrid events are refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
    signature, timestamp = request.headers.get(SENDGRID_SIGNATURE), request.headers.get(SENDGRID_TIMESTAMP)
    if not signature or not timestamp:
        log.warning("refused SendGrid events: no %s / %s header", SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP)
        raise HTTPException(403, "missing SendGrid signature")
    try:
        valid = EventWebhook(key).verify_signature(body.decode("utf-8"), signature, timestamp)
    except Exception as error:  # a malformed signature, body or configured key: nothing can be verified
        log.warning("refused SendGrid events: signature not verifiable (%s)", type(error).__name__)
        raise HTTPException(403, "the SendGrid signature cannot be verified") from None
    if not valid:
        log.warning("refused SendGrid events: the signature does not match")
        raise HTTPException(403, "the SendGrid signature does not match")


def _events(body: bytes) -> list[dict[str, Any]]:
    try:
        events = limits.loads(body)
    except (ValueError, UnicodeDecodeError):
        events = None
    if not isinstance(events, list) or not all(
        isinstance(event, dict) and isinstance(event.get("event"), str) for event in events
    ):
        log.warning("refused SendGrid events: the body is not a JSON array of events")
        raise HTTPException(400, "expected a JSON array of events")
    return events


@router.post(
    "/webhooks/sendgrid/events",
    responses={
        400: {"description": "Not an event batch"},
        403: {"description": "Bad signature"},
        404: {"description": "Unknown messages only"},
        **ALREADY_RECORDED,
    },
)
async def sendgrid_events(request: Request, settings: SettingsDep, session: SessionDep) -> dict[str, Any]:
    """SendGrid's Event Webhook: a JSON array of events, signed with ECDSA (the Signed Event Webhook;
    without SENDGRID_WEBHOOK_PUBLIC_KEY every batch is refused, as Twilio's are without a token).
    Events of mail crisisflow did not send (no ledger key) are ignored. A batch whose every event of
    ours is already recorded is a replay (409): SendGrid does not send a batch again after a 4xx,
    only after a 5xx or no answer."""
    body = await request.body()
    _verify_sendgrid(settings, request, body)
    events = _events(body)
    applied = ignored = unknown = foreign = replayed = 0
    for event in events:
        key = event.get(LEDGER_ARG)
        if not isinstance(key, str) or not key:
            foreign += 1  # mail crisisflow did not send
            continue
        row = await ledger.accepted_attempt(session, key, provider="sendgrid")
        if row is None:
            unknown += 1
            log.warning("SendGrid %s event for unknown message %s", event["event"], key)
            continue
        if SENDGRID_RECORDS.get(event["event"]) == row.status:
            replayed += 1
            continue
        if event["event"] == "delivered":
            applied += await ledger.mark_delivered(session, row.id)
            await session.commit()
        elif event["event"] in SENDGRID_FAILED:
            detail = str(event.get("reason") or event.get("type") or "").strip()
            reason = f"email {event['event']}" + (f": {redact(detail)[:300]}" if detail else "")
            applied += await _fail(request, session, row, reason)
        else:
            ignored += 1  # processed, deferred, open, click…: nothing to record
    if unknown and unknown == len(events) - foreign:
        raise HTTPException(404, "unknown messages")  # every event of ours named a message we never sent
    if replayed and replayed == len(events) - foreign:
        log.warning("refused SendGrid events: all %d of ours are already recorded (a replay)", replayed)
        raise HTTPException(409, "every event of this batch is already recorded")
    return {"applied": applied, "ignored": ignored + foreign, "unknown": unknown, "replayed": replayed}
