"""Fixtures of the failure tests: a quick-escalating playbooks folder and the provider fakes."""

from pathlib import Path

import pytest
import yaml

from tests.e2e.stack import write_quick_playbooks
from tests.fakes.providers import FakeSendGrid, FakeTwilio
from tests.resilience.helpers import ACCOUNT_SID, AUTH_TOKEN, SENDGRID_KEY, WAIT, Providers


@pytest.fixture
def quick_playbooks(tmp_path) -> Path:
    return write_quick_playbooks(tmp_path / "playbooks", WAIT)


@pytest.fixture
def providers(quick_playbooks):
    roster = yaml.safe_load((quick_playbooks / "team.yaml").read_text())
    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as twilio, FakeSendGrid(api_key=SENDGRID_KEY) as sendgrid:
        yield Providers(
            twilio, sendgrid, {p["id"]: p["phone"] for p in roster["people"]}, {p["id"]: p["email"] for p in roster["people"]}
        )
