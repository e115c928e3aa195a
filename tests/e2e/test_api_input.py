"""Bad input gets a clear error naming the field, never a 500, and changes nothing."""

import time

import httpx
import pytest

pytestmark = pytest.mark.e2e

VALID = {"playbook": "technical_outage", "title": "Checkout is down", "summary": "Payments fail for most customers."}


@pytest.fixture
def client(stack):
    with stack.client() as http:
        yield http


def _fields(response: httpx.Response) -> list[str]:
    return [".".join(str(p) for p in error["loc"]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    "body, field",
    [
        ({**VALID, "title": ""}, "body.title"),
        ({**VALID, "title": "   "}, "body.title"),
        ({**VALID, "severity": "SEV9"}, "body.severity"),
        ({**VALID, "colour": "red"}, "body.colour"),
        ({k: v for k, v in VALID.items() if k != "summary"}, "body.summary"),
        ({**VALID, "drill": "maybe"}, "body.drill"),
    ],
)
def test_invalid_declarations_name_the_field(client, body, field):
    before = len(client.get("/incidents").json())
    response = client.post("/incidents", json=body)
    assert response.status_code == 422
    assert field in _fields(response)
    assert len(client.get("/incidents").json()) == before


def test_malformed_json_is_422(client):
    response = client.post("/incidents", content=b'{"playbook": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_unknown_playbook_names_the_known_ones(client):
    response = client.post("/incidents", json={**VALID, "playbook": "alien_invasion"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "alien_invasion" in detail and "account_compromise" in detail and "technical_outage" in detail


def test_unknown_language_is_422(client):
    response = client.post("/incidents", json={**VALID, "language": "xx"})
    assert response.status_code == 422 and response.json()["detail"].startswith("language:")


def test_body_over_64_kb_is_413(client):
    response = client.post("/incidents", json={**VALID, "summary": "x" * (65 * 1024)})
    assert response.status_code == 413
    assert "larger than 65536 bytes" in response.json()["detail"]


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    response = client.post("/incidents", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_unknown_incident_is_404(client):
    assert client.get("/incidents/inc-doesnotexist").status_code == 404
    response = client.post("/incidents/inc-doesnotexist/acknowledge", json={"person": "ewa.lewandowska"})
    assert response.status_code == 404


def test_actions_that_do_not_fit_are_409_or_422_and_change_nothing(client):
    incident = client.post("/incidents", json=VALID).json()
    url = f"/incidents/{incident['id']}"
    not_on_roster = client.post(f"{url}/acknowledge", json={"person": "mallory"})
    assert not_on_roster.status_code == 422 and "mallory" in not_on_roster.json()["detail"]
    wrong_phase = client.post(f"{url}/resolve", json={"person": "ewa.lewandowska", "summary": "done"})
    assert wrong_phase.status_code == 409 and "identify phase" in wrong_phase.json()["detail"]
    unknown_task = client.post(f"{url}/tasks/make_coffee/complete", json={"person": "ewa.lewandowska"})
    assert unknown_task.status_code == 422 and "make_coffee" in unknown_task.json()["detail"]
    missing_person = client.post(f"{url}/acknowledge", json={})
    assert missing_person.status_code == 422 and "body.person" in _fields(missing_person)
    state = client.get(url).json()
    assert state["phase"] == "identify"
    assert not any(e["kind"] == "acknowledged" for e in state["timeline"])


def test_the_commander_changes_the_severity_over_http_after_the_assessment(client):
    incident = client.post("/incidents", json=VALID).json()
    url = f"/incidents/{incident['id']}"
    body = {"person": "ewa.lewandowska", "severity": "SEV1", "reason": "Payments fail in every country."}
    too_early = client.post(f"{url}/severity", json=body)
    assert too_early.status_code == 409 and "not assessed yet" in too_early.json()["detail"]
    client.post(f"{url}/acknowledge", json={"person": "ewa.lewandowska"})
    for _ in range(100):
        if client.get(url).json()["phase"] == "assess":
            break
        time.sleep(0.1)
    assert client.post(f"{url}/assessment", json={"person": "ewa.lewandowska", "severity": "SEV2"}).status_code == 200
    assert client.post(f"{url}/severity", json={**body, "person": "anna.kowalska"}).status_code == 422
    assert "body.reason" in _fields(client.post(f"{url}/severity", json={"person": "ewa.lewandowska", "severity": "SEV1"}))
    raised = client.post(f"{url}/severity", json=body)
    assert raised.status_code == 200 and raised.json()["severity"] == "SEV1"
    assert raised.json()["changes"] == ["Severity raised from SEV2 to SEV1 by ewa.lewandowska: Payments fail in every country."]
    assert client.post(f"{url}/severity", json=body).status_code == 422  # already SEV1


def test_filters_reject_unknown_values(client):
    response = client.get("/incidents", params={"phase": "panic"})
    assert response.status_code == 422 and "query.phase" in _fields(response)


def test_reference_endpoints(client):
    playbooks = client.get("/playbooks").json()
    assert {p["id"] for p in playbooks} == {
        "technical_outage",
        "account_compromise",
        "controversial_post",
        "customer_backlash",
        "misinformation",
        "data_breach",
    }
    team = client.get("/team").json()
    assert team["people"] and all(set(p) == {"id", "name", "roles", "timezone"} for p in team["people"])
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_subscribers_hear_the_incident_news(client):
    incident = client.post("/incidents", json=VALID).json()
    url = f"/incidents/{incident['id']}/subscribers"
    assert client.post(url, json={"email": "Press@Example.com", "name": "Press office"}).status_code == 201
    assert client.post(url, json={"email": "press@example.com"}).status_code == 200
    bad = client.post(url, json={"email": "not-an-address"})
    assert bad.status_code == 422 and "body.email" in _fields(bad)
    assert client.post("/incidents/inc-doesnotexist/subscribers", json={"email": "a@b.co"}).status_code == 404
    assert [s["email"] for s in client.get(url).json()] == ["press@example.com"]
    client.post(f"/incidents/{incident['id']}/acknowledge", json={"person": "ewa.lewandowska"})
    for _ in range(100):
        mails = [
            m for m in client.get("/outbox", params={"incident": incident["id"]}).json() if m["kind"] == "briefing.acknowledged"
        ]
        if any(m["person_id"] is None for m in mails):
            break
        time.sleep(0.1)
    assert any(m["person_id"] is None for m in mails), "the subscriber was briefed"


def test_a_statement_over_a_channel_limit_is_422_naming_the_channel_and_the_numbers(client):
    incident = client.post("/incidents", json=VALID).json()["id"]
    response = client.post(
        f"/incidents/{incident}/statements",
        json={"person": "anna.kowalska", "text": "Checkout is down. " * 20, "title": "Checkout"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "variants: x: 359 weighted characters, over the limit of 280; bluesky: 359 graphemes, over the limit of 300;"
    )


def test_the_fact_sheet_is_edited_through_the_api_and_a_bad_link_names_the_field(client):
    incident = client.post("/incidents", json=VALID).json()["id"]
    bad = client.post(
        f"/incidents/{incident}/fact-sheet", json={"person": "anna.kowalska", "fields": {"status_page": "status.example.com"}}
    )
    assert bad.status_code == 422 and "body.fields.status_page" in _fields(bad)
    internal = client.post(f"/incidents/{incident}/fact-sheet", json={"person": "anna.kowalska", "fields": {"title": "x"}})
    assert internal.status_code == 422 and "body.fields.title" in _fields(internal)
    edited = client.post(
        f"/incidents/{incident}/fact-sheet", json={"person": "anna.kowalska", "fields": {"headline": "Checkout is not working"}}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["fact_sheet"]["headline"] == "Checkout is not working"
    assert edited.json()["changes"] == ["Public fact sheet v1 by anna.kowalska: headline"]
