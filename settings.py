"""Every setting crisisflow reads, from the environment (or a ``.env`` file)."""

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from channels.targets import PublishWebhooks

PROJECT_DIR = Path(__file__).resolve().parent

# A rate-limit setting (CRISIS_RATE_LIMIT_*): api/ratelimit.py counts requests against it.
PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``period`` seconds, in bursts of up to ``count``."""

    count: int
    period: int

    def __str__(self) -> str:
        name = next(name for name, seconds in PERIODS.items() if seconds == self.period)
        return f"{self.count}/{name}"


def parse_rate(value: object) -> Rate:
    if isinstance(value, Rate):
        return value
    match = _RATE.match(str(value))
    if not match or int(match.group(1)) < 1:
        raise ValueError("a rate is N/second, N/minute or N/hour with N at least 1, for example 60/minute")
    return Rate(int(match.group(1)), PERIODS[match.group(2)])


RateSetting = Annotated[Rate, NoDecode, BeforeValidator(parse_rate), PlainSerializer(str, return_type=str)]


def _origins(value: object) -> object:
    if isinstance(value, str):
        return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
    return value


SLACK_SCOPES = ("declare", "respond", "ingest", "admin")  # as an API key's (store/apikeys.py)


def _slack_user_scopes(value: dict[str, list[str]]) -> dict[str, list[str]]:
    """Slack member ids (U… or W…) to known scopes; a typo is refused by name, never silently ignored."""
    import re

    for user, scopes in value.items():
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
            raise ValueError(f"'{user}' is not a Slack member id (U… or W…, as Slack shows it in a profile)")
        if unknown := [scope for scope in scopes if scope not in SLACK_SCOPES]:
            raise ValueError(f"{user}: unknown scope {', '.join(unknown)} (known: {', '.join(SLACK_SCOPES)})")
    return value


class Settings(BaseSettings):
    # env_ignore_empty: NAME= (as docker-compose passes an unset ${NAME:-}) means "not set", the default applies
    # hide_input_in_errors: a validation error names the setting and the problem, never the value (it may hold a secret)
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True, hide_input_in_errors=True
    )

    data_dir: Path = Field(Path("var"), alias="CRISIS_DATA_DIR", description="Embedded Temporal and SQLite files.")
    playbooks_dir: Path = Field(PROJECT_DIR / "playbooks", alias="CRISIS_PLAYBOOKS_DIR")
    api_host: str = Field("127.0.0.1", alias="CRISIS_API_HOST")
    api_port: int = Field(8000, alias="CRISIS_API_PORT")
    temporal_host: str = Field(
        "127.0.0.1", alias="CRISIS_TEMPORAL_HOST", description="Interface the embedded dev server listens on."
    )
    temporal_port: int = Field(7233, alias="CRISIS_TEMPORAL_PORT", description="Embedded dev server's gRPC port.")
    temporal_ui_port: int = Field(8233, alias="CRISIS_TEMPORAL_UI_PORT")
    temporal_address_override: str | None = Field(
        None, alias="CRISIS_TEMPORAL_ADDRESS", description="host:port of an existing Temporal frontend."
    )
    temporal_namespace: str = Field("default", alias="CRISIS_TEMPORAL_NAMESPACE")
    temporal_ui_url_override: str | None = Field(None, alias="CRISIS_TEMPORAL_UI_URL")
    temporal_rpc_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        alias="CRISIS_TEMPORAL_RPC_TIMEOUT",
        description="Seconds the API waits for Temporal to answer one call before it answers 503 with Retry-After.",
    )
    task_queue: str = Field("crisisflow", alias="CRISIS_TASK_QUEUE")
    database_url_override: SecretStr | None = Field(
        None,
        alias="DATABASE_URL",
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://user:password@host/db (a secret).",
    )
    db_pool_size: int = Field(5, ge=1, alias="CRISIS_DB_POOL_SIZE", description="PostgreSQL connections kept open per process.")
    db_max_overflow: int = Field(10, ge=0, alias="CRISIS_DB_MAX_OVERFLOW", description="Extra PostgreSQL connections under load.")
    public_url_override: str | None = Field(None, alias="CRISIS_PUBLIC_URL", description="Base of every link sent to people.")
    action_link_ttl_hours: int = Field(
        24, ge=1, le=720, alias="CRISIS_ACTION_LINK_TTL_HOURS", description="How long an action link stays valid."
    )
    max_body_bytes: int = Field(64 * 1024, alias="CRISIS_MAX_BODY_BYTES")
    mentions_max_body_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        alias="CRISIS_MENTIONS_MAX_BODY_BYTES",
        description="Largest POST /mentions batch body (5,000 mentions).",
    )
    sentiment_processes: int = Field(
        2,
        ge=0,
        le=64,
        alias="CRISIS_SENTIMENT_PROCESSES",
        description="Processes that score mentions' sentiment for the API; 0: in the API process.",
    )
    detector_processes: int = Field(
        1,
        ge=0,
        le=64,
        alias="CRISIS_DETECTOR_PROCESSES",
        description="Processes beside the worker that judge a large pass of a topic's new mentions; 0: in the worker.",
    )

    # Access and abuse resistance (docs/security.md).
    api_key: SecretStr | None = Field(
        None,
        alias="CRISIS_API_KEY",
        description="Bootstrap admin key the API creates at start if unknown; the CLI's key (a secret).",
    )
    session_hours: int = Field(
        12, ge=1, le=24 * 30, alias="CRISIS_SESSION_HOURS", description="How long a browser stays signed in."
    )
    rate_limit_declare: RateSetting = Field(
        "60/minute", alias="CRISIS_RATE_LIMIT_DECLARE", description="Declarations per API key."
    )
    rate_limit_links: RateSetting = Field(
        "120/minute", alias="CRISIS_RATE_LIMIT_LINKS", description="Action-link and sign-in requests per IP."
    )
    rate_limit_webhooks: RateSetting = Field(
        "3000/minute", alias="CRISIS_RATE_LIMIT_WEBHOOKS", description="Provider webhook calls per IP."
    )
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(_origins)] = Field(
        default_factory=list,
        alias="CRISIS_CORS_ORIGINS",
        description="Comma-separated origins allowed to call the API from a browser.",
    )

    # Connecting to a Temporal cluster other than the embedded one (self-hosted with mTLS, or Temporal Cloud).
    temporal_tls: bool | None = Field(
        None,
        alias="CRISIS_TEMPORAL_TLS",
        description="TLS to the frontend; unset means on when an API key or a client certificate is set.",
    )
    temporal_tls_cert: Path | None = Field(
        None, alias="CRISIS_TEMPORAL_TLS_CERT", description="Client certificate (PEM file) for mTLS."
    )
    temporal_tls_key: Path | None = Field(
        None, alias="CRISIS_TEMPORAL_TLS_KEY", description="Client private key (PEM file) for mTLS."
    )
    temporal_tls_ca: Path | None = Field(
        None, alias="CRISIS_TEMPORAL_TLS_CA", description="CA bundle (PEM file) to verify the server."
    )
    temporal_tls_server_name: str | None = Field(
        None, alias="CRISIS_TEMPORAL_TLS_SERVER_NAME", description="Server name to verify, if not the address's host."
    )
    temporal_api_key: SecretStr | None = Field(
        None, alias="CRISIS_TEMPORAL_API_KEY", description="Temporal Cloud API key (a secret)."
    )

    # Worker tuning: every worker process polls the task queue; add processes to grow.
    worker_max_concurrent_activities: int = Field(100, ge=1, alias="CRISIS_WORKER_MAX_CONCURRENT_ACTIVITIES")
    worker_max_concurrent_workflow_tasks: int = Field(100, ge=2, alias="CRISIS_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS")
    worker_max_cached_workflows: int = Field(
        250,
        ge=0,
        alias="CRISIS_WORKER_MAX_CACHED_WORKFLOWS",
        description="Sticky cache size: open incidents a worker keeps in memory between their steps; an "
        "incident pushed out is replayed from its history at its next step (docs/operations.md, Memory).",
    )
    worker_malloc_arenas: int = Field(
        2,
        ge=0,
        alias="CRISIS_WORKER_MALLOC_ARENAS",
        description="glibc only: malloc arenas a worker process may use (glibc's MALLOC_ARENA_MAX); 0 leaves glibc's "
        "default of 8 a core. Few arenas keep less freed memory (docs/operations.md, Memory).",
    )
    worker_malloc_trim_s: float = Field(
        2.0,
        ge=0,
        alias="CRISIS_WORKER_MALLOC_TRIM_S",
        description="glibc only: how often a worker checks whether it went idle, to give freed memory back to the "
        "system (malloc_trim) once it has; 0 never trims.",
    )
    worker_activity_pollers: int = Field(5, ge=1, alias="CRISIS_WORKER_ACTIVITY_POLLERS")
    worker_workflow_pollers: int = Field(5, ge=2, alias="CRISIS_WORKER_WORKFLOW_POLLERS")
    worker_metrics_bind: str | None = Field(
        None,
        alias="CRISIS_WORKER_METRICS_BIND",
        description="host:port where the worker serves the Temporal SDK's Prometheus metrics.",
    )

    # Logs.
    log_format: Literal["text", "json"] = Field("text", alias="CRISIS_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="CRISIS_LOG_LEVEL")

    # Channels and providers: SMS goes through Twilio and email through SendGrid once their
    # credentials and sender are set; until then both go to the outbox (see `crisis doctor`).
    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID", description="AC followed by 32 hex digits.")
    twilio_auth_token: SecretStr | None = Field(
        None, alias="TWILIO_AUTH_TOKEN", description="Signs API calls and verifies Twilio's webhooks (a secret)."
    )
    twilio_from_number: str | None = Field(
        None, alias="TWILIO_FROM_NUMBER", description="E.164 sender, for example +48601234567."
    )
    twilio_messaging_service_sid: str | None = Field(
        None, alias="TWILIO_MESSAGING_SERVICE_SID", description="MG…; when set, used as the sender instead of TWILIO_FROM_NUMBER."
    )
    twilio_api_url: str | None = Field(
        None, alias="TWILIO_API_URL", description="Replaces https://api.twilio.com (gateways, mock servers)."
    )
    sendgrid_api_key: SecretStr | None = Field(
        None, alias="SENDGRID_API_KEY", description="SG.… API key with Mail Send access (a secret)."
    )
    sendgrid_from_email: str | None = Field(None, alias="SENDGRID_FROM_EMAIL", description="A verified sender address.")
    sendgrid_webhook_public_key: str | None = Field(
        None, alias="SENDGRID_WEBHOOK_PUBLIC_KEY", description="Verification key of the Signed Event Webhook (base64)."
    )
    sendgrid_api_url: str | None = Field(
        None, alias="SENDGRID_API_URL", description="Replaces https://api.sendgrid.com (mock servers)."
    )

    # Chat: Slack (a channel per incident, pages and approvals with buttons, /crisis declare) and
    # Microsoft Teams (Adaptive Cards through a Workflows webhook); see docs/chat.md.
    slack_bot_token: SecretStr | None = Field(
        None, alias="SLACK_BOT_TOKEN", description="xoxb-… bot token of the crisisflow Slack app (a secret)."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, alias="SLACK_SIGNING_SECRET", description="Verifies the requests Slack sends (buttons, modals, /crisis); a secret."
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", alias="SLACK_API_URL", description="Slack's Web API base URL (mock servers)."
    )
    slack_user_scopes: Annotated[dict[str, list[str]], AfterValidator(_slack_user_scopes)] = Field(
        default_factory=dict,
        alias="SLACK_USER_SCOPES",
        description=(
            'JSON object: Slack user id → scopes, as an API key\'s ("declare", "respond", "admin"); who may use /crisis declare.'
        ),
    )
    teams_webhook_url: SecretStr | None = Field(
        None,
        alias="TEAMS_WEBHOOK_URL",
        description='URL of a Teams Workflows webhook ("Post to a channel when a webhook request is received"); a secret.',
    )

    # Publishing: where an approved statement goes besides the outbox (see channels/registry.py publishing_targets).
    publish_webhooks: PublishWebhooks = Field(
        default_factory=dict,
        alias="CRISIS_PUBLISH_WEBHOOKS",
        description=(
            'JSON object: target name → {"url": ..., "secret": ...}; signed webhooks (status page, social scheduler). Secrets.'
        ),
    )
    customer_list_email: str | None = Field(
        None,
        alias="CRISIS_CUSTOMER_LIST_EMAIL",
        description="Customer mailing list address receiving published statements by email.",
    )

    # Social networks and the status page (docs/publishing.md): each is a publishing target once its settings are set.
    x_access_token: SecretStr | None = Field(
        None, alias="X_ACCESS_TOKEN", description="OAuth 2.0 user access token with tweet.write (a secret)."
    )
    x_api_url: str | None = Field(None, alias="X_API_URL", description="Replaces https://api.x.com (mock servers).")
    mastodon_api_base_url: str | None = Field(
        None, alias="MASTODON_API_BASE_URL", description="The account's instance, for example https://mastodon.social."
    )
    mastodon_access_token: SecretStr | None = Field(
        None, alias="MASTODON_ACCESS_TOKEN", description="Access token with write:statuses (a secret)."
    )
    mastodon_max_characters: int = Field(
        500,
        ge=1,
        le=100_000,
        alias="MASTODON_MAX_CHARACTERS",
        description="The instance's post limit (500 unless it allows more).",
    )
    bluesky_pds_url: str | None = Field(
        None, alias="BLUESKY_PDS_URL", description="The account's PDS; default https://bsky.social."
    )
    bluesky_handle: str | None = Field(
        None, alias="BLUESKY_HANDLE", description="The account's handle, for example northwind.bsky.social."
    )
    bluesky_app_password: SecretStr | None = Field(
        None, alias="BLUESKY_APP_PASSWORD", description="An app password of the account (a secret)."
    )
    statuspage_api_key: SecretStr | None = Field(None, alias="STATUSPAGE_API_KEY", description="Statuspage API key (a secret).")
    statuspage_page_id: str | None = Field(None, alias="STATUSPAGE_PAGE_ID", description="The page's id (Statuspage: API info).")
    statuspage_api_url: str | None = Field(
        None, alias="STATUSPAGE_API_URL", description="Replaces https://api.statuspage.io/v1 (mock servers)."
    )

    @cached_property
    def temporal_address(self) -> str:
        return self.temporal_address_override or f"127.0.0.1:{self.temporal_port}"

    @cached_property
    def temporal_ui_url(self) -> str:
        return (self.temporal_ui_url_override or f"http://localhost:{self.temporal_ui_port}").rstrip("/")

    @cached_property
    def database_url(self) -> str:
        """The real URL, password included: hand it to the engine, never to a log (see ``database_url_safe``)."""
        if self.database_url_override is not None:
            return self.database_url_override.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'crisis.db'}"

    @cached_property
    def database_url_safe(self) -> str:
        """The database URL with its password masked, for messages."""
        from sqlalchemy.engine import make_url  # here: `crisis --help` need not load SQLAlchemy

        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except Exception:  # not a URL at all: say nothing of it
            return "<unparsable DATABASE_URL>"

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, so logging can mask them wherever they turn up."""
        values = [  # every SecretStr setting, whoever adds one; of DATABASE_URL only its password (below)
            value.get_secret_value()
            for value in (getattr(self, name) for name in type(self).model_fields if name != "database_url_override")
            if isinstance(value, SecretStr)
        ]
        from sqlalchemy.engine import make_url

        try:
            password = make_url(self.database_url).password
        except Exception:
            password = None
        if password:
            values.append(str(password))
        values.extend(target.secret.get_secret_value() for target in self.publish_webhooks.values())
        return [value for value in values if len(value) >= 4]

    @cached_property
    def public_url(self) -> str:
        return (self.public_url_override or f"http://localhost:{self.api_port}").rstrip("/")

    def workflow_url(self, incident_id: str) -> str:
        return f"{self.temporal_ui_url}/namespaces/{self.temporal_namespace}/workflows/{incident_id}"
