"""Listening rules: monitored topics, which topic a mention counts for, and spike detection.

A topic's mentions are counted in buckets of stream time (the mentions' own ``created_at``). Each
bucket is compared with a rolling baseline, an exponentially weighted mean and variance of the
earlier buckets' counts (EWMA), by a z-score; a surge also needs a minimum count, so that three
posts instead of one at night is not a crisis. Two more rules look at the same bucket: the share of
negative mentions rising well above its own baseline, and keyword triggers (``hacked``,
``boycott``, ``fake`` …) that point at a scenario's playbook. Whatever fires opens one detection,
and the topic then stays quiet for its suppression window: one surge, one incident.

Everything here is plain, deterministic Python: the listening workflow carries a
:class:`DetectorState` between evaluations and the activity feeds it the buckets it read.
"""

import bisect
import heapq
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.durations import Duration, humanize
from domain.lenient import Authored
from domain.severity import Severity

TOP_POSTS = 5


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Term = Annotated[str, Field(min_length=2, max_length=100)]


class KeywordTrigger(Strict):
    """Posts using these words mean a particular kind of crisis, whatever the volume."""

    terms: list[Term] = Field(
        min_length=1, description="Any of these words (case-insensitive, whole words; a trailing * matches any ending)."
    )
    playbook: str | None = Field(None, description="Playbook to suggest when it fires; defaults to the topic's.")
    min_count: int = Field(3, ge=1, description="Mentions with a term in one bucket before it fires.")


class Topic(Strict):
    """One monitored topic, from ``topics.yaml``."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)
    name: str = Field(min_length=1, max_length=100)
    terms: list[Term] = Field(min_length=1, description="A mention whose text has any of these counts for the topic.")
    playbook: str = Field(description="Playbook suggested for a volume or sentiment surge.")
    declare_directly: bool = Field(False, description="Declare the incident at once instead of suggesting it.")
    severity: Severity | None = Field(None, description="Severity of the incident it opens; defaults to the playbook's.")
    bucket: Duration = Field(timedelta(minutes=1), description="Width of a counting bucket, in stream time.")
    baseline_weight: float = Field(0.1, gt=0, lt=1, description="EWMA weight of the newest bucket in the baseline.")
    warmup_buckets: int = Field(10, ge=1, description="Buckets of history before a volume surge can be judged.")
    z_threshold: float = Field(4.0, gt=0, description="How many standard deviations above the baseline is a surge.")
    min_count: int = Field(20, ge=1, description="Mentions in one bucket before volume or sentiment can fire.")
    negative_share: float = Field(0.6, gt=0, le=1, description="Share of negative mentions in a bucket that is alarming…")
    negative_rise: float = Field(0.25, gt=0, le=1, description="…when it is this much above the baseline share.")
    keywords: list[KeywordTrigger] = Field(default_factory=list)
    suppress_for: Duration = Field(
        timedelta(hours=6), description="After a detection, the topic opens nothing more for this long."
    )
    lateness: Duration = Field(timedelta(minutes=2), description="How late a mention may arrive and still count in the baseline.")

    @field_validator("bucket")
    @classmethod
    def _bucket_divides_a_day(cls, value: timedelta) -> timedelta:
        if int(value.total_seconds()) <= 0 or 86400 % int(value.total_seconds()):
            raise ValueError("must divide a day evenly (for example 30s, 1m, 5m, 1h)")
        return value

    def playbooks_used(self) -> list[tuple[str, str]]:
        return [("playbook", self.playbook)] + [
            (f"keywords.{index}.playbook", trigger.playbook) for index, trigger in enumerate(self.keywords) if trigger.playbook
        ]


class TopicsFile(Strict):
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "TopicsFile":
        seen: set[str] = set()
        for topic in self.topics:
            if topic.id in seen:
                raise ValueError(f"topic id '{topic.id}' is used twice")
            seen.add(topic.id)
        return self


class _Terms:
    """Whole-word, case-insensitive terms. A plain substring test of every stem screens the text
    first: most texts have none of a group's terms, and the regex is only run on those that might."""

    def __init__(self, terms: list[str]):
        self.stems = tuple({term.strip().lower().rstrip("*") for term in terms})
        parts = []
        for term in terms:
            stem = term.strip().lower()
            body = re.escape(stem.rstrip("*"))
            parts.append(rf"(?<!\w){body}" + (r"\w*" if stem.endswith("*") else r"(?!\w)"))
        self.pattern = re.compile("|".join(parts))

    def found_in(self, lowered: str) -> bool:
        return any(stem in lowered for stem in self.stems) and self.pattern.search(lowered) is not None

    def found_in_each(self, lowered: list[str], joined: str, starts: list[int]) -> list[int]:
        """The indexes of the texts in ``lowered`` that have a term, ascending, as :meth:`found_in`
        would say one by one. ``joined`` is the texts joined by one character and ``starts`` where
        each begins in it: every stem is looked for once in the whole batch (at C speed) and only the
        texts it occurs in are searched with the regex, instead of a screen in Python for every text."""
        candidates: set[int] = set()
        for stem in self.stems:
            at = joined.find(stem)
            while at != -1:
                index = bisect.bisect_right(starts, at) - 1
                candidates.add(index)
                following = index + 1
                at = joined.find(stem, starts[following]) if following < len(starts) else -1
        return sorted(index for index in candidates if self.pattern.search(lowered[index]) is not None)


class TopicMatcher:
    """Which topic a mention counts for: the one it names, else the first whose terms its text has."""

    def __init__(self, topics: list[Topic]):
        self.topics = {topic.id: topic for topic in topics}
        self.terms = tuple((topic.id, tuple(topic.terms)) for topic in topics)
        self._terms = [(topic_id, _Terms(list(terms))) for topic_id, terms in self.terms]

    @classmethod
    def from_terms(cls, terms: tuple[tuple[str, tuple[str, ...]], ...]) -> "TopicMatcher":
        """The matcher of topics with these ``terms`` (:attr:`terms` of another: small to send to a
        process, which has no catalog); it matches as that one does but knows no topic's settings."""
        matcher = cls([])
        matcher.terms = terms
        matcher._terms = [(topic_id, _Terms(list(each))) for topic_id, each in terms]
        return matcher

    def topic_for(self, text: str, named: str | None = None) -> str | None:
        if named is not None:
            return named
        lowered = text.lower()
        return next((topic_id for topic_id, terms in self._terms if terms.found_in(lowered)), None)


class KeywordMatcher:
    def __init__(self, topic: Topic):
        self.triggers = [_Terms(trigger.terms) for trigger in topic.keywords]

    def hits(self, text: str) -> list[int]:
        lowered = text.lower()
        return [index for index, terms in enumerate(self.triggers) if terms.found_in(lowered)]

    def hits_of_each(self, texts: list[str]) -> dict[int, list[int]]:
        """For each trigger that any of ``texts`` has, the indexes of those texts (what :meth:`hits`
        says text by text, for a whole batch at once)."""
        if not texts:
            return {}
        lowered = [text.lower() for text in texts]
        starts, at = [], 0
        for text in lowered:
            starts.append(at)
            at += len(text) + 1
        joined = "\n".join(lowered)
        found = {index: terms.found_in_each(lowered, joined, starts) for index, terms in enumerate(self.triggers)}
        return {index: each for index, each in found.items() if each}


# ---- detection ---------------------------------------------------------------------------------


class Post(BaseModel):
    """A mention as evidence: enough to read it and find it."""

    platform: str
    external_id: str
    author: str
    text: str
    url: str
    reach: int
    created_at: datetime


@dataclass(slots=True)
class Bucket:
    start: datetime
    count: int = 0
    scored: int = 0  # mentions with a sentiment score (a language we can read)
    negative: int = 0
    reach: int = 0
    first_at: datetime | None = None
    keyword_hits: dict[int, int] = field(default_factory=dict)  # trigger index -> mentions with its terms
    keyword_first_at: dict[int, datetime] = field(default_factory=dict)
    top: list[Post] = field(default_factory=list)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


class MentionFacts(NamedTuple):
    """One stored mention, as the detector needs it (a named tuple: a pass reads a whole batch of
    thousands, and building a frozen dataclass of each cost more than reading it)."""

    created_at: datetime
    negative: bool
    scored: bool
    reach: int
    text: str
    platform: str = ""
    external_id: str = ""
    author: str = ""
    url: str = ""

    def post(self) -> Post:
        return Post(
            platform=self.platform,
            external_id=self.external_id,
            author=self.author,
            text=self.text,
            url=self.url,
            reach=self.reach,
            created_at=self.created_at,
        )


def bucket_start(at: datetime, width: timedelta) -> datetime:
    seconds = int(width.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, timezone.utc)


def count_buckets(topic: Topic, mentions: list[MentionFacts]) -> dict[datetime, Bucket]:
    """Group mentions into the topic's buckets, with keyword hits and the top posts by reach."""
    keywords = KeywordMatcher(topic).hits_of_each([mention.text for mention in mentions]) if topic.keywords else {}
    width = int(topic.bucket.total_seconds())
    by_offset: dict[int, Bucket] = {}
    members: dict[int, list[MentionFacts]] = {}
    for mention in mentions:
        offset = int(mention.created_at.timestamp()) // width
        bucket = by_offset.get(offset)
        if bucket is None:
            bucket = by_offset[offset] = Bucket(start=datetime.fromtimestamp(offset * width, timezone.utc))
            members[offset] = []
        members[offset].append(mention)
        bucket.count += 1
        bucket.reach += mention.reach
        if mention.scored:
            bucket.scored += 1
            bucket.negative += mention.negative
        if bucket.first_at is None or mention.created_at < bucket.first_at:
            bucket.first_at = mention.created_at
    for index, found in keywords.items():  # in trigger order, as the evidence lists them
        for mention in (mentions[each] for each in found):
            bucket = by_offset[int(mention.created_at.timestamp()) // width]
            bucket.keyword_hits[index] = bucket.keyword_hits.get(index, 0) + 1
            first = bucket.keyword_first_at.get(index)
            if first is None or mention.created_at < first:
                bucket.keyword_first_at[index] = mention.created_at
    for offset, bucket in by_offset.items():
        top = heapq.nsmallest(TOP_POSTS, members[offset], key=lambda mention: (-mention.reach, mention.created_at))
        bucket.top = [mention.post() for mention in top]
    return {bucket.start: bucket for bucket in by_offset.values()}


class DetectorState(BaseModel):
    """What a topic's detector remembers between evaluations (it travels through continue-as-new)."""

    topic: str
    next_bucket: datetime | None = Field(None, description="The first bucket not yet final; None before the first mention.")
    mean: float = 0.0
    variance: float = 0.0
    negative_share: float | None = None
    buckets_seen: int = 0
    suppressed_until: datetime | None = None


class Detection(BaseModel):
    id: str
    topic: str
    reasons: list[str]
    playbook: str
    bucket_start: datetime
    first_mention_at: datetime
    stream_time: datetime
    title: str
    summary: str
    evidence: dict


class DetectionOrigin(BaseModel):
    """Carried by an incident opened from a detection: where it came from and when the conversation
    started, so time to detect (first mention → detection → declaration) can be measured."""

    signal_id: str
    topic: str
    reasons: list[str]
    first_mention_at: datetime
    detected_at: datetime
    ingested_by: list[str] = Field(default_factory=list, description="The API keys whose mentions made the surge.")


def signal_id(topic: str, start: datetime) -> str:
    return f"sig-{topic}-{start.strftime('%Y%m%dT%H%M%SZ')}"


def _spread(state: DetectorState) -> float:
    """The baseline's standard deviation, never below a Poisson count's (√mean) or 1: a very
    steady stream must not make a handful of extra posts look like a surge."""
    return max(math.sqrt(state.variance), math.sqrt(state.mean), 1.0)


def judge(topic: Topic, state: DetectorState, bucket: Bucket, stream_time: datetime) -> Detection | None:
    """Does this bucket (complete or still filling) show a surge? Suppression is the caller's."""
    reasons: list[str] = []
    playbook = topic.playbook
    spread = _spread(state)
    z = (bucket.count - state.mean) / spread
    if state.buckets_seen >= topic.warmup_buckets and bucket.count >= topic.min_count and z >= topic.z_threshold:
        reasons.append("volume")
    share = bucket.negative_share
    baseline_share = state.negative_share if state.negative_share is not None else 0.0
    if (
        share is not None
        and bucket.scored >= topic.min_count
        and share >= topic.negative_share
        and share - baseline_share >= topic.negative_rise
    ):
        reasons.append("negative_sentiment")
    keyword_first: list[datetime] = []
    for index, trigger in enumerate(topic.keywords):
        hits = bucket.keyword_hits.get(index, 0)
        if hits >= trigger.min_count:
            reasons.append(f"keyword:{trigger.terms[0]}")
            keyword_first.append(bucket.keyword_first_at[index])
            if trigger.playbook and playbook == topic.playbook:
                playbook = trigger.playbook
    if not reasons:
        return None
    first = bucket.first_at or bucket.start
    evidence = {
        "bucket_start": bucket.start.isoformat(),
        "bucket_seconds": int(topic.bucket.total_seconds()),
        "count": bucket.count,
        "baseline_mean": round(state.mean, 2),
        "baseline_sd": round(spread, 2),
        "z_score": round(z, 2),
        "negative": bucket.negative,
        "scored": bucket.scored,
        "negative_share": None if share is None else round(share, 3),
        "baseline_negative_share": None if state.negative_share is None else round(state.negative_share, 3),
        "keyword_hits": {topic.keywords[i].terms[0]: n for i, n in sorted(bucket.keyword_hits.items())},
        "reach": bucket.reach,
        "top_posts": [post.model_dump(mode="json") for post in bucket.top],
    }
    return Detection(
        id=signal_id(topic.id, bucket.start),
        topic=topic.id,
        reasons=reasons,
        playbook=playbook,
        bucket_start=bucket.start,
        first_mention_at=first,
        stream_time=stream_time,
        title=f"Mention surge: {topic.name}"[:200],
        summary=_summary(topic, bucket, state, spread, reasons, first),
        evidence=evidence,
    )


def _summary(topic: Topic, bucket: Bucket, state: DetectorState, spread: float, reasons: list[str], first: datetime) -> str:
    minutes = topic.bucket.total_seconds() / 60
    width = f"{minutes:g} min" if minutes >= 1 else f"{topic.bucket.total_seconds():g} s"
    parts = [
        f"{bucket.count} mentions of {topic.name} in {width} from {bucket.start:%Y-%m-%d %H:%M:%S} UTC "
        f"(baseline {state.mean:.1f} ± {spread:.1f})"
    ]
    if bucket.negative_share is not None:
        parts.append(f"{bucket.negative_share:.0%} negative")
    for index, hits in sorted(bucket.keyword_hits.items()):
        trigger = topic.keywords[index]
        if hits >= trigger.min_count:
            parts.append(f"{hits} with '{trigger.terms[0]}'")
    parts.append(f"reach {bucket.reach:,}")
    return "; ".join(parts) + f". Detected by {', '.join(reasons)}. First mention at {first:%H:%M:%S} UTC."


def _learn(topic: Topic, state: DetectorState, bucket: Bucket) -> None:
    """Fold a final bucket into the baseline. A surge is clipped to the threshold so that one burst
    does not teach the baseline that bursts are normal; slow growth is followed, by design."""
    weight = topic.baseline_weight
    if state.buckets_seen == 0:
        state.mean, state.variance = float(bucket.count), 0.0
    else:
        ceiling = state.mean + topic.z_threshold * _spread(state)
        count = min(float(bucket.count), ceiling) if state.buckets_seen >= topic.warmup_buckets else float(bucket.count)
        difference = count - state.mean
        increment = weight * difference
        state.mean += increment
        state.variance = (1 - weight) * (state.variance + difference * increment)
    share = bucket.negative_share
    if share is not None and bucket.scored >= max(3, topic.min_count // 4):
        state.negative_share = share if state.negative_share is None else (1 - weight) * state.negative_share + weight * share
    state.buckets_seen += 1


def evaluate(
    topic: Topic, state: DetectorState, buckets: dict[datetime, Bucket], stream_time: datetime
) -> tuple[DetectorState, list[Detection]]:
    """Walk the buckets from ``state.next_bucket`` up to ``stream_time``: judge each (an empty bucket
    counts as zero), learn from those no late mention can still change, and return the new state
    with the detections that are not suppressed. Pure: the same input gives the same answer."""
    state = state.model_copy(deep=True)
    detections: list[Detection] = []
    if state.next_bucket is None:
        if not buckets:
            return state, detections
        state.next_bucket = min(buckets)
    width = topic.bucket
    final_before = stream_time - topic.lateness
    start = bucket_start(state.next_bucket, width)  # realigned if topics.yaml changed the bucket width
    while start <= stream_time:
        bucket = buckets.get(start) or Bucket(start=start)
        if state.suppressed_until is None or start >= state.suppressed_until:
            detection = judge(topic, state, bucket, stream_time)
            if detection is not None:
                detections.append(detection)
                state.suppressed_until = start + topic.suppress_for
        if start + width <= final_before:
            _learn(topic, state, bucket)
            state.next_bucket = start + width
        start += width
    return state, detections


# ---- the conversation under our own posts --------------------------------------------------------


class ReplySurge(Authored):
    """When the replies to and quotes of one statement's posts turn against us: at least
    ``min_negative`` negative ones within ``within`` (their own post times), making up at least
    ``negative_share`` of the scored replies in that window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within: Duration = Field(
        timedelta(minutes=15), description="Width of the window the replies are counted in (their post times)."
    )
    min_negative: int = Field(10, ge=1, description="Negative replies in one window before it is a surge.")
    negative_share: float = Field(0.6, gt=0, le=1, description="Share of the window's scored replies that must be negative.")


class RepliesWatch(Authored):
    """How the replies to the incident's posts are read and judged (``communicate.replies``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_every: Duration = Field(
        timedelta(minutes=5), description="How often the replies are read while the incident is open (and once at the close)."
    )
    surge: ReplySurge = Field(
        default_factory=ReplySurge, description="A surge of negative replies to one statement raises a signal on the incident."
    )


def reply_signal_id(incident_id: str, version: int) -> str:
    return f"sig-replies-{incident_id}-v{version}"


def reply_surge(
    rule: ReplySurge, incident_id: str, playbook: str, version: int, kind: str, replies: list[MentionFacts]
) -> Detection | None:
    """The first window of ``rule.within`` in which the replies to statement ``version`` turned
    negative enough, as a detection tied to the incident (one per statement: the same conversation
    is not raised twice), or None. Unscored replies (a language we cannot read) count in the window
    but not in its share."""
    ordered = sorted(replies, key=lambda reply: reply.created_at)
    start = negative = scored = 0
    for end, reply in enumerate(ordered):
        negative += reply.scored and reply.negative
        scored += reply.scored
        while ordered[start].created_at <= reply.created_at - rule.within:
            negative -= ordered[start].scored and ordered[start].negative
            scored -= ordered[start].scored
            start += 1
        if end + 1 < len(ordered) and ordered[end + 1].created_at == reply.created_at:
            continue  # replies posted at the same time are judged together
        if negative >= rule.min_negative and negative / scored >= rule.negative_share:
            window = ordered[start : end + 1]
            return _reply_detection(rule, incident_id, playbook, version, kind, window, negative, scored)
    return None


def _reply_detection(
    rule: ReplySurge,
    incident_id: str,
    playbook: str,
    version: int,
    kind: str,
    window: list[MentionFacts],
    negative: int,
    scored: int,
) -> Detection:
    first, last = window[0].created_at, window[-1].created_at
    top = heapq.nsmallest(
        TOP_POSTS, [reply for reply in window if reply.negative], key=lambda reply: (-reply.reach, reply.created_at)
    )
    share = negative / scored
    summary = (
        f"{negative} of {scored} replies to statement v{version} ({kind}) within {humanize(rule.within)} are negative"
        f" ({share:.0%}), from {first:%Y-%m-%d %H:%M:%S} UTC; the surge rule asks for {rule.min_negative} and"
        f" {rule.negative_share:.0%}."
    )
    return Detection(
        id=reply_signal_id(incident_id, version),
        topic="replies",
        reasons=["negative_replies"],
        playbook=playbook,
        bucket_start=first,
        first_mention_at=first,
        stream_time=last,
        title=f"Negative replies to statement v{version} of {incident_id}"[:200],
        summary=summary,
        evidence={
            "incident_id": incident_id,
            "statement_version": version,
            "count": len(window),
            "scored": scored,
            "negative": negative,
            "negative_share": round(share, 3),
            "within_seconds": int(rule.within.total_seconds()),
            "min_negative": rule.min_negative,
            "rule_negative_share": rule.negative_share,
            "platforms": sorted({reply.platform for reply in window}),
            "top_posts": [reply.post().model_dump(mode="json") for reply in top],
        },
    )
