"""What the social networks and the status page have in common: limits, refusals, rate limits, replies.

Each publisher (``channels/x.py``, ``mastodon.py``, ``bluesky.py``, ``statuspage.py``) is a
:class:`~channels.base.Channel` named after its target: ``send`` publishes one approved statement
(``message.body``, exactly; a text over the network's limit is refused, never cut) and answers the
post's id and public URL; ``public_url`` rebuilds that URL from the id alone (a retry that finds the
post in the ledger has only the id); ``replies`` reads what people answered under a post.
"""

import email.utils
import re
import time
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from channels.base import Channel, DeliveryError, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError, redact

X_TARGET = "x"
MASTODON_TARGET = "mastodon"
BLUESKY_TARGET = "bluesky"
STATUSPAGE_TARGET = "statuspage"
SOCIAL_TARGETS = (X_TARGET, MASTODON_TARGET, BLUESKY_TARGET, STATUSPAGE_TARGET)
REPLY_TARGETS = (X_TARGET, MASTODON_TARGET, BLUESKY_TARGET)  # where people answer our posts

# Longest wait a provider's reset header may ask for before the retry (X resets every 15 minutes).
MAX_RETRY_AFTER_S = 15 * 60.0
_URL = re.compile(r"https?://\S+")
URL_WEIGHT = 23  # X and Mastodon count every link as 23 characters, whatever its length


class Reply(BaseModel):
    """A reply to (or quote of) one of our posts, as the listening stream takes it."""

    id: str = Field(description="The network's id of the reply.")
    author: str
    text: str
    url: str | None = None
    posted_at: datetime | None = None
    quote: bool = False


def when(value) -> datetime | None:
    """A provider's timestamp (ISO 8601), or None when it is not one."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@runtime_checkable
class SocialChannel(Channel, Protocol):
    limit: int | None

    def length(self, text: str) -> int: ...

    def public_url(self, post_id: str) -> str | None: ...

    async def replies(self, post_id: str) -> list[Reply]: ...


def x_length(text: str) -> int:
    """A post's length as X counts it (twitter-text v3): a link is 23, a character in the Latin,
    general punctuation and similar ranges is 1, any other (CJK, emoji) is 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += _x_weight(text[position : match.start()]) + URL_WEIGHT * 2
        position = match.end()
    return (total + _x_weight(text[position:])) // 2


def _x_weight(text: str) -> int:
    weight = 0
    for char in text:
        code = ord(char)
        light = code <= 4351 or 8192 <= code <= 8205 or 8208 <= code <= 8223 or 8242 <= code <= 8247
        weight += 2 if light else 4
    return weight


def mastodon_length(text: str) -> int:
    """Mastodon's count: characters, with every link as 23."""
    return len(_URL.sub("x" * URL_WEIGHT, text))


def graphemes(text: str) -> int:
    """Bluesky's limit is in graphemes: characters, not counting the combining marks and joiners
    that belong to the one before (an approximation of Unicode grapheme clusters that holds for
    accented letters and joined emoji)."""
    count, joined = 0, False
    for char in text:
        if joined or unicodedata.combining(char) or char in "\u200d\ufe0f\ufe0e" or 0x1F3FB <= ord(char) <= 0x1F3FF:
            joined = char == "\u200d"
            continue
        count += 1
    return count


def refuse_over_limit(channel: SocialChannel, message: OutgoingMessage) -> None:
    """A statement longer than the network takes is refused, never cut: the public reads exactly what was approved."""
    if channel.limit is not None and (length := channel.length(message.body)) > channel.limit:
        raise PermanentDeliveryError(
            f"{channel.name}: the statement is {length} characters, over the {channel.limit} {channel.name} takes; "
            "not cut (what was approved is what goes out): approve a shorter text or a variant for this channel"
        )


def only_statements(channel_name: str, message: OutgoingMessage) -> None:
    """Social networks and the status page publish statements only: a "pause scheduled posts"
    notice is for a scheduling tool's webhook, never for the public."""
    if not message.kind.startswith("statement."):
        raise PermanentDeliveryError(f"{channel_name} publishes statements only, not {message.kind}")


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait as the provider asks: ``Retry-After`` (seconds or an HTTP date), else a
    rate-limit reset time (``x-rate-limit-reset`` on X, ``ratelimit-reset`` on Bluesky: epoch
    seconds; ``X-RateLimit-Reset`` on Mastodon: an ISO 8601 time)."""
    now = time.time() if now is None else now
    lowered = {key.lower(): value for key, value in headers.items()}
    wait = None
    if (value := lowered.get("retry-after")) is not None:
        try:
            wait = float(value)
        except ValueError:
            try:
                wait = email.utils.parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                wait = None
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        if wait is not None or (value := lowered.get(name)) is None:
            continue
        try:
            wait = float(value) - now
        except ValueError:
            try:
                wait = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() - now
            except ValueError:
                wait = None
    if wait is None:
        return None
    return min(max(wait, 1.0), MAX_RETRY_AFTER_S)


def refusal(target: str, status: int, said: str, headers: Mapping[str, str] | None = None) -> DeliveryError:
    """A provider's HTTP refusal of a post: 401 and 403 (a revoked token, a missing scope, a
    suspended account) are final and named so; 408, 425, 429 (with the provider's wait) and 5xx are
    retried; any other 4xx is final."""
    said = " ".join(said.split())[:200]
    reason = redact(f"{target} answered {status}" + (f": {said}" if said else ""))
    if status in (401, 403):
        return PermanentDeliveryError(f"{reason} (check the {target} credentials and their permissions)")
    if status in (408, 420, 425, 429) or status >= 500:
        return TransientDeliveryError(reason, retry_after(headers or {}) if status in (420, 429, 503) else None)
    return PermanentDeliveryError(reason)
