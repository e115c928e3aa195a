"""The API describes what it answers: ``GET /incidents/{id}`` and every action on an incident have a
real schema in OpenAPI (the incident's view, its pending items by kind, the timeline's kinds of event
and what an action changed), so a client can be generated from it and a change of shape shows."""

import pytest

from domain.events import EventKind
from domain.incident import IncidentView, PendingKind

ACTIONS = [
    ("/incidents/{incident}/acknowledge", "post"),
    ("/incidents/{incident}/assessment", "post"),
    ("/incidents/{incident}/tasks/{task_id}/complete", "post"),
    ("/incidents/{incident}/statements/{version}/decision", "post"),
    ("/incidents/{incident}/answers/{answer_id}/versions/{version}/decision", "post"),
    ("/incidents/{incident}/internal/{audience}", "post"),
    ("/incidents/{incident}/resolve", "post"),
    ("/incidents/{incident}/review", "post"),
]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory):
    from api.main import create_app
    from settings import Settings
    from tests.api.conftest import BASE_URL, NoIncidents, database_url
    from tests.conftest import TEST_API_KEY

    url = database_url(tmp_path_factory.mktemp("openapi") / "crisis.db")
    app = create_app(Settings(DATABASE_URL=url, CRISIS_API_KEY=TEST_API_KEY, CRISIS_PUBLIC_URL=BASE_URL), temporal=NoIncidents())
    return app.openapi()


def resolve(openapi: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def answer(openapi: dict, path: str, method: str) -> dict:
    return resolve(openapi, openapi["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"])


def test_get_incident_has_the_views_schema_with_its_links(openapi):
    incident = answer(openapi, "/incidents/{incident}", "get")
    fields = set(IncidentView.model_fields) - {"revision"}
    assert set(incident["properties"]) == fields | {"links"}
    assert {"id", "title", "declared_at", "status", "links"} <= set(incident["required"])
    assert set(resolve(openapi, incident["properties"]["phase"])["enum"]) == {
        "identify",
        "assess",
        "respond",
        "communicate",
        "review",
        "closed",
    }
    assert set(resolve(openapi, incident["properties"]["status"])["enum"]) == {"open", "closed"}
    assert set(resolve(openapi, incident["properties"]["links"])["properties"]) == {"self", "page", "temporal_ui"}


def test_pending_items_are_one_schema_per_kind_chosen_by_kind(openapi):
    pending = answer(openapi, "/incidents/{incident}", "get")["properties"]["pending"]["items"]
    assert pending["discriminator"]["propertyName"] == "kind"
    assert set(pending["discriminator"]["mapping"]) == {kind.value for kind in PendingKind}
    variants = {kind: resolve(openapi, {"$ref": ref}) for kind, ref in pending["discriminator"]["mapping"].items()}
    for kind, schema in variants.items():
        assert {"kind", "title", "people", "due_at"} <= set(schema["properties"]), kind
        assert {"kind", "title", "people"} <= set(schema["required"]), kind
    assert {"version", "role"} <= set(variants["approval"]["required"])
    assert {"answer_id", "version", "number", "role"} <= set(variants["answer_approval"]["required"])
    assert "task_id" in variants["task"]["required"] and "questions" in variants["assessment"]["required"]


def test_timeline_events_and_deadlines_name_their_kinds_and_statuses(openapi):
    incident = answer(openapi, "/incidents/{incident}", "get")
    event = resolve(openapi, incident["properties"]["timeline"]["items"])
    assert set(resolve(openapi, event["properties"]["kind"])["enum"]) == {kind.value for kind in EventKind}
    deadline = resolve(openapi, incident["properties"]["deadlines"]["items"])
    assert set(resolve(openapi, deadline["properties"]["status"])["enum"]) == {
        "open",
        "met",
        "missed",
        "overdue",
        "waived",
        "moot",
    }
    kit = resolve(openapi, incident["properties"]["answers_kit"]["items"])
    assert {"id", "question", "text", "source", "waiting_for", "proposal"} <= set(kit["properties"])


@pytest.mark.parametrize("path, method", ACTIONS)
def test_each_action_answers_with_the_incident_and_what_it_changed(openapi, path, method):
    result = answer(openapi, path, method)
    assert "changes" in result["required"] and result["properties"]["changes"]["items"]["type"] == "string"
    assert set(result["properties"]) == set(answer(openapi, "/incidents/{incident}", "get")["properties"]) | {"changes"}


def test_the_answers_kit_has_its_schema(openapi):
    kit = resolve(
        openapi,
        openapi["paths"]["/incidents/{incident}/answers"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
            "items"
        ],
    )
    assert set(resolve(openapi, kit["properties"]["source"])["enum"]) == {"playbook", "incident", "proposed"}
