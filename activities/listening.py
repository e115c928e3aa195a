"""Listening activities: judge a topic's new mentions, and declare the incident a topic asks for."""

from datetime import datetime, timezone
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.detector import DetectorPool
from domain.catalog import TOPICS_FILE
from domain.listening import DetectionOrigin, DetectorState, Topic, TopicsFile, bucket_start
from store import mentions as store

BUCKETS_PER_EVALUATION = 1440  # a day of 1-minute buckets at most per pass: a long backlog is judged in steps


class Evaluation(BaseModel):
    state: DetectorState
    new_signals: list[str] = []
    declare: list[str] = []
    backlog: bool = False
    topic_known: bool = True


class TopicSource:
    """The monitored topics, re-read when ``topics.yaml`` changes (it was validated when the worker started)."""

    def __init__(self, playbooks_dir: Path):
        self._path = Path(playbooks_dir) / TOPICS_FILE
        self._loaded: tuple[float, dict[str, Topic]] | None = None

    def get(self, topic: str) -> Topic | None:
        if not self._path.exists():
            return None
        modified = self._path.stat().st_mtime
        if self._loaded is None or self._loaded[0] != modified:
            parsed = TopicsFile.model_validate(yaml.safe_load(self._path.read_text(encoding="utf-8")))
            self._loaded = (modified, {item.id: item for item in parsed.topics})
        return self._loaded[1].get(topic)


class ListeningActivities:
    def __init__(self, sessions: async_sessionmaker, topics: TopicSource, declare, detector: DetectorPool | None = None):
        """``declare(session, signal_row) -> incident id`` opens the incident through the API's one
        declaration path (``worker.build_listening_activities`` passes it). ``detector``: where a
        pass is judged (by default in a thread of the worker)."""
        self._sessions = sessions
        self._topics = topics
        self._declare = declare
        self._detector = detector or DetectorPool(0)

    def close(self) -> None:
        """Stop the detector's process, if it started."""
        self._detector.close()

    def all(self) -> list:
        return [self.evaluate_topic, self.declare_from_signal]

    @activity.defn
    async def evaluate_topic(self, state: DetectorState) -> Evaluation:
        """Judge the topic's mentions from the first unfinished bucket up to the newest mention
        (stream time), store every detection as a suggested signal, and say which to declare."""
        topic = self._topics.get(state.topic)
        if topic is None:
            return Evaluation(state=state, topic_known=False)
        async with self._sessions() as session:
            newest = await store.stream_time(session, topic.id)
            since = state.next_bucket
            if newest is None:
                return Evaluation(state=state)
            if since is None:
                since = bucket_start(await store.first_topic_mention(session, topic.id), topic.bucket)
            until = min(newest, since + BUCKETS_PER_EVALUATION * topic.bucket)
            rows, times_as_text = await store.topic_mention_rows(session, topic.id, since, until)
            # The counting is CPU work: off the event loop, and for a large pass out of the process,
            # whose interpreter the API shares in `crisis dev`.
            new_state, detections = await self._detector.judge(topic, state, rows, until, times_as_text)
            detected_at = datetime.now(timezone.utc)
            new = await store.record_signals(
                session,
                [{**detection.model_dump(), "status": "suggested", "detected_at": detected_at} for detection in detections],
            )
        for detection in detections:
            activity.logger.info("topic %s: %s (%s)", topic.id, detection.summary, detection.id)
        return Evaluation(
            state=new_state,
            new_signals=new,
            declare=[detection.id for detection in detections if topic.declare_directly],
            backlog=until < newest,
        )

    @activity.defn
    async def declare_from_signal(self, signal_id: str) -> str | None:
        """Declare the incident for a topic that declares directly; a signal someone already decided stays as they decided."""
        async with self._sessions() as session:
            signal = await store.get_signal(session, signal_id)
            if signal is None:
                raise ApplicationError(f"signal {signal_id} is not stored", non_retryable=True)
            if signal.status != "suggested":
                return signal.incident_id
            return await self._declare(session, signal)


def origin(signal, ingested_by: list[str] | None = None) -> DetectionOrigin:
    return DetectionOrigin(
        signal_id=signal.id,
        topic=signal.topic,
        reasons=signal.reasons,
        first_mention_at=signal.first_mention_at,
        detected_at=signal.detected_at,
        ingested_by=ingested_by or [],
    )
