"""Action links: minting, looking up and spending single-use tokens."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store.models import ActionTokenRow

TOKEN_BYTES = 32  # 256 random bits
CODES = 10_000  # the reply codes: 0000-9999, typed in an SMS reply (ACK <code>)
SPARE_CODES = 3  # codes drawn beyond those needed: a drawn code a person's open link holds is passed over
# The send path's statements, built once with bound parameters (see store/ledger.py).
TOKENS = ActionTokenRow.__table__
_OPEN = (TOKENS.c.used_at.is_(None), TOKENS.c.expires_at > bindparam("now"))
_TAKEN = select(TOKENS.c.person_id, TOKENS.c.code).where(
    TOKENS.c.person_id.in_(bindparam("people", expanding=True)), TOKENS.c.code.in_(bindparam("codes", expanding=True)), *_OPEN
)
_OPEN_CODES = select(TOKENS.c.code).where(TOKENS.c.person_id == bindparam("person"), *_OPEN)
_FRESH = ("token_hash", "code", "created_at", "expires_at")  # what a retried send replaces


def _upserts():
    """Insert a send's token, or replace the unsent one of an earlier attempt: per dialect."""
    statements = {}
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert)):
        statement = dialect_insert(TOKENS)
        statements[name] = statement.on_conflict_do_update(
            index_elements=[TOKENS.c.ledger_key], set_={column: statement.excluded[column] for column in _FRESH}
        )
    return statements


_UPSERT = _upserts()
_RANDOM = secrets.SystemRandom()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Minted:
    token: str
    code: str


class Links:
    """The action links minted in one transaction (a send's, or a batch of sends': the dispatcher
    makes one for each and hands it to the sends' ``Compose``), as Core statements on its connection.
    The links are written together, in one statement, by :meth:`write`, and committed by the
    transaction's owner with the sends' ledger rows, so a link exists exactly when an attempt to
    send it is recorded."""

    def __init__(self, connection: AsyncConnection):
        self._connection = connection
        self._codes: dict[str, list[str]] = {}  # drawn by draw_codes, free, not yet given to a link
        self._minted: dict[str, dict] = {}  # the rows to write, by ledger key

    async def draw_codes(self, wanted: dict[str, int]) -> None:
        """Reply codes for the :meth:`mint` calls to come (a send, or a batch of them), so many links
        for a person from one read: for each person as many as wanted, drawn at random and checked
        against the person's open links in one statement, whose cost depends on the codes drawn,
        not on how many links the people hold. A person whose drawn codes run out (all but a few of
        them taken) gets the next ones from :meth:`mint`'s own draw."""
        drawn = {person: _draw(count + SPARE_CODES) for person, count in wanted.items()}
        free = await _free(self._connection, drawn, datetime.now(timezone.utc))
        self._codes = {person: [code for code in codes if code not in self._minted_for(person)] for person, codes in free.items()}

    async def mint(
        self,
        *,
        ledger_key: str,
        incident_id: str,
        person_id: str,
        purpose: str,
        ttl: timedelta,
        version: int | None = None,
    ) -> Minted:
        """A fresh token for one send. A retried send (same ledger key) replaces the unsent token,
        so exactly one link per page is ever valid.

        Its reply code is one no open link of the person holds, so ``ACK <code>`` names one page:
        one drawn for this transaction (:meth:`draw_codes`), else a few drawn and checked now."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = datetime.now(timezone.utc)
        drawn = self._codes.get(person_id)
        code = drawn.pop() if drawn else await _free_code(self._connection, person_id, now, self._minted_for(person_id))
        self._minted[ledger_key] = {
            "ledger_key": ledger_key,
            "incident_id": incident_id,
            "person_id": person_id,
            "purpose": purpose,
            "version": version,
            "token_hash": token_hash(token),
            "code": code,
            "created_at": now,
            "expires_at": now + ttl,
        }
        return Minted(token=token, code=code)

    def _minted_for(self, person_id: str) -> set[str]:
        """The codes of the person's links minted here and not yet written."""
        return {row["code"] for row in self._minted.values() if row["person_id"] == person_id}

    async def write(self) -> None:
        """Write the links minted so far, in one statement. Not committed."""
        if self._minted:
            await self._connection.execute(_UPSERT[self._connection.dialect.name], list(self._minted.values()))
            self._minted = {}


def _draw(count: int) -> list[str]:
    """Distinct random codes."""
    return [f"{code:04d}" for code in _RANDOM.sample(range(CODES), min(count, CODES))]


async def _free(connection: AsyncConnection, drawn: dict[str, list[str]], now: datetime) -> dict[str, list[str]]:
    """Of each person's drawn codes, those none of the person's open links holds: one statement."""
    codes = sorted({code for person_codes in drawn.values() for code in person_codes})
    rows = await connection.execute(_TAKEN, {"people": list(drawn), "codes": codes, "now": now})
    taken = {(person, code) for person, code in rows}
    return {person: [code for code in person_codes if (person, code) not in taken] for person, person_codes in drawn.items()}


async def _free_code(connection: AsyncConnection, person_id: str, now: datetime, minted: set[str]) -> str:
    """A code none of the person's open links holds, nor the links ``minted`` for the person and not
    yet written: one of a few drawn; should they all be taken (a person holding most of the codes),
    one of those left, from all the person's open codes."""
    free = [code for code in (await _free(connection, {person_id: _draw(1 + SPARE_CODES)}, now))[person_id] if code not in minted]
    if free:
        return free[0]
    held = minted | set(await connection.scalars(_OPEN_CODES, {"person": person_id, "now": now}))
    left = [code for code in (f"{n:04d}" for n in range(CODES)) if code not in held]
    if not left:
        raise RuntimeError(f"every reply code is held by an open link of {person_id}")
    return _RANDOM.choice(left)


async def find(session: AsyncSession, token: str) -> ActionTokenRow | None:
    """The token's row. Looked up by hash (so the lookup's timing is about the hash, never the
    token), then compared in constant time."""
    wanted = token_hash(token)
    row = await session.scalar(select(ActionTokenRow).where(ActionTokenRow.token_hash == wanted))
    return row if row is not None and hmac.compare_digest(row.token_hash, wanted) else None


async def open_for_person(session: AsyncSession, person_id: str, purpose: str) -> list[ActionTokenRow]:
    now = datetime.now(timezone.utc)
    query = (
        select(ActionTokenRow)
        .where(
            ActionTokenRow.person_id == person_id,
            ActionTokenRow.purpose == purpose,
            ActionTokenRow.used_at.is_(None),
            ActionTokenRow.expires_at > now,
        )
        .order_by(ActionTokenRow.created_at.desc())
    )
    return list(await session.scalars(query))


async def spend(session: AsyncSession, row: ActionTokenRow, outcome: str) -> None:
    """Mark a token used (first use wins; a second concurrent use keeps the first outcome)."""
    await session.execute(
        update(ActionTokenRow)
        .where(ActionTokenRow.id == row.id, ActionTokenRow.used_at.is_(None))
        .values(used_at=datetime.now(timezone.utc), outcome=outcome)
    )
    await session.commit()


async def for_send(session: AsyncSession, ledger_key: str) -> ActionTokenRow | None:
    """The token minted for one send (a phone call's page, found from its ledger row)."""
    return await session.scalar(select(ActionTokenRow).where(ActionTokenRow.ledger_key == ledger_key))
