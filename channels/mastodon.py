"""Posts on Mastodon through ``Mastodon.py``.

``POST /api/v1/statuses`` with the account's access token (scopes ``write:statuses
read:statuses read:notifications``; ``MASTODON_ACCESS_TOKEN``), public, in the playbook's
language; an update answers the incident's first post (``in_reply_to_id``). Every post carries an
``Idempotency-Key`` (the ledger key): Mastodon keeps one status per key for an hour, which closes
the window in which a retry after a lost answer would post twice. Replies come back from the
post's context (descendants) and from the account's mention notifications.
"""

import hashlib
import logging
from functools import partial

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
)

from channels.base import (
    DEFAULT_CONCURRENCY,
    Delivery,
    OutgoingMessage,
    SdkThreads,
    TransientDeliveryError,
)
from channels.social import MASTODON_TARGET, Reply, mastodon_length, only_statements, refusal, refuse_over_limit, when

log = logging.getLogger("crisisflow.mastodon")

MASTODON_LIMIT = 500  # the default of an instance; MASTODON_MAX_CHARACTERS follows one that allows more


def plain(html: str) -> str:
    """A status's HTML content as text (Mastodon sends ``<p>`` paragraphs, links and mentions as HTML)."""
    import html as entities
    import re

    text = re.sub(r"</p>\s*<p>", "\n\n", html)
    text = re.sub(r"<br\s*/?>", "\n", text)
    return entities.unescape(re.sub(r"<[^>]+>", "", text)).strip()


class JSONBodySession(requests.Session):
    """Sends Mastodon.py's form-encoded bodies as JSON. Mastodon takes both, but the API's
    description (``tests/specs/mastodon_api.json``, the contract) documents JSON bodies only, and
    JSON keeps each field's type: Mastodon.py writes a boolean as ``"0"``/``"1"`` in a form."""

    BOOLEANS = frozenset({"sensitive"})

    def request(self, method, url, **kwargs):
        data = kwargs.get("data")
        if (
            method in ("POST", "PUT", "PATCH")
            and isinstance(data, dict)
            and not kwargs.get("files")
            and kwargs.get("json") is None
        ):
            kwargs["json"] = {
                key: (value == "1" if key in self.BOOLEANS and value in ("0", "1") else value)
                for key, value in kwargs.pop("data").items()
            }
            kwargs.pop("files", None)
        return super().request(method, url, **kwargs)


class MastodonChannel:
    name = MASTODON_TARGET

    def __init__(
        self,
        api_base_url: str,
        access_token: str,
        limit: int = MASTODON_LIMIT,
        timeout: float = 10.0,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        self.base_url = api_base_url.rstrip("/")
        self.limit = limit
        self._timeout = timeout
        # "throw": a 429 is our retry's business (with the reset time), never a sleep in a worker thread.
        self._client = Mastodon(
            access_token=access_token,
            api_base_url=self.base_url,
            request_timeout=timeout,
            ratelimit_method="throw",
            version_check_mode="none",
            session=JSONBodySession(),
        )
        self._threads = SdkThreads("mastodon", concurrency)

    def __repr__(self) -> str:  # never the token
        return f"MastodonChannel(api_base_url={self.base_url!r})"

    def length(self, text: str) -> int:
        return mastodon_length(text)

    def public_url(self, post_id: str) -> str:
        return f"{self.base_url}/web/statuses/{post_id}"

    async def send(self, message: OutgoingMessage) -> Delivery:
        only_statements(self.name, message)
        refuse_over_limit(self, message)
        thread = message.post.thread if message.post else None
        key = hashlib.sha256(message.ledger_key.encode()).hexdigest()[:32]
        status = await self._call(
            partial(self._client.status_post, message.body, in_reply_to_id=thread, visibility="public", idempotency_key=key)
        )
        post_id = str(status["id"])
        log.info("%s posted to Mastodon as %s%s", message.ledger_key, post_id, f" (reply to {thread})" if thread else "")
        return Delivery(channel=self.name, accepted=True, provider_id=post_id, url=status.get("url") or self.public_url(post_id))

    async def replies(self, post_id: str) -> list[Reply]:
        """The post's descendants and the mentions that answer it, without our own posts."""

        def read() -> list[Reply]:
            own = str((self._client.status(post_id).get("account") or {}).get("id"))
            statuses = list(self._client.status_context(post_id)["descendants"])
            for notification in self._client.notifications(types=["mention"], limit=40):
                status = notification.get("status")
                if status and str(status.get("in_reply_to_id")) == str(post_id):
                    statuses.append(status)
            found: dict[str, Reply] = {}
            for status in statuses:
                account = status.get("account") or {}
                if str(account.get("id")) == own:
                    continue
                found[str(status["id"])] = Reply(
                    id=str(status["id"]),
                    author=f"@{account.get('acct') or 'unknown'}",
                    text=plain(status.get("content") or ""),
                    url=status.get("url"),
                    posted_at=when(status.get("created_at")),
                )
            return list(found.values())

        return await self._call(read)

    async def _call(self, call, *args):
        try:
            return await self._threads.run(call, *args)
        except MastodonRatelimitError:
            reset = self._client.ratelimit_reset
            raise refusal(self.name, 429, "rate limited", {"x-ratelimit-reset": str(reset)} if reset else {}) from None
        except MastodonNetworkError as error:
            timed_out = "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower()
            reason = f"{self.name} did not answer within {self._timeout:g} s" if timed_out else f"cannot reach {self.name}"
            raise TransientDeliveryError(reason) from None
        except MastodonAPIError as error:
            status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 500
            said = str(error.args[3]) if len(error.args) > 3 else str(error)
            raise refusal(self.name, status, said) from None
