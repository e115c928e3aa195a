"""The review's records on SQLite and PostgreSQL: per-incident metrics (stale retries change
nothing), the report filters, the drill list and each playbook's last drill."""

from datetime import timedelta

from store import service
from tests.store.test_service import T0, summary


def figures(incident_id: str = "inc-1", seq: int = 10, **changes) -> dict:
    base = {
        "incident_id": incident_id,
        "playbook": "technical_outage",
        "scenario": "technical_outage",
        "severity": "SEV2",
        "drill": False,
        "declared_at": T0,
        "closed_at": None,
        "time_to_detect_s": None,
        "time_to_acknowledge_s": 120.0,
        "time_to_assessment_s": 600.0,
        "time_to_first_statement_s": 1500.0,
        "time_to_resolve_s": 3600.0,
        "deadlines_met": 5,
        "deadlines_missed": 1,
        "highest_escalation_level": 1,
        "approval_rounds": 2,
        "feedback_count": 0,
        "feedback_mean": None,
        "projected_seq": seq,
    }
    return {**base, **changes}


async def test_metrics_move_forward_only_and_filter_by_drill_scenario_and_severity(sessions):
    async with sessions() as session:
        await service.project_metrics(session, figures(seq=10))
        await service.project_metrics(
            session, figures(seq=12, feedback_count=2, feedback_mean=3.5, closed_at=T0 + timedelta(days=1))
        )
        await service.project_metrics(session, figures(seq=11, feedback_count=1))  # a stale retry
        await service.project_metrics(session, figures("inc-2", severity="SEV1", declared_at=T0 + timedelta(days=40)))
        await service.project_metrics(session, figures("inc-3", drill=True))
    async with sessions() as session:
        rows = await service.list_metrics(session)
        assert [r.incident_id for r in rows] == ["inc-1", "inc-2"]
        assert (rows[0].feedback_count, rows[0].feedback_mean, rows[0].closed_at) == (2, 3.5, T0 + timedelta(days=1))
        assert [r.incident_id for r in await service.list_metrics(session, severity="SEV1")] == ["inc-2"]
        assert [r.incident_id for r in await service.list_metrics(session, drill=True)] == ["inc-3"]


async def test_drills_are_listed_with_their_scores_and_the_last_finished_drill_counts(sessions):
    async with sessions() as session:
        await service.project_incident(
            session, summary("inc-old", drill=True, status="closed", phase="closed", playbook="misinformation"), []
        )
        await service.project_incident(
            session,
            summary(
                "inc-new",
                drill=True,
                status="closed",
                phase="closed",
                playbook="misinformation",
                declared_at=T0 + timedelta(days=5),
            ),
            [],
        )
        await service.project_incident(
            session, summary("inc-running", drill=True, playbook="misinformation", declared_at=T0 + timedelta(days=9)), []
        )
        await service.project_incident(
            session, summary("inc-real", status="closed", phase="closed", playbook="technical_outage"), []
        )
        await service.project_metrics(
            session, figures("inc-new", drill=True, playbook="misinformation", deadlines_met=4, deadlines_missed=2)
        )
    async with sessions() as session:
        assert await service.last_drills(session) == {"misinformation": T0 + timedelta(days=5)}
        listed = await service.list_drills(session)
        assert [row.id for row, _ in listed] == ["inc-running", "inc-new", "inc-old"]
        scores = {row.id: (metrics.deadlines_met, metrics.deadlines_missed) if metrics else None for row, metrics in listed}
        assert scores == {"inc-running": None, "inc-new": (4, 2), "inc-old": None}
