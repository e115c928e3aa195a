"""What Slack sends crisisflow: button presses and modals (the interactivity endpoint) and the
``/crisis`` slash command.

Every request is verified before anything is read from it (``SlackVerifier``): Slack's signature
over the timestamp and body with SLACK_SIGNING_SECRET, a timestamp within five minutes, and the
same signed request only once; otherwise 403 (409 for a replay) and nothing changes.

A button acts only for the person it was sent to: the Slack user who pressed it must be that
person on the roster (``slack:`` in team.yaml), and the button's single-use token must still be
open. Anyone else gets an ephemeral message saying why, and nothing changes. Acting goes through
the same workflow Update as a link, with an update id derived from the token, and the timeline
names the channel ("via Slack"). The token is then spent, so a second press says it was used.

``/crisis declare <playbook> <title>`` (and the "Declare an incident" shortcut) declare with the
scopes an admin gave the Slack user in SLACK_USER_SCOPES, as an API key would.
"""

import json
import logging
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.ratelimit import TOO_MANY, RateLimited
from channels.base import DeliveryError
from channels.registry import slack_configured
from channels.slack import (
    ACKNOWLEDGE,
    APPROVE,
    CHANGES_MODAL,
    COMMANDS_PATH,
    DECLARE_MODAL,
    DECLARE_SHORTCUT,
    INTERACTIVITY_PATH,
    REQUEST_CHANGES,
    SlackApi,
    SlackRequestRefused,
    SlackVerifier,
    changes_modal,
    declare_modal,
)
from domain.actions import Acknowledge, DecideStatement, StatementDecision, Verdict
from services.declare import Declaration, DeclarationRefused, declare_incident
from services.temporal import ActionRefused, IncidentNotFound, act
from store import tokens
from workflows.incident import IncidentWorkflow

log = logging.getLogger("crisisflow.slack")
router = APIRouter(tags=["webhooks"], dependencies=[Depends(RateLimited("webhooks"))], responses=TOO_MANY)

VIA = "Slack"
PURPOSES = {ACKNOWLEDGE: "acknowledge", APPROVE: "approve", REQUEST_CHANGES: "approve"}
SIGNED = {
    400: {"description": "Not a Slack request"},
    403: {"description": "Bad, missing or stale signature"},
    409: {"description": "A replay of a request already received"},
}
USAGE = "Usage: /crisis declare <playbook> <title>, for example /crisis declare account_compromise Instagram account hijacked"


def _slack(request: Request, settings) -> tuple[SlackVerifier, SlackApi]:
    """The verifier (with its memory of requests seen) and the Web API client, made once per app."""
    state = request.app.state
    if getattr(state, "slack", None) is None:
        if not slack_configured(settings):
            raise HTTPException(403, "Slack is not configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
        state.slack = (
            SlackVerifier(settings.slack_signing_secret.get_secret_value().strip()),
            SlackApi(settings.slack_bot_token.get_secret_value().strip(), settings.slack_api_url),
        )
    return state.slack


async def _verified(request: Request, settings) -> tuple[dict[str, list[str]], SlackApi]:
    verifier, api = _slack(request, settings)
    body = await request.body()
    try:
        verifier.verify(request.headers, body)
    except SlackRequestRefused as refused:
        log.warning("refused %s: %s", request.url.path, refused.reason)
        raise HTTPException(refused.status, refused.reason) from None
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True), api
    except UnicodeDecodeError:
        raise HTTPException(400, "the body is not a form") from None


def _first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def _person(catalog, slack_user: str):
    return next((p for p in catalog.roster.people if p.slack and p.slack == slack_user), None)


def _may_declare(settings, slack_user: str) -> bool:
    scopes = settings.slack_user_scopes.get(slack_user, [])
    return "declare" in scopes or "admin" in scopes


async def _say_privately(api: SlackApi, channel: str | None, user: str, text: str) -> None:
    """An ephemeral message only ``user`` sees; logged when Slack does not take it."""
    if not channel:
        return
    try:
        await api.call("chat.postEphemeral", channel=channel, user=user, text=text)
    except DeliveryError as error:
        log.warning("could not tell %s privately: %s", user, error.reason)


async def _open_token(session, catalog, slack_user: str, token: str, wanted: str):
    """The token's row and the person acting, or why this Slack user may not act with it."""
    person = _person(catalog, slack_user)
    if person is None:
        return (
            None,
            None,
            (
                f"You are not on the crisis team's roster as a Slack user (no one has `slack: {slack_user}` in team.yaml), "
                "so you cannot act here. Nothing changed."
            ),
        )
    row = await tokens.find(session, token) if token else None
    if row is None or row.purpose != wanted:
        return None, person, "This button is not valid. Nothing changed."
    owner = catalog.roster.person(row.person_id)
    if row.person_id != person.id:
        return None, person, f"This is for {owner.name if owner else row.person_id}: only they can act on it. Nothing changed."
    if row.used_at is not None:
        return None, person, f"This was already used: {row.outcome or 'it works once'}"
    if row.expires_at.replace(tzinfo=row.expires_at.tzinfo or timezone.utc) <= datetime.now(timezone.utc):
        return None, person, "This has expired: act from the incident's page instead. Nothing changed."
    return row, person, None


async def _perform(session, client, row, decision: Verdict | None, comment: str | None = None) -> tuple[bool, str]:
    """Acknowledge (``decision`` None) or decide, through the workflow's Update; spends the token."""
    update_id = f"slack-{row.token_hash[:40]}"
    try:
        if decision is None:
            receipt = await act(
                client,
                row.incident_id,
                IncidentWorkflow.acknowledge,
                Acknowledge(person=row.person_id, via=VIA),
                update_id=update_id,
            )
        else:
            action = StatementDecision(person=row.person_id, decision=decision, comment=comment, via=VIA)
            receipt = await act(
                client,
                row.incident_id,
                IncidentWorkflow.decide_statement,
                DecideStatement(**dict(action), version=row.version),
                update_id=update_id,
            )
        done, outcome = True, "; ".join(receipt.events) or "Done."
    except ActionRefused as refused:
        done, outcome = False, f"Nothing to do: {refused.message}."
    except IncidentNotFound:
        done, outcome = False, "The incident no longer exists."
    await tokens.spend(session, row, outcome)
    return done, outcome


async def _replace_buttons(api: SlackApi, channel: str | None, ts: str | None, outcome: str) -> None:
    """The message's buttons give way to what happened, so nobody presses them again."""
    if not channel or not ts:
        return
    try:
        await api.call(
            "chat.update",
            channel=channel,
            ts=ts,
            text=outcome,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": outcome[:2900]}}],
        )
    except DeliveryError as error:
        log.warning("could not update the Slack message %s/%s: %s", channel, ts, error.reason)


@router.post(INTERACTIVITY_PATH, responses=SIGNED)
async def interactivity(
    request: Request, settings: SettingsDep, session: SessionDep, catalog: CatalogDep, client: ClientDep
) -> Response:
    """Slack's interactivity request URL: buttons (``block_actions``), modals (``view_submission``)
    and the global shortcut (``shortcut``)."""
    form, api = await _verified(request, settings)
    try:
        payload = json.loads(_first(form, "payload"))
        user = payload["user"]["id"]
        kind = payload["type"]
    except (ValueError, KeyError, TypeError):
        raise HTTPException(400, "expected a form with a JSON payload naming its type and user") from None
    if kind == "block_actions":
        return await _pressed(payload, user, api, session, catalog, client)
    if kind == "view_submission":
        return await _submitted(payload, user, api, settings, session, catalog, client)
    if kind == "shortcut" and payload.get("callback_id") == DECLARE_SHORTCUT:
        if _may_declare(settings, user):
            view = declare_modal(sorted((book.id, book.name) for book in catalog.playbooks.values()))
        else:
            view = {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Declare an incident"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _not_allowed(user)}}],
            }
        await api.call("views.open", get=True, trigger_id=payload.get("trigger_id"), view=view)
    return Response(status_code=200)


def _not_allowed(user: str) -> str:
    return (
        f"You may not declare incidents from Slack: an admin gives your Slack id ({user}) the declare scope in SLACK_USER_SCOPES."
        " Nothing was declared."
    )


async def _pressed(payload: dict[str, Any], user: str, api: SlackApi, session, catalog, client) -> Response:
    actions = payload.get("actions") or [{}]
    action_id, token = actions[0].get("action_id"), actions[0].get("value") or ""
    container = payload.get("container") or {}
    channel = container.get("channel_id") or (payload.get("channel") or {}).get("id")
    ts = container.get("message_ts")
    if action_id not in PURPOSES:
        return Response(status_code=200)  # a link button (open the incident): Slack opens it
    row, person, refusal = await _open_token(session, catalog, user, token, PURPOSES[action_id])
    if refusal:
        log.warning("Slack %s by %s refused: %s", action_id, user, refusal)
        await _say_privately(api, channel, user, refusal)
        return Response(status_code=200)
    if action_id == REQUEST_CHANGES:
        heading = f"Statement v{row.version} of incident {row.incident_id}: what should change?"
        metadata = json.dumps({"token": token, "channel": channel, "ts": ts})
        await api.call("views.open", get=True, trigger_id=payload.get("trigger_id"), view=changes_modal(metadata, heading))
        return Response(status_code=200)
    done, outcome = await _perform(session, client, row, None if action_id == ACKNOWLEDGE else Verdict.APPROVE)
    log.info("Slack %s by %s (%s): %s", action_id, user, person.id, outcome)
    if done:
        await _replace_buttons(api, channel, ts, f"{outcome} (by {person.name} in Slack)")
    else:
        await _say_privately(api, channel, user, outcome)
    return Response(status_code=200)


def _value(view: dict, block: str, action: str) -> dict:
    return ((view.get("state") or {}).get("values") or {}).get(block, {}).get(action, {}) or {}


async def _submitted(payload: dict[str, Any], user: str, api: SlackApi, settings, session, catalog, client) -> Response:
    view = payload.get("view") or {}
    if view.get("callback_id") == CHANGES_MODAL:
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        comment = (_value(view, "comment", "comment").get("value") or "").strip()[:2000]
        if not comment:
            return JSONResponse({"response_action": "errors", "errors": {"comment": "Say what should change."}})
        row, _person_acting, refusal = await _open_token(session, catalog, user, metadata.get("token") or "", "approve")
        if refusal:
            return JSONResponse({"response_action": "errors", "errors": {"comment": refusal}})
        done, outcome = await _perform(session, client, row, Verdict.REJECT, comment)
        if not done:
            return JSONResponse({"response_action": "errors", "errors": {"comment": outcome}})
        await _replace_buttons(api, metadata.get("channel"), metadata.get("ts"), f"{outcome} (in Slack)")
        return Response(status_code=200)
    if view.get("callback_id") == DECLARE_MODAL:
        if not _may_declare(settings, user):
            return JSONResponse({"response_action": "errors", "errors": {"title": _not_allowed(user)}})
        playbook = (_value(view, "playbook", "playbook").get("selected_option") or {}).get("value") or ""
        title = (_value(view, "title", "title").get("value") or "").strip()
        answer = await _declare(
            settings, client, catalog, user, playbook, title, payload.get("trigger_id") or view.get("id") or ""
        )
        if answer.get("response_type") == "ephemeral":
            return JSONResponse({"response_action": "errors", "errors": {"title": answer["text"]}})
        return Response(status_code=200)
    return Response(status_code=200)


async def _declare(settings, client, catalog, user: str, playbook: str, title: str, dedupe: str) -> dict[str, str]:
    """Declare for a Slack user; the slash command's answer (``ephemeral`` when refused)."""
    person = _person(catalog, user)
    who = person.name if person else user
    try:
        declaration = Declaration(
            playbook=playbook, title=title, summary=f"Declared from Slack by {who}.", declared_by=person.id if person else None
        )
        declared, _created = await declare_incident(settings, client, catalog, declaration, f"slack:{user}:{dedupe}", via=VIA)
    except ValidationError as error:
        problem = error.errors()[0]
        return {"response_type": "ephemeral", "text": f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}. {USAGE}"}
    except DeclarationRefused as refused:
        return {"response_type": "ephemeral", "text": f"{refused}. Nothing was declared."}
    log.info("incident %s declared from Slack by %s", declared.id, user)
    return {
        "response_type": "in_channel",
        "text": (
            f"Incident {declared.id} declared ({declared.severity}, {declared.playbook}): {declared.title}. "
            f"{settings.public_url}/incidents/{declared.id}/view"
        ),
    }


@router.post(COMMANDS_PATH, responses=SIGNED)
async def slash_command(request: Request, settings: SettingsDep, catalog: CatalogDep, client: ClientDep) -> JSONResponse:
    """``/crisis declare <playbook> <title>``: answered in Slack (ephemeral when refused)."""
    form, _api = await _verified(request, settings)
    user, words = _first(form, "user_id"), _first(form, "text").split(maxsplit=2)
    if not words or words[0].lower() != "declare" or len(words) < 3:
        return JSONResponse({"response_type": "ephemeral", "text": USAGE})
    if not _may_declare(settings, user):
        log.warning("Slack user %s may not declare", user)
        return JSONResponse({"response_type": "ephemeral", "text": _not_allowed(user)})
    return JSONResponse(await _declare(settings, client, catalog, user, words[1], words[2], _first(form, "trigger_id")))
