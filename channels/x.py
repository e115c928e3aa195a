"""Posts on X through X's official Python SDK, ``xdk`` (the X Developer Platform's own, generated
from the same OpenAPI description the contract tests serve).

``POST /2/tweets`` with an OAuth 2.0 user access token (scope ``tweet.write tweet.read
users.read``; ``X_ACCESS_TOKEN``); an update replies to the incident's first post
(``reply.in_reply_to_tweet_id``), so the statements read as one thread. Replies come back from
recent search by ``conversation_id:<first post>`` (needs ``tweet.read``; the API's recent search
covers seven days) and quotes from ``GET /2/tweets/{id}/quote_tweets``.

X takes no idempotency key: the ledger is what keeps a retry from posting twice.
"""

import logging

import requests
import xdk
from xdk.posts.models import CreateRequest

from channels.base import (
    DEFAULT_CONCURRENCY,
    Delivery,
    OutgoingMessage,
    SdkThreads,
    TransientDeliveryError,
)
from channels.social import X_TARGET, Reply, only_statements, refusal, refuse_over_limit, when, x_length

log = logging.getLogger("crisisflow.x")

X_API_URL = "https://api.x.com"
X_LIMIT = 280
REPLY_FIELDS = ["author_id", "conversation_id", "created_at", "referenced_tweets", "text"]


class TimeoutSession(requests.Session):
    """The SDK's session with a timeout on every request (the SDK sets none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


class XChannel:
    name = X_TARGET
    limit = X_LIMIT

    def __init__(
        self, access_token: str, api_url: str | None = None, timeout: float = 10.0, concurrency: int = DEFAULT_CONCURRENCY
    ):
        self._client = xdk.Client(base_url=(api_url or X_API_URL).rstrip("/"), access_token=access_token)
        session = TimeoutSession(timeout)
        session.headers.update(self._client.session.headers)
        self._client.session = session
        self._timeout = timeout
        self._threads = SdkThreads("x", concurrency)
        self._me: str | None = None  # our account's id, read once (GET /2/users/me)

    def __repr__(self) -> str:  # never the token
        return f"XChannel(api_url={self._client.base_url!r})"

    def length(self, text: str) -> int:
        return x_length(text)

    def public_url(self, post_id: str) -> str:
        return f"https://x.com/i/web/status/{post_id}"

    async def send(self, message: OutgoingMessage) -> Delivery:
        only_statements(self.name, message)
        refuse_over_limit(self, message)
        thread = message.post.thread if message.post else None
        body = CreateRequest(text=message.body, reply={"in_reply_to_tweet_id": thread} if thread else None)
        created = await self._call(self._client.posts.create, body)
        post_id = created.data.id
        log.info("%s posted to X as %s%s", message.ledger_key, post_id, f" (reply to {thread})" if thread else "")
        return Delivery(channel=self.name, accepted=True, provider_id=post_id, url=self.public_url(post_id))

    async def replies(self, post_id: str) -> list[Reply]:
        """Replies in the post's conversation and quotes of it (first page of each, newest first),
        without our own posts."""

        def read() -> list[Reply]:
            if self._me is None:  # our own later posts are in the conversation too: they are not replies
                self._me = self._client.users.get_me().data.id
            found: list[Reply] = []
            pages = [
                (
                    self._client.posts.search_recent(
                        query=f"conversation_id:{post_id}",
                        max_results=100,
                        post_fields=REPLY_FIELDS,
                        expansions=["author_id"],
                        user_fields=["username"],
                    ),
                    False,
                ),
                (
                    self._client.posts.get_quoted(
                        post_id, max_results=100, post_fields=REPLY_FIELDS, expansions=["author_id"], user_fields=["username"]
                    ),
                    True,
                ),
            ]
            for page_iterator, quote in pages:
                page = next(iter(page_iterator), None)
                if page is None or not page.data:
                    continue
                users = {user.id: user.username for user in ((page.includes.users or []) if page.includes else [])}
                for post in page.data:
                    if post.id == post_id or post.author_id == self._me:
                        continue
                    author = users.get(post.author_id) or post.author_id or "unknown"
                    found.append(
                        Reply(
                            id=post.id,
                            author=f"@{author}",
                            text=post.text or "",
                            url=self.public_url(post.id),
                            posted_at=when(post.created_at),
                            quote=quote,
                        )
                    )
            return found

        return await self._call(read)

    async def _call(self, call, *args):
        try:
            return await self._threads.run(call, *args)
        except requests.HTTPError as error:
            response = error.response
            raise refusal(self.name, response.status_code, response.text, response.headers) from None
        except requests.Timeout:
            raise TransientDeliveryError(f"{self.name} did not answer within {self._timeout:g} s") from None
        except requests.RequestException as error:
            raise TransientDeliveryError(f"cannot reach {self.name}: {type(error).__name__}") from None
