"""The shape of ``CRISIS_PUBLISH_WEBHOOKS``: named publishing targets reached by signed webhooks.

Kept apart from ``channels/webhook.py`` (which needs httpx) so that reading the settings stays
cheap. The setting is a JSON object mapping a target name to ``{"url": ..., "secret": ...}``::

    CRISIS_PUBLISH_WEBHOOKS='{"status_page": {"url": "https://status.example.com/hooks/crisis", "secret": "…"},
                              "social_scheduler": {"url": "https://scheduler.example.com/in/crisis", "secret": "…"}}'

Only the structure is checked here (a clear validation error naming the setting); whether each URL
is an absolute http(s) URL and each secret non-empty is what ``crisis doctor`` reports, and the
registry leaves such a target out (it is then an unknown target) instead of stopping the worker.
"""

import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode

from domain.variants import Channel

SETTING = "CRISIS_PUBLISH_WEBHOOKS"
OUTBOX_TARGET = "outbox"
CUSTOMER_EMAIL_TARGET = "customer_email"
# The social networks and the status page are built in too (channels/social.py), named so.
RESERVED_TARGETS = (OUTBOX_TARGET, CUSTOMER_EMAIL_TARGET, "x", "mastodon", "bluesky", "statuspage")
# Which variant of a statement each built-in target publishes: each target sends exactly its
# channel's approved variant. The outbox stands in for a status page.
BUILT_IN_VARIANTS = {
    OUTBOX_TARGET: Channel.STATUS_PAGE,
    CUSTOMER_EMAIL_TARGET: Channel.EMAIL,
    "x": Channel.X,
    "mastodon": Channel.MASTODON,
    "bluesky": Channel.BLUESKY,
    "statuspage": Channel.STATUS_PAGE,
}
# The name is the ledger's ``provider`` of each delivery (20 characters at most).
TARGET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Absolute http(s) URL the statement is POSTed to.")
    secret: SecretStr = Field(description="Shared secret of the HMAC-SHA256 signature (X-Crisis-Signature); never shown.")
    timeout: float = Field(10.0, gt=0, le=120, description="Seconds to wait for the receiver's answer.")
    variant: Channel = Field(
        Channel.STATUS_PAGE, description="Which variant of a statement this target publishes (x, mastodon, status_page…)."
    )


def _parse(value: Any) -> Any:
    if value is None or value == "":
        return {}
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            # Where it went wrong, never the text itself (it holds secrets).
            problem = f"{error.msg} at line {error.lineno} column {error.colno}"
            raise PydanticCustomError(
                "publish_webhooks_json", f"{SETTING} is not valid JSON: {{problem}}", {"problem": problem}
            ) from None
        except ValueError:
            raise PydanticCustomError("publish_webhooks_json", f"{SETTING} is not valid JSON") from None
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "publish_webhooks_shape", f"{SETTING} must be a JSON object mapping each target name to an object with url and secret"
        )
    for name in value:
        if not isinstance(name, str) or not TARGET_NAME.match(name):
            raise PydanticCustomError(
                "publish_webhooks_name",
                f"{SETTING}: target name '{{name}}' must be lowercase letters, digits, _ or -, start with a letter, at most 20"
                " characters",
                {"name": str(name)[:40]},
            )
        if name in RESERVED_TARGETS:
            raise PydanticCustomError(
                "publish_webhooks_name", f"{SETTING}: target name '{{name}}' is reserved (built-in target)", {"name": name}
            )
    return value


def target_variants(webhooks: dict[str, WebhookTarget]) -> dict[str, Channel]:
    """The variant each publishing target sends, by target name."""
    return {name: target.variant for name, target in webhooks.items()} | BUILT_IN_VARIANTS


# NoDecode: the environment's raw text reaches _parse, so bad JSON is a validation error naming the setting.
PublishWebhooks = Annotated[dict[str, WebhookTarget], NoDecode, BeforeValidator(_parse)]
