"""Settings: the table in docs/operations.md lists exactly what the app reads, and secrets never
show in a repr, a dump or a message."""

import re

from settings import Settings
from tests.conftest import PROJECT

SECRETS = {
    "DATABASE_URL": "postgresql+asyncpg://crisis:db-pass-123@db:5432/crisisflow",
    "CRISIS_TEMPORAL_API_KEY": "tk-super-secret-key",
    "TWILIO_AUTH_TOKEN": "twilio-token-456",
    "SENDGRID_API_KEY": "SG.sendgrid-key-789",
}


def documented_settings() -> list[str]:
    text = (PROJECT / "docs" / "operations.md").read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return [match.group(1) for line in section.splitlines() if (match := re.match(r"\|\s*`([A-Z0-9_]+)`\s*\|", line))]


def test_the_settings_table_lists_exactly_the_settings_the_app_reads():
    documented = documented_settings()
    read = [field.alias for field in Settings.model_fields.values()]
    assert len(documented) == len(set(documented)), "a setting is listed twice"
    assert sorted(set(read) - set(documented)) == [], "settings the app reads but docs/operations.md does not list"
    assert sorted(set(documented) - set(read)) == [], "settings docs/operations.md lists but the app does not read"


def test_every_setting_has_an_environment_name():
    assert all(field.alias for field in Settings.model_fields.values())


def test_secrets_never_show_in_repr_str_or_dumps():
    settings = Settings(**SECRETS)
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump()), settings.database_url_safe]
    for text in shown:
        for secret in ("db-pass-123", "tk-super-secret-key", "twilio-token-456", "SG.sendgrid-key-789"):
            assert secret not in text
    assert settings.database_url == SECRETS["DATABASE_URL"]  # the engine still gets the real thing
    assert settings.database_url_safe == "postgresql+asyncpg://crisis:***@db:5432/crisisflow"
    assert set(settings.secret_values()) == {"db-pass-123", "tk-super-secret-key", "twilio-token-456", "SG.sendgrid-key-789"}


def test_an_empty_variable_means_unset(monkeypatch):
    monkeypatch.setenv("CRISIS_TEMPORAL_ADDRESS", "")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    settings = Settings()
    assert settings.temporal_address == f"127.0.0.1:{settings.temporal_port}" and settings.twilio_auth_token is None
