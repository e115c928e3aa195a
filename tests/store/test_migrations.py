"""The migrations on SQLite and PostgreSQL: they build exactly the models' schema, the version check
refuses a database behind the code, and a database made before migrations is adopted."""

import logging
import re

import pytest
from alembic import command
from sqlalchemy import inspect, text

from store import migrate
from store.db import create_engine, create_schema

VERSIONS = sorted(path.name for path in migrate.VERSIONS_DIR.glob("*.py"))


@pytest.fixture
async def empty_engine(empty_url):
    engine = create_engine(empty_url)
    yield engine
    await engine.dispose()


async def tables(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_from_empty_builds_exactly_the_models(empty_engine):
    before, after = await migrate.upgrade(empty_engine)
    assert (before, after) == (None, migrate.head_revision())
    async with empty_engine.connect() as connection:
        differences = await connection.run_sync(migrate.schema_differences)
    assert differences == [], (
        "the models and the migrations differ: add a revision (`crisis db revision -m ...`, see docs/operations.md)\n"
        + "\n".join(map(str, differences))
    )
    assert await migrate.check_schema(empty_engine) == migrate.head_revision()


async def test_upgrade_twice_is_a_no_op(empty_engine):
    await migrate.upgrade(empty_engine)
    assert await migrate.upgrade(empty_engine) == (migrate.head_revision(), migrate.head_revision())


async def test_every_revision_downgrades_and_upgrades_again(empty_engine):
    await migrate.upgrade(empty_engine)

    def downgrade(connection):
        config = migrate.alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with empty_engine.begin() as connection:
        await connection.run_sync(downgrade)
    assert await tables(empty_engine) <= {"alembic_version"}
    await migrate.upgrade(empty_engine)
    assert {"incidents", "timeline_events", "outbox_messages"} <= await tables(empty_engine)


async def test_an_empty_database_is_refused_with_the_command_to_run(empty_engine):
    with pytest.raises(migrate.SchemaBehind) as refused:
        await migrate.check_schema(empty_engine)
    assert str(refused.value) == (
        f"database schema is at nothing (an empty database), the code needs {migrate.head_revision()}: run `crisis db upgrade`"
    )


async def test_a_database_behind_the_code_is_refused(empty_engine):
    assert migrate.head_revision() != migrate.BASELINE
    await migrate.upgrade(empty_engine, migrate.BASELINE)
    with pytest.raises(migrate.SchemaBehind) as refused:
        await migrate.check_schema(empty_engine)
    assert str(refused.value) == (
        f"database schema is at {migrate.BASELINE}, the code needs {migrate.head_revision()}: run `crisis db upgrade`"
    )
    await migrate.upgrade(empty_engine)
    assert await migrate.check_schema(empty_engine) == migrate.head_revision()


async def test_a_database_made_before_migrations_is_adopted(empty_engine):
    """``create_all`` databases (crisisflow before migrations) have the baseline's tables and no version."""
    await migrate.upgrade(empty_engine, migrate.BASELINE)
    async with empty_engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))
        await connection.execute(
            text(
                "INSERT INTO outbox_messages (ledger_key, incident_id, channel, kind, subject, body, links, drill, created_at) "
                "VALUES ('k', 'inc-1', 'sms', 'page', 's', 'b', '[]', false, CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(migrate.SchemaBehind, match=r"unversioned \(made before migrations\)"):
        await migrate.check_schema(empty_engine)
    before, after = await migrate.upgrade(empty_engine)
    assert (before, after) == (None, migrate.head_revision())
    async with empty_engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM outbox_messages"))).scalar() == 1


async def test_a_revision_this_code_does_not_know_is_allowed_with_a_warning(empty_engine, caplog):
    await migrate.upgrade(empty_engine)
    async with empty_engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with caplog.at_level(logging.WARNING, logger="crisisflow.migrate"):
        assert await migrate.check_schema(empty_engine) == "9999"
    assert "which this code does not know" in caplog.text


async def test_create_schema_is_a_fresh_schema_at_head(empty_engine):
    await create_schema(empty_engine)
    assert await migrate.current_revision(empty_engine) == migrate.head_revision()
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(migrate.schema_differences) == []


def test_revisions_form_one_numbered_line():
    assert VERSIONS and all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", name) for name in VERSIONS), VERSIONS
    numbers = [name[:4] for name in VERSIONS]
    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)]
    script = migrate.script_directory()
    assert script.get_heads() == [numbers[-1]]
    for number in numbers:
        revision = script.get_revision(number)
        assert revision.down_revision == (None if number == "0001" else f"{int(number) - 1:04d}")
    assert migrate.next_revision_id() == f"{len(numbers) + 1:04d}"


async def test_a_create_all_database_equal_to_the_models_is_adopted_at_head(empty_engine):
    from store.models import Base

    async with empty_engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    assert (await migrate.upgrade(empty_engine)) == (None, migrate.head_revision())
    assert await migrate.check_schema(empty_engine) == migrate.head_revision()


async def test_concurrent_upgrades_on_postgresql_take_turns(postgresql_empty_url):
    """Several `crisis db upgrade` at once (a deploy job started twice): one migrates, the others find it done."""
    import asyncio

    engines = [create_engine(postgresql_empty_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        head = migrate.head_revision()
        assert sorted(results, key=str) == sorted([(None, head), (head, head), (head, head)], key=str)
    finally:
        for engine in engines:
            await engine.dispose()
