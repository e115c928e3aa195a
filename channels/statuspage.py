"""Incidents on an Atlassian Statuspage page, through its REST API v1 (``STATUSPAGE_API_KEY``,
``STATUSPAGE_PAGE_ID``; ``STATUSPAGE_API_URL`` replaces https://api.statuspage.io/v1).

The incident's first statement opens a Statuspage incident (``POST /pages/{page_id}/incidents``):
its public name (the playbook's ``status_page.name``), status ``investigating``, the impact from
the severity (SEV1 critical, SEV2 major, SEV3 minor, SEV4 none), the playbook's affected
components with a status from the severity too, and the statement as the first update's body.
Each later statement is an update of that incident (``PATCH /pages/{page_id}/incidents/{id}``,
status ``identified``, its text as the body); the resolution statement resolves it and puts the
components back to ``operational``. Subscribers are notified by Statuspage on every update.

Statuspage allows one request a second per API key: requests are spaced by the channel (one at a
time, at least a second apart), and a 420 or 429 is retried after the time Statuspage asks for.
"""

import asyncio
import logging
import time

import httpx

from channels.base import Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.social import STATUSPAGE_TARGET, Reply, only_statements, refusal

log = logging.getLogger("crisisflow.statuspage")

STATUSPAGE_API_URL = "https://api.statuspage.io/v1"
MIN_INTERVAL_S = 1.0  # Statuspage's documented limit: 1 request per second per API key
IMPACT = {"SEV1": "critical", "SEV2": "major", "SEV3": "minor", "SEV4": "none"}
COMPONENT_STATUS = {
    "SEV1": "major_outage",
    "SEV2": "partial_outage",
    "SEV3": "degraded_performance",
    "SEV4": "degraded_performance",
}
NAME_LIMIT = 255


class StatuspageChannel:
    name = STATUSPAGE_TARGET
    limit = None  # an update's body has no documented limit

    def __init__(
        self,
        api_key: str,
        page_id: str,
        api_url: str | None = None,
        timeout: float = 10.0,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.api_url = (api_url or STATUSPAGE_API_URL).rstrip("/")
        self.page_id = page_id
        self._api_key = api_key
        self._timeout = timeout
        self._transport = transport  # tests only
        self._pace = asyncio.Lock()
        self._last_request = 0.0

    def __repr__(self) -> str:  # never the key
        return f"StatuspageChannel(api_url={self.api_url!r}, page_id={self.page_id!r})"

    def length(self, text: str) -> int:
        return len(text)

    def public_url(self, incident_id: str) -> str:
        return f"https://{self.page_id}.statuspage.io/incidents/{incident_id}"

    def request(self, message: OutgoingMessage) -> tuple[str, str, dict]:
        """The method, path and JSON body for ``message`` (see the module's docstring)."""
        post = message.post
        if post is None:
            raise PermanentDeliveryError("statuspage: the statement carries no incident details")
        severity = post.severity or "SEV2"
        if post.thread is None:
            name = (post.headline or "").strip()
            if not name:
                raise PermanentDeliveryError(
                    "statuspage: the playbook gives the status page incident no public name (status_page.name)"
                )
            if len(name) > NAME_LIMIT:
                raise PermanentDeliveryError(
                    f"statuspage: the incident name is {len(name)} characters, over the {NAME_LIMIT} Statuspage takes"
                )
            incident = {
                "name": name,
                "status": "resolved" if post.statement == "resolution" else "investigating",
                "impact_override": IMPACT.get(severity, "major"),
                "body": message.body,
                "deliver_notifications": True,
            }
            if post.components:
                status = "operational" if post.statement == "resolution" else COMPONENT_STATUS.get(severity, "partial_outage")
                incident["component_ids"] = list(post.components)
                incident["components"] = {component: status for component in post.components}
            return "POST", f"/pages/{self.page_id}/incidents", {"incident": incident}
        incident = {
            "status": "resolved" if post.statement == "resolution" else "identified",
            "body": message.body,
            "deliver_notifications": True,
        }
        if post.components and post.statement == "resolution":
            incident["component_ids"] = list(post.components)
            incident["components"] = {component: "operational" for component in post.components}
        return "PATCH", f"/pages/{self.page_id}/incidents/{post.thread}", {"incident": incident}

    async def send(self, message: OutgoingMessage) -> Delivery:
        only_statements(self.name, message)
        method, path, body = self.request(message)
        answer = await self._call(method, path, body)
        incident_id = str(answer["id"])
        log.info("%s %s Statuspage incident %s", message.ledger_key, "opened" if method == "POST" else "updated", incident_id)
        return Delivery(
            channel=self.name, accepted=True, provider_id=incident_id, url=answer.get("shortlink") or self.public_url(incident_id)
        )

    async def replies(self, post_id: str) -> list[Reply]:
        """A status page takes no replies."""
        return []

    async def _call(self, method: str, path: str, body: dict) -> dict:
        async with self._pace:
            wait = self._last_request + MIN_INTERVAL_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport, follow_redirects=False) as client:
                    response = await client.request(
                        method,
                        f"{self.api_url}{path}",
                        json=body,
                        headers={"Authorization": f"OAuth {self._api_key}", "Accept": "application/json"},
                    )
            except httpx.TimeoutException:
                raise TransientDeliveryError(f"{self.name} did not answer within {self._timeout:g} s") from None
            except httpx.TransportError as error:
                raise TransientDeliveryError(f"cannot reach {self.name}: {type(error).__name__}") from None
            finally:
                self._last_request = time.monotonic()
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise TransientDeliveryError(f"{self.name} answered {response.status_code} without an incident") from None
        raise refusal(self.name, response.status_code, response.text, response.headers)
