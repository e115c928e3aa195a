"""Mentions over HTTP: a listening tool (or ``crisis mentions import``) posts batches of social posts.

A batch is checked whole before anything is stored: one bad item refuses the batch (422, naming
the item's index and field) and nothing of it is kept, so the sender can fix and resend it. Posts
already stored are skipped and counted, which also makes resending a batch after a timeout safe.
"""

import asyncio
from collections import Counter
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, field_validator

from api import limits
from api.auth import Ingester
from api.deps import RETRY_AFTER_S, CatalogDep, ClientDep, SessionDep, SettingsDep
from api.mention_chart import incident_conversation
from api.sentiment_pool import topics_and_scores
from domain.listening import TopicMatcher
from domain.safe_text import LongText, OneLine, json_may_hold_refused_text, one_line
from domain.sentiment import is_negative
from services.temporal import IncidentNotFound, query_state
from store import mentions as store
from workflows.listening import nudge_topics

router = APIRouter(tags=["listening"])

MAX_BATCH = 5000
PART = 500  # a batch is validated and matched in parts this size, each sent for scoring when ready
SCORING_LOST = "mentions: a sentiment process ended while scoring this batch; nothing was stored: send it again"
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of listening tools drift; a post from next week is a bug


def _mention_model(checked: bool) -> type[BaseModel]:
    """A mention as posted. ``checked=False`` is the same model without the text checks of
    :data:`OneLine` and :data:`LongText` (a Python call for every string of every item, 40 % of
    validating a batch), for a body :func:`json_may_hold_refused_text` has cleared as a whole."""
    line, long_text = (OneLine, LongText) if checked else (str, str)
    topic_id = one_line(max_length=100) if checked else Annotated[str, StringConstraints(max_length=100)]

    class MentionIn(BaseModel):
        model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

        platform: line = Field(min_length=1, max_length=50, description="Where it was posted: x, facebook, instagram, tiktok, …")
        external_id: line = Field(
            min_length=1, max_length=200, description="The post's id on that platform; (platform, external_id) dedupes."
        )
        author: line = Field(min_length=1, max_length=200)
        text: long_text = Field(max_length=10_000)
        url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$")
        created_at: AwareDatetime = Field(description="When it was posted, ISO 8601 with a UTC offset (2026-12-01T09:41:07Z).")
        language: Annotated[str, Field(min_length=2, max_length=10, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]+)?$")] | None = None
        reach: int = Field(0, ge=0, le=10**12, description="Followers or views the listening tool reports; 0 when unknown.")
        topic: topic_id | None = Field(None, description="A monitored topic's id; otherwise the text's terms decide.")

        @field_validator("platform")
        @classmethod
        def _lowercase(cls, value: str) -> str:
            return value.lower()

    return MentionIn


MentionIn = _mention_model(checked=True)
_BATCH = TypeAdapter(list[MentionIn])
_CLEARED_BATCH = TypeAdapter(list[_mention_model(checked=False)])


class IngestReceipt(BaseModel):
    received: int
    stored: int
    duplicates: int = Field(description="Posts already stored, or repeated in this batch; skipped.")
    topics: dict[str, int] = Field(description="Mentions stored by this batch for each monitored topic.")


def let_go(scores: Iterable["asyncio.Future[Any]"]) -> None:
    """A batch answered without its scores: the parts still being scored are cancelled, and the error
    of those that failed is read (a lost process fails every part it held), so asyncio has no
    exception to report as never retrieved."""
    for found in scores:
        if not found.done():
            found.cancel()
        elif not found.cancelled():
            found.exception()


def _refusal(errors: list[dict[str, Any]]) -> HTTPException:
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    detail = f"mentions.{location}: {message}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem(s))"
    return HTTPException(422, detail)


def _items(raw: bytes, scope: dict) -> list[Any]:
    try:
        body = limits.loads(raw, scope=scope)
    except (ValueError, UnicodeDecodeError) as error:
        raise HTTPException(422, f"body: not valid JSON ({error})") from None
    items = body.get("mentions") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise HTTPException(422, "body: must be a JSON array of mentions, or an object with a 'mentions' array")
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"mentions: {len(items):,} in one batch; send at most {MAX_BATCH:,} per request")
    return items


@router.post(
    "/mentions",
    response_model=IngestReceipt,
    responses={
        400: {"description": limits.TOO_DEEP},
        413: {"description": f"More than {MAX_BATCH} mentions, or a body over the size limit"},
        422: {"description": "An item is not valid: the detail names its index and field; nothing was stored"},
        503: {"description": "Temporal did not answer, or a sentiment process ended while scoring: send the batch again"},
    },
)
async def ingest(
    request: Request, session: SessionDep, client: ClientDep, settings: SettingsDep, catalog: CatalogDep, caller: Ingester
) -> IngestReceipt:
    """Store a batch of up to 5,000 mentions (a JSON array, or ``{"mentions": [...]}``) and wake the
    detectors of the topics they count for. Each mention keeps the name of the key that posted it:
    a topic that declares directly names those keys as who declared."""
    raw = await request.body()
    items = _items(raw, request.scope)
    adapter = _BATCH if json_may_hold_refused_text(raw) else _CLEARED_BATCH
    matcher = TopicMatcher(catalog.topics)
    now = datetime.now(timezone.utc)
    latest = now + FUTURE_TOLERANCE
    scorer = request.app.state.sentiment
    in_processes = scorer.in_processes(len(items))
    errors: list[dict[str, Any]] = []  # the model's, indexed in the whole batch
    problems: list[dict[str, Any]] = []  # the batch's own rules, reported when no item breaks the model
    rows: list[dict[str, Any]] = []
    scoring: list[tuple[list[dict[str, Any]], Any]] = []  # a part's rows, and their topics and scores (or a future of them)
    seen: set[tuple[str, str]] = set()
    for offset in range(0, len(items), PART):
        try:
            part = adapter.validate_python(items[offset : offset + PART])
        except ValidationError as error:
            errors.extend({**each, "loc": (each["loc"][0] + offset, *each["loc"][1:])} for each in error.errors())
            continue
        if errors:
            continue  # the batch is refused: the rest is only read for the count of its problems
        fresh: list[dict[str, Any]] = []
        for index, mention in enumerate(part, start=offset):
            if mention.created_at > latest:
                problems.append({"loc": (index, "created_at"), "msg": f"{mention.created_at.isoformat()} is in the future"})
            if mention.topic is not None and mention.topic not in matcher.topics:
                known = ", ".join(matcher.topics) or "none configured"
                problems.append({"loc": (index, "topic"), "msg": f"unknown topic '{mention.topic}' (known: {known})"})
            if problems:
                continue
            key = (mention.platform, mention.external_id)
            if key in seen:
                continue
            seen.add(key)
            row = {
                "platform": mention.platform,
                "external_id": mention.external_id,
                "author": mention.author,
                "text": mention.text,
                "url": mention.url,
                "created_at": mention.created_at.astimezone(timezone.utc),
                "language": mention.language,
                "reach": mention.reach,
                "topic": mention.topic,  # the one it names; matched by its text below when None
                "received_at": now,
                "ingested_by": caller.name,
                "sentiment": None,
                "negative": False,
            }
            rows.append(row)
            fresh.append(row)
        if fresh and not problems:
            texts = [(row["text"], row["language"], row["topic"]) for row in fresh]
            # In the processes, this part is matched and scored while the next ones are validated.
            scoring.append((fresh, scorer.submit(matcher, texts) if in_processes else topics_and_scores(matcher, texts)))
    if errors or problems:
        if in_processes:
            let_go(found for _, found in scoring)
        raise _refusal(errors or problems)
    try:
        for fresh, found in scoring:
            for row, (topic, sentiment) in zip(fresh, await found if in_processes else found):
                row["topic"], row["sentiment"], row["negative"] = topic, sentiment, is_negative(sentiment)
    except BrokenProcessPool:
        let_go(found for _, found in scoring)
        raise HTTPException(503, SCORING_LOST, headers={"Retry-After": RETRY_AFTER_S}) from None
    stored = await store.insert_mentions(session, rows) if rows else Counter()
    topics = dict(sorted((topic, count) for topic, count in stored.items() if topic is not None))
    woken = sorted({row["topic"] for row in rows if row["topic"] is not None})
    if woken:
        # After the commit: a detector woken now finds the batch. If Temporal does not answer, the 503
        # asks the sender to retry, which stores nothing twice and (duplicates or not) wakes them again.
        await nudge_topics(client, settings.task_queue, woken)
    total = sum(stored.values())
    return IngestReceipt(received=len(items), stored=total, duplicates=len(items) - total, topics=topics)


@router.get("/incidents/{incident}/mentions", responses={404: {"description": "No such incident"}})
async def incident_mentions(
    incident: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    session: SessionDep,
    client: ClientDep,
    catalog: CatalogDep,
) -> dict[str, Any]:
    """The conversation around an incident: mentions and negative share per bucket, reach so far, and
    the negative share in the hour before and after each published statement (what the page charts)."""
    try:
        state = await query_state(client, incident)
    except IncidentNotFound:
        raise HTTPException(404, f"incident '{incident}' does not exist") from None
    talk = await incident_conversation(session, catalog, state)
    replies = await replies_to_statements(session, incident)
    if talk is None:
        return {"topics": [], "points": [], "statements": [], "mentions": 0, "reach": 0, "replies": replies}
    return {
        "replies": replies,
        "topics": talk.topics,
        "bucket_seconds": int(talk.width.total_seconds()),
        "mentions": talk.mentions,
        "reach": talk.reach,
        "first_mention_at": talk.first_mention_at,
        "time_to_detect_seconds": None if talk.detected_after is None else talk.detected_after.total_seconds(),
        "time_to_declare_seconds": None if talk.declared_after is None else talk.declared_after.total_seconds(),
        "points": [
            {"start": p.start, "count": p.count, "negative": p.negative, "scored": p.scored, "negative_share": p.negative_share}
            for p in talk.points
        ],
        "statements": [
            {
                "version": e.version,
                "kind": e.kind,
                "published_at": e.published_at,
                "negative_share_before": e.before,
                "negative_share_after": e.after,
                "mentions_before": e.before_count,
                "mentions_after": e.after_count,
                "after_complete": e.after_complete,
            }
            for e in talk.statements
        ],
    }


async def replies_to_statements(session, incident: str) -> list[dict[str, Any]]:
    """Per published statement, the replies to and quotes of its posts on the social networks
    (read by the worker every few minutes): how many, how many scored negative, the latest, and the
    signal a surge of negative ones raised (``communicate.replies.surge``)."""
    from store import mentions as mention_store

    counts = await mention_store.replies_by_statement(session, incident)
    latest = await mention_store.incident_replies(session, incident)
    surges = {
        row.evidence.get("statement_version"): row
        for row in await mention_store.signals_of_incident(session, incident)
        if row.topic == "replies"
    }
    return [
        {
            "version": version,
            "replies": count,
            "scored": scored,
            "negative": negative,
            "negative_share": negative / scored if scored else None,
            "surge": {"signal": surges[version].id, "summary": surges[version].summary, "link": f"/signals/{surges[version].id}"}
            if version in surges
            else None,
            "latest": [
                {
                    "platform": row.platform,
                    "author": row.author,
                    "text": row.text,
                    "url": row.url,
                    "at": row.created_at,
                    "negative": row.negative,
                }
                for row in latest
                if row.statement_version == version
            ][:20],
        }
        for version, (count, scored, negative) in sorted(counts.items())
    ]
