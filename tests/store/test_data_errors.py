"""Data PostgreSQL refuses never becomes an endless retry (issue 16 #8): a NUL in a title was taken
with 201, then every notify and record activity failed and was retried forever, and the incident
never reached the read model. Now the projection is stored with the control characters replaced
and says why; what cannot be stored even so, and any send whose ledger entry is refused, fails
for good (non-retryable) for the workflow to show on the incident."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.incident import DATA_ERROR
from activities.models import IncidentSummary, Projection
from domain.incident import TimelineEvent
from domain.messages import Notice
from settings import Settings
from store.db import session_factory
from store.models import IncidentRow, TimelineRow
from tests.channels.conftest import make_activities
from tests.conftest import PROJECT

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def _projection(title: str, actor: str | None = None) -> Projection:
    summary = IncidentSummary(
        id="inc-nul",
        title=title,
        playbook="technical_outage",
        scenario="technical_outage",
        severity="SEV2",
        phase="identify",
        status="open",
        drill=False,
        declared_at=NOW,
        updated_at=NOW,
        closed_at=None,
        pending=[],
        projected_seq=1,
    )
    event = TimelineEvent(seq=1, at=NOW, kind="declared", actor=actor, message=f"Incident declared: {title}")
    return Projection(summary=summary, events=[event])


@pytest.fixture
def activities(postgresql_engine):
    return make_activities(
        Settings(CRISIS_PUBLIC_URL="http://testserver"), session_factory(postgresql_engine), PROJECT / "playbooks"
    )


async def test_a_projection_with_a_nul_reaches_the_read_model_and_says_what_was_refused(activities, postgresql_engine):
    refused = await ActivityEnvironment().run(activities.record, _projection("Checkout\x00down"))
    assert refused and "0x00" in refused
    async with session_factory(postgresql_engine)() as session:
        row = await session.get(IncidentRow, "inc-nul")
        events = (await session.scalars(select(TimelineRow))).all()
    assert row.title == "Checkout down" and [event.message for event in events] == ["Incident declared: Checkout down"]


async def test_a_clean_projection_says_nothing(activities):
    assert await ActivityEnvironment().run(activities.record, _projection("Checkout down")) is None


async def test_data_that_cannot_be_stored_even_cleaned_fails_for_good(activities):
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(
            activities.record, _projection("Checkout down", actor="k" * 120)
        )  # longer than the column
    assert failure.value.non_retryable and failure.value.type == DATA_ERROR
    assert "the database refused the data: " in failure.value.message and "k" * 120 not in failure.value.message


async def test_a_send_whose_ledger_entry_is_refused_fails_for_good(activities):
    notice = Notice(
        incident_id="inc-nul",
        person="ewa.lewandowska",
        kind="page",
        subject="Page: Checkout\x00down",
        body="b",
        sms="s",
        channels=["email"],
    )
    environment = ActivityEnvironment()
    with pytest.raises(ApplicationError) as failure:
        await environment.run(activities.notify, notice)
    assert failure.value.non_retryable and failure.value.type == DATA_ERROR
