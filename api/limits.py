"""Request body limits: the size, enforced on the declared length and on what actually arrives, and
how deep a JSON body may nest."""

import json
from typing import Any


class BodySizeLimit:
    """413 for bodies over ``max_bytes``. A body without Content-Length (chunked) is read here,
    up to the limit, before the app sees it: the app's own body parsing would turn an error raised
    mid-stream into a 400."""

    def __init__(self, app, max_bytes: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}  # bulk endpoints (POST /mentions) that take larger bodies

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                return await self._too_large(send, limit)
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay(message), send)
            body += message.get("body", b"")
            if len(body) > limit:
                return await self._too_large(send, limit)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False}, receive), send)

    async def _too_large(self, send, limit: int):
        await _refuse(send, 413, f"request body is larger than {limit} bytes")


def _replay(first, then=None):
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return first
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


MAX_JSON_DEPTH = 32
_NOT_A_BRACKET_OR_QUOTE = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_SKIPPED_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
DEPTH_CHECKED = "crisisflow.json_depth_checked"  # in the ASGI scope: the depth limit the body was found within


class TooDeep(ValueError):
    pass


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`TooDeep` if ``raw`` (JSON or not) nests brackets deeper than ``limit``, without
    parsing it: Python's parser and pydantic recurse, and a few KB of ``[`` is a RecursionError.
    Strings are cut out first; then each pass drops the innermost level of every nest, at C
    speed, and what ``limit`` passes leave (deeper nests, unmatched brackets) is counted one by one."""
    brackets = _outside_strings(raw)
    dropped = 0
    while dropped < limit:
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if shorter == brackets:
            break
        brackets, dropped = shorter, dropped + 1
    depth = dropped
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            raise TooDeep(f"the JSON body nests deeper than {limit} levels")


def _outside_strings(raw: bytes) -> bytes:
    """The brackets of ``raw`` that are not inside a JSON string, in order, at C speed (a regular
    expression cutting out each string was most of the check: a batch of mentions has tens of
    thousands). Escaped backslashes, then escaped quotes, go first (as a parser reads them, pair by
    pair from the left); then only brackets and quotes are kept, and each two adjacent quotes (an
    empty string, or one string's end and the next one's start) go together: neither changes which
    brackets are in a string. What quotes are left enclose the brackets written inside strings.
    A quote with no end (not JSON) leaves what follows it counted, as if outside. On a body that is not JSON,
    a backslash outside a string may count brackets differently from a parser, but only after the
    place where the parser stops."""
    kept = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_A_BRACKET_OR_QUOTE)
    unended = kept.count(b'"') % 2
    if not unended:
        kept = kept.replace(b'""', b"")
        if b'"' not in kept:
            return kept
    parts = kept.split(b'"')
    outside = b"".join(parts[0::2])
    return outside + parts[-1] if unended else outside


def loads(raw: bytes, limit: int = MAX_JSON_DEPTH, scope: dict | None = None) -> Any:
    """``json.loads`` for request bodies: :class:`TooDeep` (a ValueError) instead of a RecursionError.
    Given the request's ``scope``, a body :class:`JsonDepthLimit` has checked already is not checked
    again (for a batch of 5,000 mentions the check costs twice the parse)."""
    checked = None if scope is None else scope.get(DEPTH_CHECKED)
    if checked is None or checked > limit:
        check_json_depth(raw, limit)
    return json.loads(raw)


class JsonDepthLimit:
    """400 for any request body nested deeper than ``MAX_JSON_DEPTH``, before a route (or FastAPI's
    own body parsing) sees it. Forms are left to their routes; every other body is checked,
    whatever its Content-Type says, as routes that read JSON do not all insist on one."""

    def __init__(self, app, limit: int = MAX_JSON_DEPTH):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or dict(scope["headers"]).get(b"content-type", b"").lower().startswith(_SKIPPED_TYPES):
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay(message), send)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            check_json_depth(body, self.limit)
        except TooDeep as error:
            return await _refuse(send, 400, str(error))
        scope[DEPTH_CHECKED] = self.limit
        await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False}, receive), send)


async def _refuse(send, status: int, detail: str):
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def describe_depth_limit(app) -> None:
    """Every operation that takes a body says it may answer 400 for a body nested too deep."""
    describe = app.openapi

    def openapi() -> dict:
        schema = describe()
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault("400", {"description": TOO_DEEP})
        return schema

    app.openapi = openapi


TOO_DEEP = f"The body nests deeper than {MAX_JSON_DEPTH} levels"
