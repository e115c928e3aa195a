"""A statement as a set of channel variants, each measured the way its channel measures it.

A template renders three forms (``title``, ``short`` and ``long``); every channel takes one of
them and, for the status page and email, the title too. Each variant carries its length and its
channel's limit in the channel's own unit. Approval covers the whole set (one SHA-256 over it)
and each publishing target sends exactly its channel's variant, refusing it rather than cutting
it when it is over the limit.

How each channel counts:

- **X**: twitter-text v3 weighting, as X's own validator does: the text is NFC-normalised, a URL
  counts 23 whatever its length, an emoji (a whole sequence, flags and skin tones included) 2,
  code points in the Latin, Latin-extended, Greek, Cyrillic… blocks (U+0000–U+10FF) and general
  punctuation (U+2000–U+200D, U+2010–U+201F, U+2032–U+2037) 1, everything else (CJK, …) 2.
- **Bluesky**: 300 graphemes (user-perceived characters: an emoji with a skin tone is one).
- **Mastodon**: 500 graphemes, a URL counting 23 (Mastodon's ``StatusLengthValidator``).
- **Threads**: 500 characters, an emoji counting as many as its UTF-8 bytes (Threads API).
- **LinkedIn** 3,000 and **Instagram** 2,200 characters (code points).
- **SMS**: segments. Text that GSM-7 can carry takes 160 septets in one segment and 153 a
  segment once split (``^{}[]~|€\\`` take two septets); anything else (ą, ę, ó, ł, –, emoji…)
  makes the whole message UCS-2: 70 UTF-16 units in one segment, 67 a segment once split. A
  statement takes at most 5 segments (765 GSM-7 or 335 UCS-2 characters: about the 320 characters
  Twilio advises as the longest message that reads well).
- **Status page** and **email**: a title (the incident name, the subject) and a body, in characters.
"""

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import regex
from pydantic import BaseModel, Field


class Form(StrEnum):
    TITLE = "title"
    SHORT = "short"
    LONG = "long"


class Channel(StrEnum):
    X = "x"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    THREADS = "threads"
    LINKEDIN = "linkedin"
    INSTAGRAM = "instagram"
    SMS = "sms"
    STATUS_PAGE = "status_page"
    EMAIL = "email"


# ---- counting ------------------------------------------------------------------------------------

URL_LENGTH = 23  # what X and Mastodon count for any link (t.co / a shortened link's length)

_TLDS = "com|org|net|pl|eu|io|co|uk|de|fr|app|info|biz|gov|edu|me|ly|shop|store|online|site"
_URL = regex.compile(
    rf"""(?:https?://[^\s<>"]+|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>"]*)?)""",
    regex.IGNORECASE,
)
_TRAILING = ".,;:!?'\")]}"
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
_GRAPHEME = regex.compile(r"\X")
# twitter-text v3: code point ranges weighing 1; all others weigh 2.
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"


def urls(text: str) -> list[str]:
    """The links a channel shortens, as twitter-text finds them (trailing punctuation is not part of one)."""
    return [match.group().rstrip(_TRAILING) for match in _URL.finditer(text)]


def _without_urls(text: str) -> tuple[str, int]:
    """The text with each link taken out, and how many there were."""
    found = 0
    pieces, last = [], 0
    for match in _URL.finditer(text):
        link = match.group().rstrip(_TRAILING)
        pieces.append(text[last : match.start()])
        last = match.start() + len(link)
        found += 1
    pieces.append(text[last:])
    return "".join(pieces), found


def graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def _is_emoji(grapheme: str) -> bool:
    return bool(_EMOJI.search(grapheme))


def x_weighted_length(text: str) -> int:
    rest, links = _without_urls(unicodedata.normalize("NFC", text))
    weight = links * URL_LENGTH
    for cluster in graphemes(rest):
        if _is_emoji(cluster):
            weight += 2
            continue
        for char in cluster:
            code = ord(char)
            weight += 1 if any(start <= code <= end for start, end in _X_LIGHT) else 2
    return weight


def mastodon_length(text: str) -> int:
    rest, links = _without_urls(text)
    return len(graphemes(rest)) + links * URL_LENGTH


def threads_length(text: str) -> int:
    return sum(len(cluster.encode("utf-8")) if _is_emoji(cluster) else len(cluster) for cluster in graphemes(text))


def sms_encoding(text: str) -> str:
    allowed = set(GSM7_BASIC) | set(GSM7_EXTENSION)
    return "GSM-7" if all(char in allowed for char in text) else "UCS-2"


def sms_segments(text: str) -> int:
    if not text:
        return 0
    if sms_encoding(text) == "GSM-7":
        septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


# ---- the channels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    channel: Channel
    label: str
    form: Form
    limit: int
    unit: str
    measure: Callable[[str], int]
    title_limit: int | None = None


TITLE_LIMIT = 120  # a status page's incident name and an email's subject: a headline with "Update: " and "[DRILL] " before it

CHANNELS: dict[Channel, ChannelSpec] = {
    spec.channel: spec
    for spec in (
        ChannelSpec(Channel.X, "X", Form.SHORT, 280, "weighted characters", x_weighted_length),
        ChannelSpec(Channel.BLUESKY, "Bluesky", Form.SHORT, 300, "graphemes", lambda text: len(graphemes(text))),
        ChannelSpec(Channel.MASTODON, "Mastodon", Form.SHORT, 500, "characters", mastodon_length),
        ChannelSpec(Channel.THREADS, "Threads", Form.SHORT, 500, "characters", threads_length),
        ChannelSpec(Channel.SMS, "SMS", Form.SHORT, 5, "segments", sms_segments),
        ChannelSpec(Channel.LINKEDIN, "LinkedIn", Form.LONG, 3000, "characters", len),
        ChannelSpec(Channel.INSTAGRAM, "Instagram", Form.LONG, 2200, "characters", len),
        ChannelSpec(Channel.STATUS_PAGE, "status page", Form.LONG, 5000, "characters", len, TITLE_LIMIT),
        ChannelSpec(Channel.EMAIL, "email", Form.LONG, 10000, "characters", len, TITLE_LIMIT),
    )
}


class Variant(BaseModel):
    """A statement's text for one channel, measured in the channel's unit."""

    channel: Channel
    text: str
    length: int
    limit: int
    unit: str
    title: str | None = Field(None, description="The status page's incident name or the email's subject.")
    title_length: int | None = None
    title_limit: int | None = None

    def problems(self) -> list[str]:
        """Why this variant cannot go out as it is, each naming the channel and the numbers."""
        found = []
        if self.length > self.limit:
            found.append(f"{self.channel.value}: {self.length} {self.unit}, over the limit of {self.limit}")
        if self.title_limit is not None and (self.title_length or 0) > self.title_limit:
            found.append(f"{self.channel.value}: title of {self.title_length} characters, over the limit of {self.title_limit}")
        if self.title_limit is not None and not (self.title or "").strip():
            found.append(f"{self.channel.value}: needs a title")
        if not self.text.strip():
            found.append(f"{self.channel.value}: empty")
        return found

    @property
    def fits(self) -> bool:
        return not self.problems()


def variant(channel: Channel, text: str, title: str | None = None) -> Variant:
    spec = CHANNELS[channel]
    with_title = spec.title_limit is not None
    return Variant(
        channel=channel,
        text=text,
        length=spec.measure(text),
        limit=spec.limit,
        unit=spec.unit,
        title=title if with_title else None,
        title_length=len(title or "") if with_title else None,
        title_limit=spec.title_limit,
    )


def build_variants(forms: dict[Form, str], channels: list[Channel] | None = None) -> list[Variant]:
    """One variant per channel (every channel unless ``channels`` names some), from the forms."""
    wanted = channels or list(CHANNELS)
    title = forms.get(Form.TITLE)
    return [variant(channel, forms[CHANNELS[channel].form], title) for channel in CHANNELS if channel in wanted]


def problems(variants: list[Variant]) -> list[str]:
    return [problem for item in variants for problem in item.problems()]


def set_sha256(variants: list[Variant]) -> str:
    """One hash over the whole set: every channel, title and text, in the channels' order."""
    canonical = [[item.channel.value, item.title, item.text] for item in variants]
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def variant_sha256(item: Variant) -> str:
    """What a target that published ``item`` must report: the hash of its title (if any) and text."""
    sent = f"{item.title}\n\n{item.text}" if item.title is not None else item.text
    return hashlib.sha256(sent.encode("utf-8")).hexdigest()


def find(variants: list[Variant], channel: Channel | str) -> Variant | None:
    return next((item for item in variants if item.channel == channel), None)


def describe(variants: list[Variant]) -> str:
    """The set as approvers read it: each distinct text once, with the channels that carry it."""
    lines: list[str] = []
    titles = [item for item in variants if item.title is not None]
    if titles:
        names = ", ".join(CHANNELS[item.channel].label for item in titles)
        lines += [f"— Title ({names}) —", titles[0].title or "", ""]
    groups: dict[str, list[Variant]] = {}
    for item in variants:
        groups.setdefault(item.text, []).append(item)
    for text, items in groups.items():
        counts = ", ".join(f"{CHANNELS[item.channel].label} {item.length}/{item.limit}" for item in items)
        lines += [f"— {counts} —", text, ""]
    return "\n".join(lines).rstrip()
