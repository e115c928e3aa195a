"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
received"): each message is an Adaptive Card in the channel the workflow posts to.

Teams webhooks carry no interactivity, so a card's buttons open links (``Action.OpenUrl``): a page
or approval request carries its own single-use action link (minted for the Teams send, so it is a
different link from the SMS or email one), every card the incident's page. The webhook answers
202 Accepted; 429 and 5xx are worth a retry, any other refusal is final.
"""

import logging

import httpx

from channels.base import Delivery, OutgoingMessage, TransientDeliveryError, classify_status, redact

log = logging.getLogger("crisisflow.teams")

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"  # what Teams renders
MAX_TEXT = 3000


def adaptive_card(message: OutgoingMessage) -> dict:
    """The card for one message: a heading, the text, and a button per link."""
    heading = message.subject or "crisisflow"
    body = [
        {"type": "TextBlock", "text": heading[:200], "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": message.body[:MAX_TEXT], "wrap": True},
    ]
    if message.drill:
        body.insert(0, {"type": "TextBlock", "text": "DRILL", "color": "Warning", "weight": "Bolder"})
    actions = [{"type": "Action.OpenUrl", "title": link.label[:40], "url": link.url} for link in message.links]
    card = {"$schema": CARD_SCHEMA, "type": "AdaptiveCard", "version": CARD_VERSION, "body": body}
    return card | ({"actions": actions} if actions else {})


def webhook_payload(message: OutgoingMessage) -> dict:
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": adaptive_card(message)}],
    }


class TeamsChannel:
    name = "teams"

    def __init__(self, webhook_url: str, timeout: float = 10.0):
        self._url = webhook_url
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, message: OutgoingMessage) -> Delivery:
        try:
            answer = await self._client.post(self._url, json=webhook_payload(message))
        except httpx.TimeoutException:
            raise TransientDeliveryError("the Teams webhook did not answer in time") from None
        except httpx.HTTPError as error:
            raise TransientDeliveryError(f"cannot reach the Teams webhook: {type(error).__name__}") from None
        if answer.status_code >= 300:
            raise classify_status(answer.status_code, redact(f"Teams webhook {answer.status_code}: {answer.text[:200]}"))
        log.info("Teams card %s posted (%s)", message.ledger_key, answer.status_code)
        return Delivery(channel=self.name, accepted=True, provider_id=answer.headers.get("x-ms-workflow-run-id"))
