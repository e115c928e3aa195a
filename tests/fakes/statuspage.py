"""A loopback fake of Atlassian Statuspage's REST API v1 (incidents), for the Statuspage channel.

Statuspage publishes no OpenAPI description, so this fake checks what its API reference documents
for the calls we make (https://developer.statuspage.io, "Incidents"):

- ``Authorization: OAuth <api key>`` (401 otherwise) and the page id in the path (404 for another page);
- ``POST /v1/pages/{page_id}/incidents`` with ``{"incident": {...}}``: ``name`` required (a string
  of at most 255 characters), ``status`` one of investigating / identified / monitoring /
  resolved, ``impact_override`` one of none / minor / major / critical, ``body`` a string,
  ``deliver_notifications`` a boolean, ``component_ids`` a list of the page's component ids and
  ``components`` an object mapping those ids to operational / under_maintenance /
  degraded_performance / partial_outage / major_outage; any other key is refused (422);
- ``PATCH /v1/pages/{page_id}/incidents/{incident_id}`` with the same object (every key
  optional), for an incident of the page (404 otherwise);
- one request a second per API key: a request less than a second after the previous one is
  answered 420 with ``Retry-After`` (as Statuspage answers an exceeded rate limit) and recorded
  as ``too_fast``.

It keeps the incidents (each with its updates, status and component statuses) so a test can read
what the page shows; faults as for the other fakes (``tests/fakes/providers.py``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.providers import FakeProvider

STATUSES = {"investigating", "identified", "monitoring", "resolved"}
IMPACTS = {"none", "minor", "major", "critical"}
COMPONENT_STATUSES = {"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}
KEYS = {"name", "status", "impact_override", "body", "deliver_notifications", "component_ids", "components"}


class FakeStatuspage(FakeProvider):
    name = "statuspage"

    def __init__(self, api_key: str, page_id: str, components: list[str], **kwargs):
        self.api_key, self.page_id = api_key, page_id
        self.components = {component: "operational" for component in components}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.too_fast = 0
        self._last_request: float | None = None
        super().__init__(**kwargs)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.incidents.clear()
            self.too_fast = 0
            self._last_request = None

    def routes(self) -> list[Route]:
        return [
            Route("/v1/pages/{page_id}/incidents", self._create, methods=["POST"]),
            Route("/v1/pages/{page_id}/incidents/{incident_id}", self._update, methods=["PATCH"]),
        ]

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    def _problem(self, request: Request, incident: Any, creating: bool) -> str | None:
        if not isinstance(incident, dict):
            return "incident must be an object"
        if unknown := set(incident) - KEYS:
            return f"unknown incident fields: {sorted(unknown)}"
        if creating and not isinstance(incident.get("name"), str):
            return "incident.name is required"
        if "name" in incident and (not isinstance(incident["name"], str) or not 0 < len(incident["name"]) <= 255):
            return "incident.name must be 1 to 255 characters"
        if "status" in incident and incident["status"] not in STATUSES:
            return f"incident.status must be one of {sorted(STATUSES)}"
        if "impact_override" in incident and incident["impact_override"] not in IMPACTS:
            return f"incident.impact_override must be one of {sorted(IMPACTS)}"
        if "body" in incident and not isinstance(incident["body"], str):
            return "incident.body must be a string"
        if "deliver_notifications" in incident and not isinstance(incident["deliver_notifications"], bool):
            return "incident.deliver_notifications must be a boolean"
        ids = incident.get("component_ids", [])
        if not isinstance(ids, list) or any(component not in self.components for component in ids):
            return "incident.component_ids must list components of this page"
        states = incident.get("components", {})
        if not isinstance(states, dict) or any(
            k not in self.components or v not in COMPONENT_STATUSES for k, v in states.items()
        ):
            return "incident.components must map this page's components to a component status"
        return None

    async def _checked(self, request: Request):
        recorded, fault = await self._record(request)
        now = time.monotonic()
        with self._lock:
            last, self._last_request = self._last_request, now
        if last is not None and now - last < 1.0:
            self.too_fast += 1
            recorded.status = 420
            return recorded, JSONResponse({"error": "Rate limit exceeded"}, status_code=420, headers={"Retry-After": "1"})
        if (faulted := self._faulted(recorded, fault)) is not None:
            return recorded, faulted
        if request.headers.get("authorization") != f"OAuth {self.api_key}":
            recorded.status = 401
            return recorded, JSONResponse({"error": "Could not authenticate"}, status_code=401)
        if request.path_params["page_id"] != self.page_id:
            recorded.status = 404
            return recorded, JSONResponse({"error": "Page not found"}, status_code=404)
        try:
            document = recorded.json
        except ValueError:
            document = None
        creating = request.method == "POST"
        if not isinstance(document, dict) or set(document) != {"incident"}:
            problem = 'the body must be {"incident": {...}}'
        else:
            problem = self._problem(request, document["incident"], creating)
        if problem:
            recorded.status = 422
            return recorded, JSONResponse({"error": problem}, status_code=422)
        return recorded, document["incident"]

    def _apply(self, incident: dict[str, Any], change: dict[str, Any]) -> None:
        for key in ("name", "status", "impact_override"):
            if key in change:
                incident[key] = change[key]
        for component, status in change.get("components", {}).items():
            self.components[component] = status
            incident["components"][component] = status
        if "body" in change:
            incident["incident_updates"].insert(
                0, {"id": secrets.token_hex(6), "status": incident["status"], "body": change["body"]}
            )
        if incident["status"] == "resolved":
            incident["resolved_at"] = time.time()

    async def _create(self, request: Request) -> Response:
        recorded, checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        incident_id = secrets.token_hex(6)
        incident = {
            "id": incident_id,
            "name": checked["name"],
            "status": checked.get("status", "investigating"),
            "impact_override": checked.get("impact_override"),
            "components": {},
            "incident_updates": [],
            "shortlink": f"https://stspg.io/{incident_id}",
            "page_id": self.page_id,
            "resolved_at": None,
        }
        self._apply(incident, checked)
        self.incidents[incident_id] = incident
        self._accept(recorded, 201, incident_id)
        return JSONResponse(incident, status_code=201)

    async def _update(self, request: Request) -> Response:
        recorded, checked = await self._checked(request)
        if isinstance(checked, Response):
            return checked
        incident = self.incidents.get(request.path_params["incident_id"])
        if incident is None:
            recorded.status = 404
            return JSONResponse({"error": "Incident not found"}, status_code=404)
        self._apply(incident, checked)
        self._accept(recorded, 200, incident["id"])
        return JSONResponse(incident)
