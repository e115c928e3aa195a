"""API keys over HTTP, for admin keys (the same as `crisis apikey ...` on the database)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import Administrator, Scope
from api.deps import SessionDep
from store import apikeys

router = APIRouter(prefix="/apikeys", tags=["access"])
KeyRef = Annotated[str, Path(min_length=1, max_length=100, description="The key's id or name.")]


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        min_length=1, max_length=100, pattern=apikeys.NAME_PATTERN.pattern, description="Shown in the timeline as who acted."
    )
    scopes: list[Scope] = Field(
        min_length=1, max_length=3, description="declare, respond and/or admin (admin includes the others)."
    )

    @field_validator("name")
    @classmethod
    def _not_an_id(cls, name: str) -> str:
        if name.isdigit():
            raise ValueError("a name is never all digits (it would read as a key id); add a letter")
        return name


class KeyOut(BaseModel):
    id: int
    name: str
    scopes: list[str]
    prefix: str = Field(description="The key's first characters, to recognise it.")
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(KeyOut):
    key: str = Field(description="The key itself: shown this once, never stored.")


def _out(row) -> KeyOut:
    return KeyOut(
        id=row.id, name=row.name, scopes=row.scopes, prefix=row.prefix, created_at=row.created_at, revoked_at=row.revoked_at
    )


@router.get("", response_model=list[KeyOut])
async def list_keys(session: SessionDep, caller: Administrator) -> list[KeyOut]:
    return [_out(row) for row in await apikeys.list_keys(session)]


@router.post("", status_code=201, response_model=IssuedKey, responses={409: {"description": "The name is taken"}})
async def create_key(body: KeyRequest, session: SessionDep, caller: Administrator) -> IssuedKey:
    try:
        issued = await apikeys.create(session, body.name, [scope.value for scope in body.scopes])
    except apikeys.KeyProblem as problem:
        raise HTTPException(409, str(problem)) from None
    return IssuedKey(**_out(issued.row).model_dump(), key=issued.key)


@router.post(
    "/{key}/revoke",
    response_model=KeyOut,
    responses={404: {"description": "No such key"}, 409: {"description": "The reference is one key's id and another's name"}},
)
async def revoke_key(key: KeyRef, session: SessionDep, caller: Administrator) -> KeyOut:
    """Revoke a key by id (digits) or name: it stops working at its next request (browser sessions
    signed in with it too). Names are never all digits, so the two never collide."""
    try:
        return _out(await apikeys.revoke(session, key))
    except apikeys.AmbiguousKey as problem:
        raise HTTPException(409, str(problem)) from None
    except apikeys.KeyProblem as problem:
        raise HTTPException(404, str(problem)) from None
