"""Who may call the API: API keys and their scopes.

One dependency, ``authenticate``, runs for every route of the app (``FastAPI(dependencies=...)``).
It lets through, without a key, only the routes in the open list below; every other route needs a
valid key, and a write route also declares the scope it needs::

    @router.post("/things", dependencies=[require_scope(Scope.RESPOND)])
    async def make_thing(..., caller: Responder): ...   # or take the caller to record who acted

A key comes as ``Authorization: Bearer <key>``, or, for reading pages in a browser, as the
HttpOnly cookie that the sign-in page sets. The cookie is never enough for a write: a write needs
the header, which another site's form or script cannot add (see docs/security.md, CSRF).
"""

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy.exc import InterfaceError, OperationalError

from api.security import same_origin
from store import apikeys


class Scope(StrEnum):
    DECLARE = "declare"  # declare incidents
    RESPOND = "respond"  # every human action on an incident: acknowledge, assess, tasks, statements, resolve, review, subscribers
    INGEST = "ingest"  # feed mentions from a social-listening tool (POST /mentions), nothing else
    ADMIN = "admin"  # everything, and managing API keys


SESSION_COOKIE = "crisis_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Forms of our own pages that a signed-in browser submits with its session cookie. Each is checked
# for a same-origin Origin/Referer (the cookie is SameSite=Lax too), so another site cannot forge
# them (docs/security.md, CSRF); every other write needs the Authorization header.
BROWSER_FORMS = {
    "/signals/{signal_id}/decide",
    "/declare",
    "/incidents/{incident}/view/{form_name}",
}  # api/room.py: the crisis room
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The only routes reachable without a key, and why (docs/security.md):
OPEN_PREFIXES = (
    "/a/",  # action links: the single-use token in the URL is the credential
    "/webhooks/",  # provider webhooks: each verifies the provider's signature
    "/static/",  # stylesheet of the pages
)
OPEN_PATHS = {
    "/healthz",
    "/readyz",  # probes of process managers and load balancers
    "/login",
    "/logout",  # signing in a browser
    "/static",  # the mount of the stylesheet folder
}


# A crisis does not wait for the database: while it is away, a key this process verified within the
# grace period still reads the live state from Temporal and still acts. A key revoked during an
# outage therefore works until the database is back or the grace period ends (docs/security.md).
DATABASE_OUTAGE_GRACE_S = 15 * 60
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, ConnectionError)


class RecentlyVerified:
    """Keys this process verified lately, by hash, with when: the fallback during a database outage."""

    def __init__(self, grace_s: float = DATABASE_OUTAGE_GRACE_S):
        self._grace_s = grace_s
        self._verified: dict[str, tuple[float, str, frozenset[str]]] = {}

    def remember(self, key: str, name: str, scopes: frozenset[str]) -> None:
        self._verified[apikeys.key_hash(key)] = (time.monotonic(), name, scopes)

    def forget(self, key: str) -> None:
        self._verified.pop(apikeys.key_hash(key), None)

    def recall(self, key: str) -> tuple[str, frozenset[str]] | None:
        found = self._verified.get(apikeys.key_hash(key))
        if found is None or time.monotonic() - found[0] > self._grace_s:
            return None
        return found[1], found[2]


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


@dataclass(frozen=True)
class Principal:
    """The caller: an API key, by name."""

    name: str
    scopes: frozenset[str]
    by_cookie: bool = False

    @property
    def via(self) -> str:
        """How the caller's actions read in the timeline and in the Update's arguments."""
        return f"API key {self.name}"

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN.value in self.scopes

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or Scope.ADMIN.value in self.scopes


class NotSignedIn(HTTPException):
    """401. A browser asking for a page is sent to the sign-in page instead (see api/main.py)."""

    def __init__(self, detail: str):
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _presented(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization")
    if header is not None:
        kind, _, key = header.partition(" ")
        if kind.lower() != "bearer" or not key.strip():
            raise NotSignedIn("the Authorization header must be 'Bearer <API key>'")
        return key.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def _own_form(request: Request, route) -> bool:
    return getattr(route, "path", None) in BROWSER_FORMS and same_origin(request)


async def authenticate(request: Request) -> Principal | None:
    """The app-wide dependency: the caller of any route outside the open list, or 401."""
    route = request.scope.get("route")
    if is_open(getattr(route, "path", request.url.path)):
        return None
    key, by_cookie = _presented(request)
    if key is None:
        raise NotSignedIn("an API key is needed: send 'Authorization: Bearer <key>' (see docs/security.md)")
    if by_cookie and request.method not in SAFE_METHODS and not _own_form(request, route):
        raise NotSignedIn("a write needs 'Authorization: Bearer <key>'; the browser session only reads")
    principal = await _verified(request, key, by_cookie)
    if principal is None:
        raise NotSignedIn("the API key is not valid (unknown or revoked)")
    request.state.principal = principal
    return principal


async def _verified(request: Request, key: str, by_cookie: bool) -> Principal | None:
    """The caller behind ``key``, or None when the key is unknown or revoked."""
    verified: RecentlyVerified = request.app.state.verified_keys
    try:
        row = await apikeys.active(request.app.state.engine, key)
    except DATABASE_UNAVAILABLE:
        if (known := verified.recall(key)) is None:
            raise
        name, scopes = known
    else:
        if row is None:
            verified.forget(key)
            return None
        name, scopes = row.name, frozenset(row.scopes)
        verified.remember(key, name, scopes)
    return Principal(name=name, scopes=scopes, by_cookie=by_cookie)


async def credential_of(request: Request) -> Principal | None:
    """On an open route (an action link), the API key that came with the request, if any: the
    ``Authorization`` header or a signed-in browser's cookie. Never required; an invalid one is
    ignored. Whoever uses a link while holding a key is named in the timeline with it."""
    try:
        key, by_cookie = _presented(request)
    except NotSignedIn:
        return None
    if key is None:
        return None
    try:
        return await _verified(request, key, by_cookie)
    except DATABASE_UNAVAILABLE:
        return None


class RequiredScope:
    """The dependency behind ``require_scope``; the route walk in tests/api finds it by type."""

    def __init__(self, scope: Scope | str):
        self.scope = Scope(scope).value

    async def __call__(self, caller: Annotated[Principal | None, Depends(authenticate)]) -> Principal:
        if caller is None:
            raise NotSignedIn("an API key is needed")
        if not caller.allows(self.scope):
            raise HTTPException(403, f"the API key '{caller.name}' lacks the '{self.scope}' scope")
        return caller


def require_scope(scope: Scope | str):
    """``Depends`` for a route that needs ``scope``: in ``dependencies=[...]`` or as a parameter's annotation."""
    return Depends(RequiredScope(scope))


Reader = Annotated[Principal | None, Depends(authenticate)]  # any key; None only on the open routes
Declarer = Annotated[Principal, require_scope(Scope.DECLARE)]
Responder = Annotated[Principal, require_scope(Scope.RESPOND)]
Ingester = Annotated[Principal, require_scope(Scope.INGEST)]
Administrator = Annotated[Principal, require_scope(Scope.ADMIN)]


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every API route as the app serves it (FastAPI's included routers flattened, with the app's
    and routers' dependencies)."""
    return [context for context in iter_route_contexts(app.routes) if isinstance(context.original_route, APIRoute)]


def declared_scopes(route: RouteContext | APIRoute) -> set[str]:
    found, stack = set(), [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, RequiredScope):
            found.add(dependant.call.scope)
        stack.extend(dependant.dependencies)
    return found


UNAUTHORIZED = {"description": "No API key, or one that is unknown or revoked"}
UNREADABLE = {"description": "The body cannot be read (not UTF-8)"}
FORBIDDEN = {"description": "The API key lacks the scope this route needs"}
SECURITY_SCHEME = "apiKey"


def install(app: FastAPI) -> None:
    """Once the routes are in: a browser without a session is sent to the sign-in page, and the
    OpenAPI document describes the access rules."""
    app.state.verified_keys = RecentlyVerified()

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, error: NotSignedIn):
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):  # a person in a browser
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return await http_exception_handler(request, error)

    document(app)


def document(app: FastAPI) -> None:
    """Describe the access rules in the OpenAPI document: the bearer scheme, and on each operation
    that needs a key its security requirement and 401 (and 403 where a scope is needed). Derived
    from the routes, so a new route is described correctly without anyone remembering to."""
    describe = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = describe()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `crisis apikey create` (docs/security.md).",
        }
        for context in api_routes(app):
            for method in context.methods:
                operation = schema["paths"].get(context.path_format, {}).get(method.lower())
                if operation is None:
                    continue  # not in the schema (the pages)
                if "requestBody" in operation:  # FastAPI's answer to a body that is not UTF-8
                    operation["responses"].setdefault("400", UNREADABLE)
                if is_open(context.path):
                    continue
                operation["security"] = [{SECURITY_SCHEME: []}]
                operation["responses"].setdefault("401", UNAUTHORIZED)
                if declared_scopes(context):
                    operation["responses"].setdefault("403", FORBIDDEN)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
