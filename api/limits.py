"""Request body size limit, enforced on the declared length and on what actually arrives."""

import json


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
        body = json.dumps({"detail": f"request body is larger than {limit} bytes"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


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
