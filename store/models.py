"""The read model: what the API lists and searches. Temporal holds the truth; activities project it here."""

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, MetaData, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(timezone.utc) if value is not None and value.tzinfo else value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    # Constraint names fixed by convention, the same on SQLite and PostgreSQL, so that a migration can name them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime()}


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    playbook: Mapped[str] = mapped_column(String(100), index=True)
    scenario: Mapped[str] = mapped_column(String(50), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    phase: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    pending: Mapped[list[Any]] = mapped_column(JSON, default=list)
    projected_seq: Mapped[int] = mapped_column(
        Integer, default=0, doc="Last timeline event applied; guards against stale retries."
    )


class TimelineRow(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int]
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(String(100))
    via: Mapped[str | None] = mapped_column(
        String(120), doc="How the action arrived: an API key's name, an email or SMS link, an SMS reply."
    )
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxRow(Base):
    """Every message the outbox channel delivered; ``ledger_key`` makes a retried send a no-op."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_key: Mapped[str] = mapped_column(String(300), unique=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class ActionTokenRow(Base):
    """A single-use action link. Only the SHA-256 of the token is stored; the token itself exists
    only in the message that carried it."""

    __tablename__ = "action_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ledger_key: Mapped[str] = mapped_column(String(300), unique=True, doc="The send that minted it: a retry reuses nothing.")
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str] = mapped_column(String(100), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    version: Mapped[int | None] = mapped_column(Integer, doc="For approvals: the statement version the link decides on.")
    code: Mapped[str] = mapped_column(String(8), doc="Short code for SMS replies: ACK <code>.")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class InboundMessageRow(Base):
    """A provider's inbound message (an SMS reply) that was acted on, by the provider's id
    (Twilio's MessageSid): a signed request replayed later, even after a new incident was
    declared, finds its id here and takes effect never again."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20), doc="twilio")
    provider_id: Mapped[str] = mapped_column(String(100), doc="Twilio's MessageSid")
    person_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime]


class NotificationRow(Base):
    """The notification ledger: one row per attempt to send one message on one channel
    (incident, page, person, channel, attempt). ``ledger_key`` is workflow id / activity id /
    channel, the same across activity retries, so a send the provider already accepted is never
    repeated; delivery webhooks move ``status`` on to delivered or failed."""

    __tablename__ = "notification_ledger"
    __table_args__ = (UniqueConstraint("ledger_key", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_key: Mapped[str] = mapped_column(String(300), index=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20), doc="sms, email or public")
    kind: Mapped[str] = mapped_column(String(50), doc="page, reminder, approval, statement.holding…")
    attempt: Mapped[int] = mapped_column(Integer, doc="1 for the first try of this ledger key, then 2, 3…")
    status: Mapped[str] = mapped_column(String(20), doc="queued, sent, delivered or failed")
    provider: Mapped[str] = mapped_column(String(20), doc="outbox, twilio or sendgrid")
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True, doc="Twilio MessageSid, SendGrid X-Message-Id")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(doc="When the provider took the message; set once, never cleared.")
    updated_at: Mapped[datetime]


class SubscriberRow(Base):
    """Someone outside the roster who asked to hear an incident's news by email. Kept here, never in
    the workflow, so no address enters Temporal history."""

    __tablename__ = "incident_subscribers"
    __table_args__ = (UniqueConstraint("incident_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class IncidentMetricsRow(Base):
    """An incident's headline metrics (seconds from declaration), written from the review phase on,
    for the reports across incidents. Drills are kept apart by ``drill``."""

    __tablename__ = "incident_metrics"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    playbook: Mapped[str] = mapped_column(String(100), index=True)
    scenario: Mapped[str] = mapped_column(String(50), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    time_to_detect_s: Mapped[float | None] = mapped_column(Float)
    time_to_acknowledge_s: Mapped[float | None] = mapped_column(Float)
    time_to_assessment_s: Mapped[float | None] = mapped_column(Float)
    time_to_first_statement_s: Mapped[float | None] = mapped_column(Float)
    time_to_resolve_s: Mapped[float | None] = mapped_column(Float)
    deadlines_met: Mapped[int] = mapped_column(Integer, default=0)
    deadlines_missed: Mapped[int] = mapped_column(Integer, default=0)
    highest_escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    approval_rounds: Mapped[int] = mapped_column(Integer, default=0)
    feedback_count: Mapped[int] = mapped_column(Integer, default=0)
    feedback_mean: Mapped[float | None] = mapped_column(Float)
    projected_seq: Mapped[int] = mapped_column(
        Integer, default=0, doc="Timeline length these figures were computed at; guards against stale retries."
    )


class ApiKeyRow(Base):
    """An API key. Only the SHA-256 of the key is stored (keys are 256 random bits, so a plain hash
    is enough); ``prefix`` is its first characters, to recognise it in a list."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="declare, respond, admin")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class MentionRow(Base):
    """A social post about the brand, as a listening tool delivered it. (platform, external_id) is
    the post's identity, so a tool that sends the same post twice stores it once."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("platform", "external_id"), Index("ix_mentions_topic_created_at", "topic", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    language: Mapped[str | None] = mapped_column(String(10))
    reach: Mapped[int] = mapped_column(Integer, default=0)
    topic: Mapped[str | None] = mapped_column(String(100), doc="The monitored topic it was counted for, if any.")
    sentiment: Mapped[float | None] = mapped_column(Float, doc="-1 … 1; null for a language without a sentiment lexicon.")
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime]
    ingested_by: Mapped[str | None] = mapped_column(
        String(100), doc="The name of the API key that posted it: who a direct declaration came from."
    )
    incident_id: Mapped[str | None] = mapped_column(
        String(64), index=True, doc="Set for a reply to (or quote of) one of the incident's published posts."
    )
    statement_version: Mapped[int | None] = mapped_column(Integer, doc="The statement whose post it answers.")


class SignalRow(Base):
    """A detected surge of mentions: a suggested incident until a person confirms or dismisses it
    (or the topic declares directly). The id is derived from the topic and the surge's first bucket,
    so a detection evaluated twice is stored once."""

    __tablename__ = "signals"

    id: Mapped[str] = mapped_column(String(150), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, doc="suggested, confirmed, dismissed or declared")
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    playbook: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    bucket_start: Mapped[datetime]
    first_mention_at: Mapped[datetime]
    stream_time: Mapped[datetime] = mapped_column(doc="The newest mention's time when the surge was detected.")
    detected_at: Mapped[datetime]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    incident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
