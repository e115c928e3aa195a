"""``/readyz`` names open incidents whose data the database refused (issue 16 #8): it said ok while
every notify and record activity of an incident was retried forever."""

import asyncio
from datetime import datetime, timezone

from fastapi.testclient import TestClient

from store.models import IncidentRow, TimelineRow
from tests.api.conftest import BASE_URL

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def _incident(app, incident_id: str, status: str, kinds: list[str]) -> None:
    async def add():
        async with app.state.sessions() as session:
            session.add(
                IncidentRow(
                    id=incident_id,
                    title="t",
                    playbook="p",
                    scenario="s",
                    severity="SEV2",
                    phase="assess",
                    status=status,
                    drill=False,
                    declared_at=NOW,
                    updated_at=NOW,
                    closed_at=None,
                    pending=[],
                    projected_seq=len(kinds),
                )
            )
            for seq, kind in enumerate(kinds, start=1):
                session.add(TimelineRow(incident_id=incident_id, seq=seq, at=NOW, kind=kind, message=kind, data={}))
            await session.commit()

    asyncio.run(add())


def test_readyz_names_open_incidents_whose_data_was_refused(app):
    with TestClient(app, base_url=BASE_URL) as client:
        assert "warnings" not in client.get("/readyz").json()
        _incident(app, "inc-refused", "open", ["declared", "data_error"])
        _incident(app, "inc-fine", "open", ["declared"])
        _incident(app, "inc-closed", "closed", ["declared", "data_error"])
        body = client.get("/readyz").json()
    assert body["checks"]["database"] == "ok"
    assert body["warnings"] == ["the database refused data of 1 open incident(s): inc-refused; see their timelines"]
