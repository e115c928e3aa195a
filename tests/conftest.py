import sys
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.catalog import load_catalog
from tests.critical_path import pytest_collection_finish, pytest_runtest_setup, pytest_runtest_teardown  # noqa: F401  (hooks)
from tests.postgres import postgres  # noqa: F401  (fixture: the session's throwaway PostgreSQL server)
from workflows.search_attributes import ALL

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# In-process apps authenticate with this admin key: pass ``CRISIS_API_KEY=TEST_API_KEY`` to their
# Settings (the app creates the key at start) and send ``API_HEADERS`` (``TestClient(app, headers=...)``).
TEST_API_KEY = "cf_in-process-admin-key-for-tests-00000000000"
API_HEADERS = {"Authorization": f"Bearer {TEST_API_KEY}"}


async def register_search_attributes(client) -> None:
    """The time-skipping server knows no custom search attributes until told."""
    kinds = {
        SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    }
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default", search_attributes={key.name: kinds[key.indexed_value_type] for key in ALL}
        )
    )


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(PROJECT / "playbooks")


@pytest_asyncio.fixture(loop_scope="session")
async def time_skipping_env():
    """A fresh time-skipping server per test: the server's skipping lock can be left held by an
    earlier test's Updates, which would stall every later ``env.sleep``."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(BIN / "temporal-test-server")
    )
    await register_search_attributes(env.client)
    async with env:
        yield env


# The slow suites, marked by where they live and what they start, so a developer can pick
# (``-m "not slow"``, ``make test-fast``) without every test file repeating it.
SLOW_SUITES = ("e2e", "browser", "resilience", "contract", "postgres", "long")  # described in pyproject.toml


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks added here
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.path)
        if "e2e" in path.parts:
            item.add_marker(pytest.mark.e2e)
        if "resilience" in path.parts:
            item.add_marker(pytest.mark.resilience)
        if "contract" in path.stem:
            item.add_marker(pytest.mark.contract)
        on_postgresql = (
            getattr(item, "callspec", None) is not None and item.callspec.params.get("backend") == "postgresql"
        )  # tests/store
        if "postgres" in item.fixturenames or on_postgresql:
            item.add_marker(pytest.mark.postgres)
        if any(item.get_closest_marker(name) for name in SLOW_SUITES):
            item.add_marker(pytest.mark.slow)
            if not item.get_closest_marker("long"):
                item.add_marker(pytest.mark.xdist_group("dev-stack" if "stack" in item.fixturenames else "own-servers"))
    # make test runs in three processes (-n 3 --dist loadgroup, docs/testing.md): one takes the tests on
    # a running dev stack (the session's or their module's), one after another as in a serial run, one
    # the tests that start servers of their own, also one at a time, and the third starts the
    # month-long incident at once; the rest, which run on the time-skipping server or in process,
    # goes to whichever is free.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
