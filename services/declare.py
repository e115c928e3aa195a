"""Declaring an incident: the one path every way of declaring takes (``POST /incidents``, the
crisis room's form, Slack's /crisis declare, a person confirming a signal, a topic that declares by
itself from the worker's listening activity, and ``crisis declare`` through the API). The playbook
is resolved and pinned, the incident's workflow started and the team paged; the same idempotency
key always gives the same incident."""

import hashlib
import json
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from activities.listening import origin
from domain.actions import PersonId
from domain.answers import pin_answers
from domain.factsheet import FactSheetFields
from domain.incident import IncidentPlan, Phase
from domain.listening import DetectionOrigin
from domain.safe_text import LongText, OneLine, long_text, one_line
from domain.severity import Severity
from services.temporal import incident_id, incident_memo, query_state, start_incident
from store import mentions as store

# A detection that led to a declaration is recent: a first mention from last year is a typo (year 1 gave
# "time to detect 739955 d"), one from a few minutes ahead is a listening tool's clock.
DETECTION_LOOKBACK = timedelta(days=30)
DETECTION_CLOCK_SKEW = timedelta(minutes=5)


class Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    playbook: OneLine = Field(min_length=1, max_length=100, description="Playbook id, see GET /playbooks.")
    title: OneLine = Field(
        min_length=1, max_length=200, description="Internal: the team's name for the incident, never published."
    )
    summary: LongText = Field(min_length=1, max_length=5000, description="Internal: what is known so far, never published.")
    fact_sheet: FactSheetFields | None = Field(
        None,
        description=(
            "The public fact sheet, as far as it can be said now (a public headline at least); statements are drafted from it"
            " alone."
        ),
    )
    severity: Severity | None = Field(None, description="Defaults to the playbook's default severity.")
    language: one_line(max_length=10) | None = Field(None, description="Statement language; defaults to the playbook's first.")
    drill: bool = False
    declared_by: one_line(max_length=100) | None = Field(None, description="Person id of whoever declares, if on the roster.")
    detected_at: AwareDatetime | None = Field(
        None,
        description=(
            "When the first related mention was seen, if a detection led here (for time to detect); with a time zone, "
            "at most 30 days before the declaration and not in the future (5 minutes of clock skew are taken as now)."
        ),
    )

    @field_validator("detected_at")
    @classmethod
    def _within_the_detection_window(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return value
        now = datetime.now(timezone.utc)
        if value > now + DETECTION_CLOCK_SKEW:
            raise ValueError(f"the first mention cannot be in the future ({value.isoformat()} is after {now:%Y-%m-%dT%H:%M:%SZ})")
        if value < now - DETECTION_LOOKBACK:
            raise ValueError(
                f"the first mention must be at most {DETECTION_LOOKBACK.days} days before the declaration ({value.isoformat()} is"
                " earlier); leave it out if it is not known"
            )
        return min(value, now)  # a clock a little ahead: detected now, never after the declaration


class IncidentLinks(BaseModel):
    self: str
    page: str
    temporal_ui: str


class DeclaredIncident(BaseModel):
    id: str
    phase: str
    status: str
    title: str
    playbook: str
    scenario: str
    severity: str
    language: str
    drill: bool
    links: IncidentLinks


def incident_links(settings, incident: str) -> IncidentLinks:
    return IncidentLinks(
        self=f"/incidents/{incident}", page=f"/incidents/{incident}/view", temporal_ui=settings.workflow_url(incident)
    )


class DeclarationRefused(Exception):
    """The declaration names something that does not exist; the message names the field."""


DECLARATION_MEMO = "declaration"


def declaration_fingerprint(declaration: Declaration) -> dict[str, str]:
    """Each field of the declaration as a short hash, kept in the incident workflow's memo: a reused
    Idempotency-Key is checked against it and the fields that differ are named, while the memo holds
    no text (the title and summary stay in the workflow's input)."""
    return {
        field: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
        for field, value in declaration.model_dump(mode="json").items()
    }


async def declare_incident(
    settings,
    client,
    catalog,
    declaration: Declaration,
    idempotency_key: str | None,
    detection: DetectionOrigin | None = None,
    via: str | None = None,
    same_body: bool = False,
) -> tuple[DeclaredIncident, bool]:
    """Resolve and pin the playbook, start the incident's workflow (the team is paged). The same
    Idempotency-Key always gives the same incident: (the incident, False) when it existed already;
    with ``same_body`` (a caller's HTTP declaration) only for the same declaration, and a different
    one is refused naming the fields that differ. Every way of declaring (HTTP, a confirmed signal,
    a topic that declares directly) comes here."""
    playbook = catalog.playbooks.get(declaration.playbook)
    if playbook is None:
        known = ", ".join(sorted(catalog.playbooks))
        raise DeclarationRefused(f"playbook: unknown playbook '{declaration.playbook}' (known: {known})")
    language = declaration.language or playbook.languages[0]
    if language not in playbook.languages:
        raise DeclarationRefused(f"language: '{language}' is not offered by {playbook.id} ({', '.join(playbook.languages)})")
    if declaration.declared_by and not catalog.roster.person(declaration.declared_by):
        raise DeclarationRefused(f"declared_by: '{declaration.declared_by}' is not in the team roster")
    plan = IncidentPlan(
        id=incident_id(idempotency_key),
        title=declaration.title,
        summary=declaration.summary,
        severity=declaration.severity or playbook.default_severity,
        language=language,
        drill=declaration.drill,
        declared_by=declaration.declared_by,
        detected_at=declaration.detected_at or (detection.first_mention_at if detection else None),
        declared_via=via,
        playbook=playbook,
        org=catalog.org_chart,
        template=catalog.template(playbook, language),
        answers=pin_answers(catalog.answers.get(playbook.id), language),
        internal_templates=catalog.internal_templates(playbook, language),
        detection=detection,
        fact_sheet=declaration.fact_sheet,
    )
    fingerprint = declaration_fingerprint(declaration)
    if await start_incident(client, settings.task_queue, plan, memo={DECLARATION_MEMO: fingerprint}):
        return (
            DeclaredIncident(
                id=plan.id,
                phase=Phase.IDENTIFY.value,
                status="open",
                title=plan.title,
                playbook=playbook.id,
                scenario=playbook.scenario.value,
                severity=plan.severity.value,
                language=language,
                drill=plan.drill,
                links=incident_links(settings, plan.id),
            ),
            True,
        )
    if same_body:
        earlier = await incident_memo(client, plan.id, DECLARATION_MEMO)
        if earlier is not None and (
            differ := sorted(f for f in fingerprint.keys() | earlier.keys() if fingerprint.get(f) != earlier.get(f))
        ):
            raise DeclarationRefused(
                f"Idempotency-Key: this key declared incident {plan.id} with a different body ({', '.join(differ)} differ); "
                "nothing was declared: send the same body to get that incident, or a new key for a new incident"
            )
    state = await query_state(client, plan.id)
    fields = {"id", "phase", "status", "title", "playbook", "scenario", "severity", "language", "drill"}
    return DeclaredIncident(**state.model_dump(mode="json", include=fields), links=incident_links(settings, plan.id)), False


# Signals: a surge that listening detected, declared by a person's confirmation or by its topic.


class SignalStatus(StrEnum):
    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DECLARED = "declared"
    RAISED = "raised"  # a surge of negative replies to an incident's own posts: tied to it, nothing to declare


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: OneLine = PersonId
    severity: Severity | None = Field(None, description="Defaults to the topic's, then the playbook's.")
    playbook: one_line(max_length=100) | None = Field(None, description="Declare with another playbook than the one suggested.")
    headline: OneLine = Field(
        min_length=1,
        max_length=100,
        description=(
            "The public headline of the incident, in the audience's words: the detection's title and numbers are internal and"
            " never published."
        ),
    )
    title: one_line(min_length=1, max_length=200) | None = Field(None, description="Internal title; defaults to the detection's.")
    summary: long_text(min_length=1, max_length=5000) | None = Field(
        None, description="Internal summary; defaults to the detection's."
    )
    drill: bool = False


def idempotency_key(signal_id: str) -> str:
    return f"signal:{signal_id}"


MAX_VIA = 120  # timeline_events.via


def declared_by_topic(topic: str, ingest_keys: list[str]) -> str:
    """Who declared when a topic declares by itself: the topic, and the API keys whose mentions made
    the surge (all of them are also in the incident's ``detection.ingested_by``)."""
    if not ingest_keys:
        return f"topic {topic}"
    named = f"topic {topic}, mentions from API key{'s' if len(ingest_keys) > 1 else ''} {', '.join(ingest_keys)}"
    if len(named) <= MAX_VIA:
        return named
    return f"topic {topic}, mentions from {len(ingest_keys)} API keys"[:MAX_VIA]


async def declare_from_signal(
    settings, client, catalog, session, signal, confirmation: Confirmation | None = None, via: str | None = None
) -> DeclaredIncident:
    """Declare the signal's incident and mark the signal confirmed (by a person, through ``via``) or
    declared (by its topic). Safe to repeat: the incident id comes from the signal id."""
    topic = next((item for item in catalog.topics if item.id == signal.topic), None)
    declaration = Declaration(
        playbook=(confirmation and confirmation.playbook) or signal.playbook,
        title=(confirmation and confirmation.title) or signal.title,
        summary=(confirmation and confirmation.summary) or signal.summary,
        severity=(confirmation and confirmation.severity) or (topic.severity if topic else None),
        drill=bool(confirmation and confirmation.drill),
        declared_by=confirmation.person if confirmation else None,
        fact_sheet=FactSheetFields(headline=confirmation.headline) if confirmation else None,
    )
    fed_by = await store.ingest_keys(session, signal.topic, signal.first_mention_at, signal.stream_time)
    incident, _created = await declare_incident(
        settings,
        client,
        catalog,
        declaration,
        idempotency_key(signal.id),
        origin(signal, fed_by),
        via=via or declared_by_topic(signal.topic, fed_by),
    )
    status = SignalStatus.CONFIRMED if confirmation else SignalStatus.DECLARED
    await store.decide_signal(
        session, signal.id, status.value, confirmation and confirmation.person, datetime.now(timezone.utc), incident.id
    )
    return incident
