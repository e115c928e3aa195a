"""Drill plans: only the named participants are in the org chart, so only they are paged."""

import pytest

from domain.drills import DrillProblem, DrillRequest, DrillSchedule, drill_plan
from domain.incident import Incident, Phase
from tests.unit.conftest import ANNA, EWA, JAMES, T0


def test_a_drill_without_participants_is_the_whole_team_marked_as_a_drill(catalog):
    plan = drill_plan(catalog, DrillRequest(playbook="technical_outage"), "inc-d1")
    assert plan.drill and plan.participants == [] and plan.org == catalog.roster.org_chart()
    assert (
        plan.title == "Drill: Technical outage"
        and plan.playbook.stakeholders == catalog.playbooks["technical_outage"].stakeholders
    )


def test_participants_are_the_only_people_paged_and_play_the_roles_nobody_of_them_holds(catalog):
    plan = drill_plan(catalog, DrillRequest(playbook="account_compromise", participants=[EWA, ANNA]), "inc-d2")
    org = plan.org
    assert org.people == [EWA, ANNA]
    assert org.members("incident_commander") == [EWA]
    assert set(org.members("comms_lead")) == {EWA, ANNA}
    assert org.members("legal") == [EWA, ANNA]  # nobody of them is legal: all of them play it
    for role in plan.playbook.identify.page:
        paged = {p for level in org.policy(role).levels for p in level.people}
        assert paged <= {EWA, ANNA}, role
    assert plan.playbook.stakeholders == []
    incident = Incident(plan, T0)
    assert incident.state.participants == [EWA, ANNA] and incident.state.drill
    assert incident.on_duty("security_lead") in (EWA, ANNA)
    assert incident.phase is Phase.IDENTIFY


@pytest.mark.parametrize(
    "request_, message",
    [
        (DrillRequest(playbook="nope"), "playbook: unknown playbook 'nope'"),
        (DrillRequest(playbook="technical_outage", participants=["ghost"]), "participants: not in the team roster: ghost"),
        (
            DrillRequest(playbook="technical_outage", participants=[ANNA]),
            "participants: a drill needs someone who holds incident_commander",
        ),
        (DrillRequest(playbook="technical_outage", language="de"), "language: 'de' is not offered"),
    ],
)
def test_a_drill_that_cannot_run_names_the_field(catalog, request_, message):
    with pytest.raises(DrillProblem) as problem:
        drill_plan(catalog, request_, "inc-d3")
    assert problem.value.message.startswith(message)


def test_a_schedule_takes_an_interval_with_a_unit(catalog):
    schedule = DrillSchedule(playbook="misinformation", every="90d", participants=[JAMES])
    assert schedule.every.days == 90 and schedule.request().participants == [JAMES]
    with pytest.raises(ValueError):
        DrillSchedule(playbook="misinformation", every="90")
