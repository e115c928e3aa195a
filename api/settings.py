"""Every setting crisisflow reads, from the environment (or a ``.env`` file)."""

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("var"), alias="CRISIS_DATA_DIR", description="Embedded Temporal and SQLite files.")
    playbooks_dir: Path = Field(PROJECT_DIR / "playbooks", alias="CRISIS_PLAYBOOKS_DIR")
    api_host: str = Field("127.0.0.1", alias="CRISIS_API_HOST")
    api_port: int = Field(8000, alias="CRISIS_API_PORT")
    temporal_host: str = Field("127.0.0.1", alias="CRISIS_TEMPORAL_HOST", description="Interface the embedded dev server listens on.")
    temporal_port: int = Field(7233, alias="CRISIS_TEMPORAL_PORT", description="Embedded dev server's gRPC port.")
    temporal_ui_port: int = Field(8233, alias="CRISIS_TEMPORAL_UI_PORT")
    temporal_address_override: str | None = Field(
        None, alias="CRISIS_TEMPORAL_ADDRESS", description="host:port of an existing Temporal frontend."
    )
    temporal_namespace: str = Field("default", alias="CRISIS_TEMPORAL_NAMESPACE")
    temporal_ui_url_override: str | None = Field(None, alias="CRISIS_TEMPORAL_UI_URL")
    task_queue: str = Field("crisisflow", alias="CRISIS_TASK_QUEUE")
    database_url_override: str | None = Field(None, alias="DATABASE_URL")
    public_url_override: str | None = Field(None, alias="CRISIS_PUBLIC_URL", description="Base of every link sent to people.")
    max_body_bytes: int = Field(64 * 1024, alias="CRISIS_MAX_BODY_BYTES")

    @cached_property
    def temporal_address(self) -> str:
        return self.temporal_address_override or f"127.0.0.1:{self.temporal_port}"

    @cached_property
    def temporal_ui_url(self) -> str:
        return (self.temporal_ui_url_override or f"http://localhost:{self.temporal_ui_port}").rstrip("/")

    @cached_property
    def database_url(self) -> str:
        return self.database_url_override or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'crisis.db'}"

    @cached_property
    def public_url(self) -> str:
        return (self.public_url_override or f"http://localhost:{self.api_port}").rstrip("/")

    def workflow_url(self, incident_id: str) -> str:
        return f"{self.temporal_ui_url}/namespaces/{self.temporal_namespace}/workflows/{incident_id}"

    def incident_page_url(self, incident_id: str) -> str:
        return f"{self.public_url}/incidents/{incident_id}/view"
