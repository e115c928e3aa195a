import pytest_asyncio

from tests.workflow.harness import open_harness


@pytest_asyncio.fixture(loop_scope="session")
async def harness(time_skipping_env, catalog, tmp_path):
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db") as ready:
        yield ready
