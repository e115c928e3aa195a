"""Security headers on every response, and the same-origin check of browser forms.

The pages use one stylesheet and one script of our own from /static (no inline script, no other
origin), and the script only fetches the pages it is on, so their policy allows nothing else.
FastAPI's API docs (/docs, /redoc) load Swagger UI and ReDoc from their CDN and start them with an
inline script; those two pages get a policy naming the CDN and that script's hash.
"""

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from api.docs import swagger_page

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc"}


def _inline_script_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'" for script in scripts]


def docs_policy(title: str) -> str:
    """The policy for the docs pages, allowing exactly the inline script FastAPI serves there."""
    swagger = swagger_page(title)
    hashes = " ".join(_inline_script_hashes(bytes(swagger.body).decode()))
    return (
        f"default-src 'none'; script-src {DOCS_CDN} {hashes}; style-src {DOCS_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: https://fastapi.tiangolo.com {DOCS_CDN}; font-src {DOCS_CDN} https://fonts.gstatic.com; "
        "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: the headers go on every response, errors and 413s included.

    - ``Content-Security-Policy``: only our own script file, no inline script or style, no framing (``frame-ancestors``).
    - ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``.
    - ``X-Content-Type-Options: nosniff``: JSON is never taken for HTML.
    - ``Referrer-Policy``: ``no-referrer`` on action links, whose URL holds the token; elsewhere
      ``same-origin``, so that no other site learns our URLs while our own forms still carry a
      real ``Origin`` (under ``no-referrer`` a browser sends ``Origin: null``).
    - ``Cache-Control: no-store`` (except the stylesheet): incident data and action pages are not
      kept by browsers or proxies.
    - ``Strict-Transport-Security`` when the public URL is https.
    """

    def __init__(self, app, docs_policy: str, https: bool):
        self.app = app
        self.docs_policy = docs_policy.encode()
        self.https = https

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        policy = self.docs_policy if path in DOCS_PATHS else PAGE_POLICY.encode()
        extra = [
            (b"content-security-policy", policy),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer" if path.startswith("/a/") else b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        if self.https:
            extra.append((b"strict-transport-security", b"max-age=31536000"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((name, value) for name, value in extra if name not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings) -> None:
    """CORS, off unless origins are listed (the pages are same-origin and need none), then the
    security headers around it, so that every answer has them."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Retry-After"],
        )
    app.add_middleware(SecurityHeaders, docs_policy=docs_policy(app.title), https=settings.public_url.startswith("https://"))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request, allow_opaque: bool = False) -> bool:
    """Whether a form POST comes from our own pages (CSRF defence for forms a browser sends).

    Browsers send ``Origin`` with every POST (``Referer`` as a fallback here); it must be the
    public URL's origin or the origin the request was addressed to. A request with neither header
    is not from a browser, so it cannot be a forged cross-site form. ``Origin: null`` is what our
    own action-link pages send (they are ``no-referrer``); ``allow_opaque`` accepts it there, where
    the unguessable token in the URL is the real defence."""
    origin = request.headers.get("origin")
    if origin == "null":
        return allow_opaque
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True
        origin = origin_of(referer)
    allowed = {
        origin_of(request.app.state.settings.public_url),
        f"{request.url.scheme}://{request.headers.get('host', '')}".lower(),
    }
    return origin.lower() in allowed
