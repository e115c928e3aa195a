"""The dispatcher's statements (ledger and action tokens) on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from store import ledger, tokens
from store.ledger import LedgerStatus
from store.models import ActionTokenRow

KEY = "inc-1/page.incident_commander.0.0/sms"
ATTEMPT = {"ledger_key": KEY, "incident_id": "inc-1", "person_id": "ewa", "channel": "sms", "kind": "page", "provider": "twilio"}


async def history_of(connection, key: str = KEY) -> ledger.KeyHistory:
    return (await ledger.key_histories(connection, [key]))[key]


async def add(connection, history: ledger.KeyHistory, **values) -> int:
    (row_id,) = await ledger.add_attempts(connection, [ledger.attempt_row(history, **values)])
    return row_id


async def test_attempts_are_numbered_and_the_accepted_one_is_found(engine, sessions):
    async with engine.begin() as connection:
        assert await history_of(connection) == ledger.KeyHistory(accepted=None, next_attempt=1)
        first = await add(connection, await history_of(connection), **ATTEMPT)
    async with engine.begin() as connection:
        await ledger.finish_attempts(connection, [ledger.Finished(first, LedgerStatus.FAILED, error="transient: 503")])
    async with engine.begin() as connection:
        history = await history_of(connection)
        assert (history.accepted, history.next_attempt) == (None, 2)
        second = await add(connection, history, **ATTEMPT)
    async with engine.begin() as connection:
        await ledger.finish_attempts(connection, [ledger.Finished(second, LedgerStatus.SENT, provider_id="SM1")])
    async with engine.begin() as connection:
        history = await history_of(connection)
    assert (history.accepted.attempt, history.accepted.provider, history.accepted.provider_id, history.next_attempt) == (
        2,
        "twilio",
        "SM1",
        3,
    )
    async with sessions() as session:
        rows = await ledger.attempts(session, ledger_key=KEY)
    assert [(r.attempt, r.status, r.error, r.accepted_at is not None) for r in rows] == [
        (1, "failed", "transient: 503", False),
        (2, "sent", None, True),
    ]


async def test_an_attempt_stored_by_its_provider_is_sent_at_once(engine):
    async with engine.begin() as connection:
        await add(connection, await history_of(connection), **{**ATTEMPT, "provider": "outbox"}, status=LedgerStatus.SENT)
    async with engine.begin() as connection:
        assert (await history_of(connection)).accepted.provider == "outbox"


async def test_attempts_added_together_are_of_distinct_keys(engine):
    """Their ids come back by ledger key, so two attempts of one key in one statement are refused."""
    with pytest.raises(ValueError, match="distinct ledger keys"):
        async with engine.begin() as connection:
            first = await history_of(connection)
            second = ledger.KeyHistory(accepted=None, next_attempt=2)
            await ledger.add_attempts(connection, [ledger.attempt_row(first, **ATTEMPT), ledger.attempt_row(second, **ATTEMPT)])
    async with engine.begin() as connection:
        assert await history_of(connection) == ledger.KeyHistory(accepted=None, next_attempt=1)  # rolled back


async def mint_for(links: tokens.Links, person: str, key: str = KEY) -> tokens.Minted:
    return await links.mint(ledger_key=key, incident_id="inc-1", person_id=person, purpose="acknowledge", ttl=timedelta(hours=1))


async def test_a_retried_send_replaces_its_unsent_token_and_codes_stay_apart(engine, sessions):
    minted = {}
    for key in (KEY, KEY, KEY.replace("/sms", "/email")):
        async with engine.begin() as connection:
            links = tokens.Links(connection)
            minted.setdefault(key, []).append(await mint_for(links, "ewa", key))
            await links.write()
    async with sessions() as session:
        rows = (await session.scalars(select(ActionTokenRow).order_by(ActionTokenRow.id))).all()
        assert [row.ledger_key for row in rows] == [KEY, KEY.replace("/sms", "/email")]
        assert await tokens.find(session, minted[KEY][0].token) is None  # replaced by the retry
        assert (await tokens.find(session, minted[KEY][1].token)).ledger_key == KEY
    assert rows[0].token_hash == tokens.token_hash(minted[KEY][1].token) and rows[0].code == minted[KEY][1].code
    assert rows[0].code != rows[1].code  # two open links of one person never share an ACK code


async def test_a_batch_of_sends_reads_adds_and_finishes_its_attempts_together(engine, sessions):
    keys = [KEY, KEY.replace("/sms", "/email"), "inc-1/page.legal.0.0/sms"]
    async with engine.begin() as connection:
        first = await add(connection, await history_of(connection, keys[0]), **ATTEMPT)
    async with engine.begin() as connection:
        await ledger.finish_attempts(connection, [ledger.Finished(first, LedgerStatus.FAILED, error="transient: 503")])
    async with engine.begin() as connection:
        histories = await ledger.key_histories(connection, keys)
        assert [(h.accepted, h.next_attempt) for h in histories.values()] == [(None, 2), (None, 1), (None, 1)]
        added = await ledger.add_attempts(
            connection, [ledger.attempt_row(histories[key], **{**ATTEMPT, "ledger_key": key}) for key in reversed(keys)]
        )
    async with engine.begin() as connection:
        await ledger.finish_attempts(
            connection,
            [
                ledger.Finished(added[0], LedgerStatus.SENT, provider_id="SM3"),
                ledger.Finished(added[1], LedgerStatus.FAILED, error="permanent: invalid address"),
                ledger.Finished(added[2], LedgerStatus.SENT, provider_id="SM1"),
            ],
        )
    async with engine.begin() as connection:
        histories = await ledger.key_histories(connection, keys)
    async with sessions() as session:
        rows = {row.id: row for row in await ledger.attempts(session)}
    assert [(rows[i].ledger_key, rows[i].attempt) for i in added] == [(key, 2 if key == KEY else 1) for key in reversed(keys)]
    assert [(rows[i].status, rows[i].provider_id, rows[i].error, rows[i].accepted_at is not None) for i in added] == [
        ("sent", "SM3", None, True),
        ("failed", None, "permanent: invalid address", False),
        ("sent", "SM1", None, True),
    ]
    assert [(h.accepted and h.accepted.provider_id, h.next_attempt) for h in histories.values()] == [
        ("SM1", 3),
        (None, 2),
        ("SM3", 2),
    ]


async def test_codes_drawn_for_a_batch_keep_each_persons_open_codes_apart(engine, sessions):
    async with engine.begin() as connection:
        links = tokens.Links(connection)
        earlier = await mint_for(links, "ewa")
        await links.write()
    async with engine.begin() as connection:
        links = tokens.Links(connection)
        await links.draw_codes({"ewa": 5, "jan": 1})
        # more links than codes drawn: the rest draw their own, apart from those minted before them,
        # which are written together at the end
        minted = [await mint_for(links, person, f"inc-1/page.x.0.{n}/sms") for n, person in enumerate(["ewa"] * 40 + ["jan"])]
        await links.write()
    ewas = [m.code for m in minted[:40]] + [earlier.code]
    assert len(set(ewas)) == 41  # never two open links of one person with one code
    async with sessions() as session:
        assert len((await session.scalars(select(ActionTokenRow))).all()) == 42


async def test_a_person_holding_all_codes_but_one_gets_that_one_and_then_none(engine):
    """Drawn codes all taken: the code comes from those left. A used or expired link's code is free,
    one minted in the same transaction and not yet written is not."""
    now = datetime.now(timezone.utc)
    held = {
        "incident_id": "inc-0",
        "person_id": "ewa",
        "purpose": "acknowledge",
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
        "used_at": None,  # every row names the same columns: an insert of many takes the first row's
    }
    rows = [
        {**held, "ledger_key": f"inc-0/page.{n}/sms", "token_hash": f"{n:064d}", "code": f"{n:04d}"}
        for n in range(tokens.CODES)
        if n != 42
    ]
    rows += [
        {**held, "ledger_key": "inc-0/page.used/sms", "token_hash": "u" * 64, "code": "0042", "used_at": now},
        {**held, "ledger_key": "inc-0/page.old/sms", "token_hash": "o" * 64, "code": "0042", "expires_at": now},
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(tokens.TOKENS), rows)
    async with engine.begin() as connection:
        links = tokens.Links(connection)
        await links.draw_codes({"ewa": 2, "jan": 1})
        assert (await mint_for(links, "ewa")).code == "0042"
        with pytest.raises(RuntimeError, match="every reply code"):
            await mint_for(links, "ewa", "inc-1/page.y.0.0/sms")
        assert (await mint_for(links, "jan", "inc-1/page.y.0.0/sms")).code.isdigit()
