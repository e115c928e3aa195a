"""The one interface every sender implements."""

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.safe_text import printable


class ChannelKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"
    PUBLIC = "public"


class ChatKind(StrEnum):
    """The team's chat rooms, beside the paging channels (see activities/chat.py)."""

    SLACK = "slack"
    TEAMS = "teams"


class Link(BaseModel):
    label: str
    url: str


class PublicPost(BaseModel):
    """A statement as a social network or status page publishes it (see channels/social.py)."""

    statement: str = Field(description="holding, update or resolution.")
    thread: str | None = Field(None, description="This target's post id of the incident's first statement: updates reply to it.")
    severity: str | None = Field(None, description="SEV1…SEV4: the status page's impact.")
    components: list[str] = Field(default_factory=list, description="Status page component ids the incident affects.")
    headline: str | None = Field(None, description="The status page incident's public name.")


class OutgoingMessage(BaseModel):
    ledger_key: str = Field(description="Stable across retries of the same send: workflow id + activity id + kind.")
    incident_id: str
    person_id: str | None
    kind: str
    channel: ChannelKind | ChatKind
    address: str | None = Field(None, description="Phone or email; never stored by crisisflow.")
    subject: str
    body: str
    html: str | None = Field(None, description="Email only: the HTML part; None renders one from body and links.")
    links: list[Link] = Field(default_factory=list)
    drill: bool = False
    language: str = Field("en", description="The incident's language: a phone call reads the page in it.")
    action: str | None = Field(None, description="The single-use action token a chat button carries (Slack); never stored.")
    post: PublicPost | None = Field(
        None, description="Publishing targets only: what a social network or status page needs besides the text."
    )


class Delivery(BaseModel):
    channel: str
    accepted: bool
    duplicate: bool = False
    provider_id: str | None = None
    url: str | None = Field(None, description="Publishing targets: where the public reads the post.")
    error: str | None = Field(None, description="Why a channel refused the message for good (accepted is then False).")


class DeliveryError(Exception):
    """A channel could not hand the message to its provider."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_PHONE = re.compile(r"\+\d[\d ()-]{5,}\d|\b\d{8,15}\b")
_EMAIL = re.compile(r"[^@\s<>\"',;:]+@[^@\s<>\"',;:]+")


def redact(text: str) -> str:
    """A provider's error text without phone numbers or email addresses: reasons end up in the
    ledger, the logs and the workflow history, which hold no personal data; nor control characters,
    which PostgreSQL or a log line would not take."""
    return printable(_PHONE.sub("<phone>", _EMAIL.sub("<email>", text)))


class TransientDeliveryError(DeliveryError):
    """Worth retrying: rate limits (429), provider errors (5xx), connection errors, timeouts. The
    activity fails and Temporal retries it with backoff; the ledger keeps a retry from sending twice.
    ``retry_after``: seconds the provider asked us to wait (a 429's reset header), if it said."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the provider refused this message (invalid number, unsubscribed
    recipient, invalid address, bad credentials). Recorded in the ledger; the other channels still go."""


def classify_status(status: int, reason: str) -> DeliveryError:
    """A provider's HTTP refusal: 408, 425, 429 and 5xx are worth retrying; any other is final for
    this message (invalid number or address, unsubscribed recipient, bad credentials)."""
    if status in (408, 425, 429) or status >= 500:
        return TransientDeliveryError(reason)
    return PermanentDeliveryError(reason)


T = TypeVar("T")

# Calls a provider's synchronous SDK may make at once, by default: one per notify activity the
# worker runs at a time (CRISIS_WORKER_MAX_CONCURRENT_ACTIVITIES), each sending once per channel.
DEFAULT_CONCURRENCY = 100


class SdkThreads:
    """The threads a synchronous provider SDK runs in, so the event loop never blocks. Its own pool,
    sized for the calls that may be in flight at once: asyncio's default pool has ``cores + 4``
    threads, which would cap a fan-out at six calls in flight on a two-core machine. Threads are
    started only as calls need them."""

    def __init__(self, name: str, concurrency: int = DEFAULT_CONCURRENCY):
        self.concurrency = concurrency
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)

    async def run(self, call: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> Delivery: ...


@runtime_checkable
class StoredChannel(Channel, Protocol):
    """A channel whose provider is our own database (the outbox): ``store_all`` takes messages (of
    distinct ledger keys) in the caller's transaction, in one statement, not committed."""

    async def store_all(self, connection: AsyncConnection, messages: list[OutgoingMessage]) -> list[Delivery]: ...
