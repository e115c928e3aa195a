import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.e2e.stack import DevStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    dev = DevStack(tmp_path_factory.mktemp("crisis-dev"))
    dev.start()
    yield dev
    dev.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal(stack):
    return await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
