"""A database file's WAL is copied back into it by its engine's checkpoint thread
(store/wal_checkpoints.py), not by whichever commit takes the log past SQLite's limit."""

import asyncio
import threading
import time

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, text

from store.db import create_engine
from store.wal_checkpoints import SAFETY_NET_PAGES, THREAD_NAME, WalCheckpoints

METADATA = MetaData()
BLOBS = Table("blobs", METADATA, Column("id", Integer, primary_key=True), Column("data", LargeBinary))
WRITTEN = 2_000_000  # about 500 pages: far below the safety net, so no commit checkpoints them


def _checkpoint_threads() -> int:
    return sum(thread.name == THREAD_NAME for thread in threading.enumerate())


async def _until(condition, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_the_log_is_copied_into_the_database_beside_the_commits_and_the_thread_ends_with_the_engine(tmp_path):
    database = tmp_path / "crisis.db"
    before = _checkpoint_threads()
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
        assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == SAFETY_NET_PAGES
    for _ in range(20):
        async with engine.begin() as connection:
            await connection.execute(insert(BLOBS), [{"data": bytes(1000)} for _ in range(WRITTEN // 20_000)])
    assert _checkpoint_threads() == before + 1
    assert await _until(lambda: database.stat().st_size >= WRITTEN), "the log was not copied into the database file"
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM blobs"))).scalar() == WRITTEN // 1000
    await engine.dispose()
    assert await _until(lambda: _checkpoint_threads() == before), "the checkpoint thread outlived its engine"


async def test_a_database_deleted_meanwhile_is_not_created_again(tmp_path):
    missing = tmp_path / "gone.db"
    checkpoints = WalCheckpoints(str(missing), every_s=0.02)
    checkpoints.start()
    await asyncio.sleep(0.2)
    checkpoints.stop()
    assert not missing.exists()
