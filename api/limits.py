"""Request body size limit, enforced on the declared length and on what actually arrives."""

import json


class BodySizeLimit:
    """413 for bodies over ``max_bytes``. A body without Content-Length (chunked) is read here,
    up to the limit, before the app sees it: the app's own body parsing would turn an error raised
    mid-stream into a 400."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                return await self._too_large(send)
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay(message), send)
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return await self._too_large(send)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False}, receive), send)

    async def _too_large(self, send):
        body = json.dumps({"detail": f"request body is larger than {self.max_bytes} bytes"}).encode()
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
