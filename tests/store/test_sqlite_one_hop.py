"""The embedded default's SQLite driver (store/sqlite_one_hop.py) answers every statement as
SQLAlchemy's own aiosqlite adapter does, in one trip to aiosqlite's thread."""

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from store import sqlite_one_hop
from store.db import create_engine

METADATA = MetaData()
ROWS = Table("rows", METADATA, Column("id", Integer, primary_key=True), Column("key", String, unique=True))


async def _what_each_statement_answers(engine) -> list:
    answers = []
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
        answers.append((await connection.execute(insert(ROWS).returning(ROWS.c.id), [{"key": k} for k in "abc"])).all())
        answers.append((await connection.execute(insert(ROWS), [{"key": "d"}, {"key": "e"}])).rowcount)
        inserted = await connection.execute(insert(ROWS).values(key="f"))
        answers.append((inserted.rowcount, inserted.inserted_primary_key, inserted.lastrowid))
        again = text("INSERT INTO rows (key) VALUES ('f') ON CONFLICT DO NOTHING")
        answers.append((await connection.execute(again)).rowcount)
        answers.append((await connection.execute(update(ROWS).where(ROWS.c.id > 4).values(key=ROWS.c.key + "!"))).rowcount)
        result = await connection.execute(select(ROWS).order_by(ROWS.c.id))
        answers.append((list(result.keys()), result.fetchone(), result.fetchmany(2), result.fetchall()))
        answers.append((await connection.execute(select(ROWS).where(ROWS.c.key == "none"))).all())
        answers.append([row async for row in await connection.stream(select(ROWS.c.key).order_by(ROWS.c.id))])
        answers.append((await connection.exec_driver_sql("PRAGMA journal_mode")).all())
    return answers


async def test_every_statement_answers_as_with_sqlalchemys_own_adapter(tmp_path):
    stock = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    one_hop = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-hop.db'}")
    assert isinstance(one_hop.dialect, sqlite_one_hop.OneHopDialect)
    assert not isinstance(stock.dialect, sqlite_one_hop.OneHopDialect)
    try:
        expected = await _what_each_statement_answers(stock)
        assert expected[0] == [(1,), (2,), (3,)]  # the statements did something worth comparing
        assert await _what_each_statement_answers(one_hop) == [
            *expected[:-1],
            [("wal",)],  # create_engine's engines write ahead, SQLAlchemy's default does not
        ]
        assert expected[-1] == [("delete",)]
    finally:
        await stock.dispose()
        await one_hop.dispose()


async def test_an_error_reaches_the_caller_as_sqlalchemys_and_the_transaction_goes_on(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}", single_connection=True)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
            await connection.execute(insert(ROWS).values(key="a"))
            with pytest.raises(IntegrityError, match="UNIQUE constraint failed: rows.key"):
                await connection.execute(insert(ROWS).values(key="a"))
            await connection.execute(insert(ROWS).values(key="b"))
        async with engine.connect() as connection:
            assert (await connection.execute(select(ROWS.c.key).order_by(ROWS.c.id))).scalars().all() == ["a", "b"]
    finally:
        await engine.dispose()


async def test_a_statement_is_one_trip_to_aiosqlites_thread(tmp_path, monkeypatch):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}")
    trips = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with engine.connect() as connection:
            trips.clear()
            await connection.execute(insert(ROWS).values(key="a"))
            await connection.execute(select(ROWS))
            await connection.execute(insert(ROWS).returning(ROWS.c.id), [{"key": "b"}, {"key": "c"}])
            assert trips == ["_statement", "_statement", "_statement"]
            await connection.commit()
    finally:
        await engine.dispose()
