"""The crisis room's pages and forms in process (#18): HTML for browsers and JSON for API clients at
the same paths, and the declare form's refusals beside their fields. tests/e2e/test_room_in_browser.py
drives the same forms against the real stack."""

from fastapi.testclient import TestClient

from api.auth import SESSION_COOKIE
from domain.incident import IncidentView
from tests.api.conftest import BASE_URL, issue
from tests.api.test_who_may_act import _deliver_page, _mint_page
from tests.conftest import TEST_API_KEY

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def browser(app, key: str = TEST_API_KEY) -> TestClient:
    return TestClient(app, base_url=BASE_URL, cookies={SESSION_COOKIE: key}, headers={**BROWSER, "Origin": BASE_URL})


def test_the_outbox_is_a_page_for_a_browser_and_json_for_the_api_with_links_redacted_for_all_but_admin(app, admin):
    token = _mint_page(app.state.settings.database_url, "inc-room")
    _deliver_page(app.state.settings.database_url, "inc-room", token)
    assert admin.get("/outbox").json()[0]["incident_id"] == "inc-room"
    assert admin.get("/outbox", headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
    with browser(app) as signed_in:
        page = signed_in.get("/outbox")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<h1>Outbox</h1>" in page.text and f"/a/{token}" in page.text and "Ewa Lewandowska" in page.text
    desk = issue(admin, "desk", ["respond"])["Authorization"].split()[1]
    with browser(app, desk) as other:
        page = other.get("/outbox")
        assert (
            page.status_code == 200 and token not in page.text and "redacted: only an admin key reads action links" in page.text
        )


def test_signals_are_pages_for_a_browser_and_json_for_the_api(app, admin):
    assert admin.get("/signals").json() == []
    with browser(app) as signed_in:
        page = signed_in.get("/signals?status=suggested")
        assert page.status_code == 200 and "<h1>Signals</h1>" in page.text and "No signals." in page.text
        assert signed_in.get("/signals", headers={"Accept": "application/json"}).json() == []
        missing = signed_in.get("/signals/nope", headers={"Accept": "application/json"})
        assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]


def test_the_declare_form_shows_a_refusal_beside_its_field_and_keeps_what_was_typed(app):
    with browser(app) as signed_in:
        dashboard = signed_in.get("/")
        assert 'action="/declare"' in dashboard.text and dashboard.text.count("<h1") == 1
        refused = signed_in.post(
            "/declare",
            data={"playbook": "no_such_plan", "title": "Checkout down", "summary": "500s", "form_id": "1"},
            follow_redirects=False,
        )
        assert refused.status_code == 422
        assert 'id="declare-playbook-error"' in refused.text and "unknown playbook &#39;no_such_plan&#39;" in refused.text
        assert (
            'aria-invalid="true" aria-describedby="declare-playbook-error"' in refused.text
            and 'value="Checkout down"' in refused.text
        )
        blank = signed_in.post("/declare", data={"playbook": "technical_outage", "title": "", "summary": "500s", "form_id": "2"})
        assert blank.status_code == 422 and 'id="declare-title-error"' in blank.text
        wrong_language = signed_in.post(
            "/declare", data={"playbook": "technical_outage", "title": "T", "summary": "S", "language": "xx", "form_id": "3"}
        )
        assert wrong_language.status_code == 422 and 'id="declare-language-error"' in wrong_language.text


def test_the_forms_take_the_session_cookie_only_from_our_own_pages(app):
    with browser(app) as signed_in:
        forged = signed_in.post(
            "/declare",
            data={"playbook": "technical_outage", "title": "T", "summary": "S"},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 401
        forged = signed_in.post(
            "/incidents/inc-x/view/acknowledge", data={"person": "ewa.lewandowska"}, headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 401


def test_a_form_needs_the_scope_its_api_route_needs(app, admin):
    listener = issue(admin, "listener", ["ingest"])["Authorization"].split()[1]
    with browser(app, listener) as signed_in:
        assert signed_in.post("/declare", data={"playbook": "technical_outage", "title": "T", "summary": "S"}).status_code == 403
        refused = signed_in.post("/incidents/inc-x/view/acknowledge", data={"person": "ewa.lewandowska"})
        assert refused.status_code == 403 and "<h1>Not allowed</h1>" in refused.text  # a page in words, not JSON
        assert "the API key &#39;listener&#39; lacks the &#39;respond&#39; scope" in refused.text


def test_a_form_on_an_incident_that_does_not_exist_is_a_404_in_words(app):
    with browser(app) as signed_in:
        answer = signed_in.post("/incidents/inc-nope/view/acknowledge", data={"person": "ewa.lewandowska"})
        assert answer.status_code == 404 and "does not exist" in answer.text


def test_the_incident_page_puts_what_waits_on_the_reader_first(app):
    class OneIncident:
        """Temporal answering the query of one incident waiting on two people."""

        def get_workflow_handle(self, workflow_id):
            return self

        async def query(self, *args, **kwargs):
            return IncidentView.model_validate(
                {
                    "id": "inc-me",
                    "title": "Checkout down",
                    "summary": "s",
                    "playbook": "technical_outage",
                    "scenario": "technical_outage",
                    "severity": "SEV2",
                    "language": "en",
                    "drill": True,
                    "phase": "respond",
                    "status": "open",
                    "declared_at": "2026-12-06T10:00:00+00:00",
                    "pending": [
                        {
                            "kind": "task",
                            "task_id": "a",
                            "people": ["maria.nowak"],
                            "due_at": "2026-12-06T10:10:00+00:00",
                            "title": "Pause posts",
                        },
                        {
                            "kind": "task",
                            "task_id": "b",
                            "people": ["anna.kowalska"],
                            "due_at": "2026-12-06T10:30:00+00:00",
                            "title": "Draft the FAQ",
                        },
                    ],
                    "deadlines": [],
                    "tasks": [],
                    "statements": [],
                    "timeline": [],
                    "answers_kit": [],
                    "fact_sheet": {},
                }
            )

    with browser(app) as signed_in:
        app.state.temporal = OneIncident()  # after the app's start, which connects its own
        everyone = signed_in.get("/incidents/inc-me/view").text
        assert everyone.index("Pause posts") < everyone.index("Draft the FAQ")  # soonest due first
        mine = signed_in.get("/incidents/inc-me/view?me=anna.kowalska").text
        assert mine.index("Draft the FAQ") < mine.index("Pause posts") and "What waits on Anna Kowalska first" in mine
        assert 'data-live-refresh="/incidents/inc-me/view?me=anna.kowalska"' in mine


def test_a_browser_reads_a_missing_page_in_words_and_an_api_client_keeps_json(app, admin):
    with browser(app) as signed_in:
        for path, words in (
            ("/nowhere", "Not Found"),
            ("/signals/nope", "signal &#39;nope&#39; does not exist"),
            ("/incidents/inc-nope", "incident"),
        ):
            page = signed_in.get(path)
            assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), path
            assert "<h1>Not found</h1>" in page.text and words in page.text and page.text.count("<h1") == 1, page.text
        assert signed_in.get("/signals/nope", headers={"Accept": "application/json"}).json() == {
            "detail": "signal 'nope' does not exist"
        }
    assert admin.get("/nowhere").json() == {"detail": "Not Found"}
