"""Signing in a browser: the API key, entered once, kept in an HttpOnly cookie.

The cookie holds the key itself, so revoking the key signs the browser out at its next request.
It is HttpOnly (no script can read it; the pages run none anyway), SameSite=Lax, Secure when the
public URL is https, and only ever authorises reads (see api/auth.py). The sign-in and sign-out
forms are checked to come from our own pages (``same_origin``), so another site can neither sign
a browser in with its own key nor out.
"""

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import SESSION_COOKIE
from api.pages import templates
from api.ratelimit import RateLimited
from api.security import same_origin
from store import apikeys

router = APIRouter(include_in_schema=False)
Next = Annotated[str, Query(max_length=500)]


def _local(target: str) -> str:
    """Only a path on this site: never an open redirect to another one."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _page(request: Request, next_path: str, message: str | None = None, status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"next": _local(next_path), "message": message}, status_code=status)


@router.get("/login", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: Next = "/") -> HTMLResponse:
    return _page(request, next)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(RateLimited("links"))])
async def sign_in(request: Request):
    if not same_origin(request):
        return _page(request, "/", "This form was sent from another site; you are not signed in.", 403)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    next_path = _local((form.get("next") or ["/"])[0])
    row = await apikeys.active(request.app.state.engine, key)
    if row is None:
        return _page(request, next_path, "That API key is not valid (unknown or revoked).", 401)
    settings = request.app.state.settings
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
        path="/",
    )
    return response


@router.post("/logout", response_class=HTMLResponse)
async def sign_out(request: Request):
    if not same_origin(request):
        return _page(request, "/", "This form was sent from another site; nothing was changed.", 403)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
