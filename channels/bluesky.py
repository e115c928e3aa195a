"""Posts on Bluesky through the ``atproto`` SDK (its asyncio client).

Signs in to the account's PDS with an app password (``BLUESKY_HANDLE``, ``BLUESKY_APP_PASSWORD``;
``com.atproto.server.createSession``, once, then the SDK refreshes the session) and creates
``app.bsky.feed.post`` records in the account's repository; links in the text get link facets so
they are clickable. An update replies to the incident's first post: its ``reply`` reference names
that post (uri and cid) as root and parent. The post id kept in the ledger is the record's AT URI;
its public URL is ``https://bsky.app/profile/<did>/post/<rkey>``.

Replies and quotes are read through the PDS, which hands ``app.bsky.feed.getPostThread`` and
``getQuotes`` to the Bluesky AppView it is configured with.
"""

import asyncio
import logging
import re

from atproto import AsyncClient, AtUri, models
from atproto_client.exceptions import (
    AtProtocolError,
    InvokeTimeoutError,
    NetworkError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import AsyncRequest

from channels.base import Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.social import BLUESKY_TARGET, Reply, graphemes, only_statements, refusal, refuse_over_limit

log = logging.getLogger("crisisflow.bluesky")

BLUESKY_PDS_URL = "https://bsky.social"
BLUESKY_LIMIT = 300  # graphemes
POST_COLLECTION = "app.bsky.feed.post"
_URL = re.compile(r"https?://[^\s)\]]+")


class SessionRefused(PermanentDeliveryError):
    """A 401: the session expired or was revoked (signing in again may help), or the password is wrong."""


def link_facets(text: str) -> list[models.AppBskyRichtextFacet.Main] | None:
    """A link facet for every URL in ``text`` (byte offsets in UTF-8, as the lexicon says)."""
    facets = []
    for match in _URL.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        facets.append(
            models.AppBskyRichtextFacet.Main(
                index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
                features=[models.AppBskyRichtextFacet.Link(uri=match.group())],
            )
        )
    return facets or None


def post_url(uri: str) -> str:
    at = AtUri.from_str(uri)
    return f"https://bsky.app/profile/{at.host}/post/{at.rkey}"


class BlueskyChannel:
    name = BLUESKY_TARGET
    limit = BLUESKY_LIMIT

    def __init__(self, pds_url: str | None, handle: str, app_password: str, timeout: float = 10.0, language: str = "en"):
        self.pds_url = (pds_url or BLUESKY_PDS_URL).rstrip("/")
        self._handle = handle
        self._password = app_password
        self._timeout = timeout
        self._language = language
        self._client: AsyncClient | None = None
        self._did: str | None = None
        self._signing_in = asyncio.Lock()

    def __repr__(self) -> str:  # never the password
        return f"BlueskyChannel(pds_url={self.pds_url!r}, handle={self._handle!r})"

    def length(self, text: str) -> int:
        return graphemes(text)

    def public_url(self, post_id: str) -> str:
        return post_url(post_id)

    async def _signed_in(self, again: bool = False) -> tuple[AsyncClient, str]:
        async with self._signing_in:
            if self._client is None or again:
                client = AsyncClient(self.pds_url, request=AsyncRequest(timeout=self._timeout))
                await self._call(client.login(self._handle, self._password, fetch_bsky_profile=False))
                self._client, self._did = client, client._session.did
            return self._client, self._did

    async def _as_account(self, work):
        """``work(client, did)`` signed in; signs in again once if the session was revoked or expired."""
        client, did = await self._signed_in()
        try:
            return await self._call(work(client, did))
        except SessionRefused:
            log.info("the Bluesky session was refused: signing in again")
        client, did = await self._signed_in(again=True)
        return await self._call(work(client, did))

    async def send(self, message: OutgoingMessage) -> Delivery:
        only_statements(self.name, message)
        refuse_over_limit(self, message)
        thread = message.post.thread if message.post else None

        async def post(client: AsyncClient, did: str):
            reply = None
            if thread:
                root_at = AtUri.from_str(thread)
                root = await client.com.atproto.repo.get_record(
                    {"repo": root_at.host, "collection": POST_COLLECTION, "rkey": root_at.rkey}
                )
                ref = models.ComAtprotoRepoStrongRef.Main(uri=root.uri, cid=root.cid)
                reply = models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref)
            return await client.send_post(
                message.body, profile_identify=did, reply_to=reply, langs=[self._language], facets=link_facets(message.body)
            )

        created = await self._as_account(post)
        log.info("%s posted to Bluesky as %s%s", message.ledger_key, created.uri, f" (reply to {thread})" if thread else "")
        return Delivery(channel=self.name, accepted=True, provider_id=created.uri, url=post_url(created.uri))

    async def read_back(self, uri: str) -> str:
        """The text of one of our posts as the PDS holds it."""
        at = AtUri.from_str(uri)

        async def read(client: AsyncClient, _did: str):
            return await client.com.atproto.repo.get_record({"repo": at.host, "collection": POST_COLLECTION, "rkey": at.rkey})

        return (await self._as_account(read)).value.text

    async def replies(self, post_id: str) -> list[Reply]:
        """Direct replies in the post's thread and quotes of it, without our own posts."""

        async def read(client: AsyncClient, did: str):
            thread = await client.get_post_thread(post_id, depth=1, parent_height=0)
            quotes = await client.app.bsky.feed.get_quotes({"uri": post_id, "limit": 100})
            return did, thread, quotes

        did, thread, quotes = await self._as_account(read)
        posts = [(reply.post, False) for reply in (getattr(thread.thread, "replies", None) or []) if getattr(reply, "post", None)]
        posts += [(post, True) for post in quotes.posts]
        return [
            Reply(
                id=post.uri,
                author=f"@{post.author.handle}",
                text=getattr(post.record, "text", "") or "",
                url=post_url(post.uri),
                posted_at=post.indexed_at,
                quote=quote,
            )
            for post, quote in posts
            if post.author.did != did
        ]

    async def _call(self, awaitable):
        try:
            return await awaitable
        except InvokeTimeoutError:
            raise TransientDeliveryError(f"{self.name} did not answer within {self._timeout:g} s") from None
        except NetworkError as error:
            if error.response is not None:
                raise refusal(self.name, error.response.status_code, _said(error), error.response.headers) from None
            raise TransientDeliveryError(f"cannot reach {self.name}: {type(error).__name__}") from None
        except UnauthorizedError as error:
            raise SessionRefused(refusal(self.name, 401, _said(error)).reason) from None
        except RequestErrorBase as error:
            status = error.response.status_code if error.response is not None else 500
            raise refusal(self.name, status, _said(error), error.response.headers if error.response is not None else {}) from None
        except AtProtocolError as error:
            raise TransientDeliveryError(f"{self.name}: {type(error).__name__}") from None


def _said(error: RequestErrorBase) -> str:
    content = error.response.content if error.response is not None else None
    if content is not None and hasattr(content, "message"):
        return f"{getattr(content, 'error', '')}: {content.message}"
    return str(content or "")[:200]
