import shutil

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright
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


CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def page():
    """A page in Debian's headless Chromium; the flags keep it off this machine's closed network."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield await browser.new_page()
        await browser.close()
