"""API keys: minting, listing, revoking, and finding the key a request presents.

A key is ``cf_`` and 43 URL-safe characters (256 random bits). Only its SHA-256 is stored, so a
copy of the database holds no usable key; the key itself is shown once, when it is made.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from store.models import ApiKeyRow

KEY_PREFIX = "cf_"
KEY_BYTES = 32
MAX_KEY_LENGTH = 200  # anything longer is not one of ours: refused before hashing
SCOPES = ("declare", "respond", "ingest", "admin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


class KeyProblem(ValueError):
    """A name, scope or key that cannot be used; the message names what and why."""


class AmbiguousKey(KeyProblem):
    """A reference that is one key's id and another key's name (a name from before names could not be all digits)."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise KeyProblem(f"scopes: {', '.join(unknown) or 'none given'} (known: {', '.join(SCOPES)})")
    return [scope for scope in SCOPES if scope in scopes]  # de-duplicated, in a fixed order


def check_name(name: str) -> str:
    """A name is never all digits: ``revoke 7`` must mean one key, and 7 is an id."""
    if not NAME_PATTERN.fullmatch(name):
        raise KeyProblem(f"name: '{name}' must be 1-100 letters, digits or _ . @ - (starting with a letter or digit)")
    if name.isdigit():
        raise KeyProblem(f"name: '{name}' is all digits and would read as a key id; add a letter")
    return name


@dataclass(frozen=True)
class Issued:
    row: ApiKeyRow
    key: str


async def create(session: AsyncSession, name: str, scopes: list[str], key: str | None = None) -> Issued:
    """A new key (or ``key`` when the operator supplies one, as CRISIS_API_KEY does). The name must be new."""
    name, scopes = check_name(name), check_scopes(scopes)
    key = key or new_key()
    if len(key) < 20 or len(key) > MAX_KEY_LENGTH:
        raise KeyProblem(f"key: must be 20-{MAX_KEY_LENGTH} characters (a long random string)")
    row = ApiKeyRow(name=name, key_hash=key_hash(key), prefix=key[:8], scopes=scopes, created_at=datetime.now(timezone.utc))
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        taken = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name))
        raise KeyProblem(f"name: an API key named '{name}' exists already" if taken else "key: this key exists already") from None
    return Issued(row=row, key=key)


async def ensure(session: AsyncSession, key: str, name: str, scopes: list[str]) -> ApiKeyRow:
    """Make sure the operator's key exists (``crisis dev``/``crisis api`` with CRISIS_API_KEY). A key
    that exists is left as it is, revoked or not: a revoked bootstrap key stays revoked."""
    existing = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash(key)))
    if existing is not None:
        return existing
    candidate = name
    while await session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == candidate)) is not None:
        candidate = f"{name}-{key_hash(key)[:8]}" if candidate == name else f"{name}-{secrets.token_hex(4)}"
    try:
        return (await create(session, candidate, scopes, key)).row
    except KeyProblem:  # another process made it at the same moment
        existing = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash(key)))
        if existing is None:
            raise
        return existing


# Every request's key check (#22): the statement is built once, and runs on a connection of its own
# rather than in an ORM session. Building and cache-keying the select was about as much CPU as
# running it; the row is read at every request, so a revoked key stops at its next one.
_ACTIVE = select(ApiKeyRow.name, ApiKeyRow.scopes, ApiKeyRow.key_hash, ApiKeyRow.revoked_at).where(
    ApiKeyRow.key_hash == bindparam("wanted")
)


async def active(engine: AsyncEngine, key: str) -> Row | None:
    """The unrevoked key matching ``key`` (its ``name`` and ``scopes``), or None. The lookup is by
    hash, and the hashes are then compared in constant time, so the answer's timing says nothing
    about the stored keys."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    wanted = key_hash(key)
    async with engine.connect() as connection:
        row = (await connection.execute(_ACTIVE, {"wanted": wanted})).first()
    if row is None or not hmac.compare_digest(row.key_hash, wanted) or row.revoked_at is not None:
        return None
    return row


async def lookup(session: AsyncSession, key: str) -> ApiKeyRow | None:
    """The key's row whatever its state (revoked too); for ``crisis dev``'s own key."""
    return await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash(key)))


async def list_keys(session: AsyncSession) -> list[ApiKeyRow]:
    return list(await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


async def find(session: AsyncSession, id_or_name: str) -> ApiKeyRow | None:
    """The key with this id (all digits) or else this name. Names are never all digits, but a
    database from before that rule may hold one: when it is one key's id and another's name, the
    reference is refused as ambiguous rather than guessed."""
    named = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == id_or_name))
    if not id_or_name.isdigit() or len(id_or_name) > 18:
        return named
    numbered = await session.get(ApiKeyRow, int(id_or_name))
    if numbered is not None and named is not None and numbered.id != named.id:
        raise AmbiguousKey(
            f"'{id_or_name}' is the id of key '{numbered.name}' and the name of key id {named.id}; nothing was changed: "
            f"name key id {numbered.id} by its name '{numbered.name}', or key '{named.name}' by its id {named.id}"
        )
    return numbered or named


async def revoke(session: AsyncSession, id_or_name: str) -> ApiKeyRow:
    """Revoke a key by id or name; it stops working at the next request. Revoking twice is fine."""
    row = await find(session, id_or_name)
    if row is None:
        raise KeyProblem(f"no API key with id or name '{id_or_name}'")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        await session.commit()
    return row
