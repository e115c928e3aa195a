"""Loopback fakes of the X API v2 and the Mastodon API, for the end-to-end test: each keeps the
posts it took, lets a test post what the public answers (replies, quotes, mentions) and serves the
calls the channels make, answering in the shapes X's OpenAPI description and the Mastodon API's
(tests/specs) give them. The tests put Prism in proxy mode in front of each (``prism proxy``), so
every request and answer is validated against the spec while the answers carry real data.

X: ``POST /2/tweets``, ``GET /2/users/me``, ``GET /2/tweets/search/recent`` (``conversation_id:<id>``),
``GET /2/tweets/{id}/quote_tweets``. Mastodon: ``POST /api/v1/statuses``, ``GET
/api/v1/statuses/{id}`` and ``/context``, ``GET /api/v1/notifications``. Both want the bearer token
they were made with (401 otherwise).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.providers import FakeProvider, Recorded


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BearerTokenFake(FakeProvider):
    """A provider that wants the bearer token it was made with (``_refused`` says no in its own
    words). Every request is logged; a post also takes the next injected fault."""

    def __init__(self, token: str, **kwargs):
        self.token = token
        super().__init__(**kwargs)

    def _refused(self) -> Response:
        raise NotImplementedError

    async def _log(self, request: Request) -> Recorded:
        recorded = Recorded(
            method=request.method, path=request.url.path, headers=dict(request.headers), body=await request.body()
        )
        with self._lock:
            self._requests.append(recorded)
        return recorded

    async def _refusal(self, request: Request) -> Response | None:
        """A read: logged; the refusal when its token is wrong, else None."""
        await self._log(request)
        return None if request.headers.get("authorization") == f"Bearer {self.token}" else self._refused()

    async def _posted(self, request: Request) -> tuple[Recorded, Response | None]:
        """A post: logged, then the injected fault or the refusal of a wrong token, if any."""
        recorded = await self._log(request)
        if (faulted := self._faulted(recorded, self._next_fault())) is not None:
            return recorded, faulted
        return recorded, None if request.headers.get("authorization") == f"Bearer {self.token}" else self._refused()


class FakeX(BearerTokenFake):
    name = "x"

    def __init__(self, token: str, brand: str = "northwind", **kwargs):
        self.users = {"1000": brand}
        self.tweets: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1_860_000_000_000_000_000)
        super().__init__(token, **kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/2/tweets", self._create, methods=["POST"]),
            Route("/2/users/me", self._me, methods=["GET"]),
            Route("/2/tweets/search/recent", self._search, methods=["GET"]),
            Route("/2/tweets/{id}/quote_tweets", self._quotes, methods=["GET"]),
        ]

    def _tweet(self, author: str, text: str, reply_to: str | None = None, quote_of: str | None = None) -> dict[str, Any]:
        tweet_id = str(next(self._ids))
        root = self.tweets[reply_to]["conversation_id"] if reply_to else tweet_id
        referenced = (
            [{"type": "replied_to", "id": reply_to}] if reply_to else [{"type": "quoted", "id": quote_of}] if quote_of else []
        )
        tweet = {
            "id": tweet_id,
            "text": text,
            "author_id": author,
            "conversation_id": root,
            "created_at": _now(),
            "edit_history_tweet_ids": [tweet_id],
            **({"referenced_tweets": referenced} if referenced else {}),
        }
        with self._lock:
            self.tweets[tweet_id] = tweet
        return tweet

    def public_answer(self, username: str, text: str, reply_to: str | None = None, quote_of: str | None = None) -> str:
        """Someone else replies to (or quotes) one of our posts; returns the new post's id."""
        author = next((uid for uid, name in self.users.items() if name == username), None) or str(2000 + len(self.users))
        self.users[author] = username
        return self._tweet(author, text, reply_to, quote_of)["id"]

    def ours(self) -> list[dict[str, Any]]:
        return [tweet for tweet in self.tweets.values() if tweet["author_id"] == "1000"]

    def _refused(self) -> Response:
        return JSONResponse({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, 401)

    async def _create(self, request: Request) -> Response:
        recorded, refusal = await self._posted(request)
        if refusal is not None:
            return refusal
        body = recorded.json
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and reply_to not in self.tweets:
            return JSONResponse(
                {
                    "title": "Invalid Request",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                    "detail": "the post you are replying to does not exist",
                },
                400,
            )
        tweet = self._tweet("1000", body["text"], reply_to)
        self._accept(recorded, 201, tweet["id"])
        return JSONResponse({"data": {"id": tweet["id"], "text": tweet["text"]}}, 201)

    def _page(self, request: Request, found: list[dict[str, Any]]) -> Response:
        fields = set(
            ",".join(request.query_params.getlist("tweet.fields") + request.query_params.getlist("post.fields")).split(",")
        ) | {"id", "text", "edit_history_tweet_ids"}
        if not found:
            return JSONResponse({"meta": {"result_count": 0}})
        found = sorted(found, key=lambda tweet: int(tweet["id"]), reverse=True)
        data = [{key: value for key, value in tweet.items() if key in fields} for tweet in found]
        users = [
            {"id": uid, "name": self.users[uid].title(), "username": self.users[uid]}
            for uid in sorted({t["author_id"] for t in found})
        ]
        return JSONResponse(
            {
                "data": data,
                "includes": {"users": users},
                "meta": {"newest_id": found[0]["id"], "oldest_id": found[-1]["id"], "result_count": len(found)},
            }
        )

    async def _me(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        return JSONResponse({"data": {"id": "1000", "name": self.users["1000"].title(), "username": self.users["1000"]}})

    async def _search(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        query = request.query_params.get("query", "")
        root = query.removeprefix("conversation_id:") if query.startswith("conversation_id:") else None
        return self._page(request, [t for t in self.tweets.values() if root and t["conversation_id"] == root])

    async def _quotes(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        quoted = request.path_params["id"]
        return self._page(
            request, [t for t in self.tweets.values() if {"type": "quoted", "id": quoted} in t.get("referenced_tweets", [])]
        )


class FakeMastodon(BearerTokenFake):
    name = "mastodon"

    def __init__(self, token: str, brand: str = "northwind", **kwargs):
        self.accounts = {"1": brand}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.by_idempotency_key: dict[str, str] = {}
        self._ids = itertools.count(113_000_000_000_000_000)
        super().__init__(token, **kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/statuses", self._create, methods=["POST"]),
            Route("/api/v1/statuses/{id}", self._status, methods=["GET"]),
            Route("/api/v1/statuses/{id}/context", self._context, methods=["GET"]),
            Route("/api/v1/notifications", self._notifications, methods=["GET"]),
        ]

    def account(self, account_id: str) -> dict[str, Any]:
        username = self.accounts[account_id]
        base = self.url
        return {
            "id": account_id,
            "username": username,
            "acct": username,
            "display_name": username.title(),
            "locked": False,
            "bot": False,
            "group": False,
            "discoverable": True,
            "indexable": True,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{base}/@{username}",
            "uri": f"{base}/users/{username}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 0,
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def _status_of(self, account_id: str, text: str, reply_to: str | None = None) -> dict[str, Any]:
        status_id = str(next(self._ids))
        username = self.accounts[account_id]
        parent = self.statuses.get(reply_to) if reply_to else None
        mentions = (
            [
                {
                    "id": parent["account"]["id"],
                    "username": parent["account"]["username"],
                    "acct": parent["account"]["acct"],
                    "url": parent["account"]["url"],
                }
            ]
            if parent and parent["account"]["id"] != account_id
            else []
        )
        status = {
            "id": status_id,
            "uri": f"{self.url}/users/{username}/statuses/{status_id}",
            "url": f"{self.url}/@{username}/{status_id}",
            "created_at": _now(),
            "account": self.account(account_id),
            "content": f"<p>{text}</p>",
            "visibility": "public",
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "mentions": mentions,
            "tags": [],
            "emojis": [],
            "reblogs_count": 0,
            "favourites_count": 0,
            "replies_count": 0,
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "language": "en",
            "edited_at": None,
            "reblog": None,
            "poll": None,
            "card": None,
        }
        with self._lock:
            self.statuses[status_id] = status
            if parent is not None:
                parent["replies_count"] += 1
        return status

    def public_reply(self, username: str, text: str, reply_to: str) -> str:
        """Someone else answers one of our posts: a reply, and a mention notification for us."""
        account_id = next((aid for aid, name in self.accounts.items() if name == username), None) or str(100 + len(self.accounts))
        self.accounts[account_id] = username
        status = self._status_of(account_id, text, reply_to)
        with self._lock:
            self.notifications.insert(
                0,
                {
                    "id": str(len(self.notifications) + 1),
                    "type": "mention",
                    "created_at": status["created_at"],
                    "group_key": f"ungrouped-{len(self.notifications) + 1}",
                    "account": status["account"],
                    "status": status,
                },
            )
        return status["id"]

    def ours(self) -> list[dict[str, Any]]:
        return [status for status in self.statuses.values() if status["account"]["id"] == "1"]

    def _refused(self) -> Response:
        return JSONResponse({"error": "The access token is invalid"}, 401)

    async def _create(self, request: Request) -> Response:
        recorded, refusal = await self._posted(request)
        if refusal is not None:
            return refusal
        key = request.headers.get("idempotency-key")
        if key and key in self.by_idempotency_key:  # Mastodon keeps one status per key
            return JSONResponse(self.statuses[self.by_idempotency_key[key]])
        body = recorded.json
        reply_to = body.get("in_reply_to_id")
        if reply_to is not None and reply_to not in self.statuses:
            return JSONResponse({"error": "Record not found"}, 404)
        status = self._status_of("1", body["status"], reply_to)
        if key:
            self.by_idempotency_key[key] = status["id"]
        self._accept(recorded, 200, status["id"])
        return JSONResponse(status)

    async def _status(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        status = self.statuses.get(request.path_params["id"])
        return JSONResponse(status) if status else JSONResponse({"error": "Record not found"}, 404)

    async def _context(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        root = request.path_params["id"]
        if root not in self.statuses:
            return JSONResponse({"error": "Record not found"}, 404)
        descendants, frontier = [], {root}
        for status in sorted(self.statuses.values(), key=lambda item: int(item["id"])):
            if status["in_reply_to_id"] in frontier:
                descendants.append(status)
                frontier.add(status["id"])
        return JSONResponse({"ancestors": [], "descendants": descendants})

    async def _notifications(self, request: Request) -> Response:
        if (refusal := await self._refusal(request)) is not None:
            return refusal
        types = request.query_params.getlist("types[]") or request.query_params.getlist("types")
        found = [n for n in self.notifications if not types or n["type"] in types]
        return JSONResponse(found[: int(request.query_params.get("limit", 40))])
