"""Logs: text lines for a person at a terminal (the default), JSON lines for a log pipeline
(``CRISIS_LOG_FORMAT=json``: one object per line, on stderr).

Every record made while working on one incident carries its id as ``incident_id``: in an
activity (the workflow id is the incident id), in workflow code (``workflow.logger``), and in an
HTTP request whose route names an incident (``/incidents/{incident}/...``). Secret values from
the settings (API keys, the database password, provider tokens) are masked in every line,
whichever logger wrote them.
"""

import json
import logging
import sys
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from typing import Any

from temporalio import activity

from settings import Settings

MASK = "***"
_request_scope: ContextVar[dict | None] = ContextVar("crisisflow_request_scope", default=None)

# Attributes every LogRecord has; anything else on a record was passed with ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "incident_id"}
_TEMPORAL = {
    "temporal_activity": ("workflow_type", "activity_type", "activity_id", "attempt", "task_queue"),
    "temporal_workflow": ("workflow_type", "run_id", "task_queue", "attempt"),
}


def bind_request(scope: dict) -> Token:
    """Called by the HTTP middleware: records made during this request can find its route's incident."""
    return _request_scope.set(scope)


def unbind_request(token: Token) -> None:
    _request_scope.reset(token)


def incident_id_of(record: logging.LogRecord) -> str | None:
    explicit = getattr(record, "incident_id", None)
    if explicit:
        return str(explicit)
    for attribute in _TEMPORAL:
        details = getattr(record, attribute, None)
        if isinstance(details, dict) and details.get("workflow_id"):
            return str(details["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    scope = _request_scope.get()
    if scope is not None:
        incident = (scope.get("path_params") or {}).get("incident")
        if incident:
            return str(incident)
    return None


class IncidentContext(logging.Filter):
    """Sets ``record.incident_id`` (None when the record is about no incident); a record made in
    an activity by any logger also gets the activity's Temporal context."""

    def filter(self, record: logging.LogRecord) -> bool:
        if activity.in_activity() and not isinstance(getattr(record, "temporal_activity", None), dict):
            info = activity.info()
            record.temporal_activity = {
                "workflow_id": info.workflow_id,
                "workflow_type": info.workflow_type,
                "activity_type": info.activity_type,
                "activity_id": info.activity_id,
                "attempt": info.attempt,
                "task_queue": info.task_queue,
            }
        record.incident_id = incident_id_of(record)
        return True


class _Masking:
    def __init__(self, secrets: list[str]):
        # longest first, so a secret containing another is masked whole; JSON-escaped forms too
        variants = {variant for secret in secrets if secret for variant in (secret, json.dumps(secret)[1:-1])}
        self._secrets = sorted(variants, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: list[str] = ()):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(incident)s: %(message)s")
        self._masking = _Masking(list(secrets))

    def format(self, record: logging.LogRecord) -> str:
        incident = getattr(record, "incident_id", None)
        record.incident = f" [{incident}]" if incident else ""
        return self._masking.mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, incident_id, then the Temporal
    context of activity and workflow records, any ``extra=`` fields, and exception text."""

    def __init__(self, secrets: list[str] = ()):
        super().__init__()
        self._masking = _Masking(list(secrets))

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        incident = getattr(record, "incident_id", None)
        if incident:
            entry["incident_id"] = incident
        for attribute, keys in _TEMPORAL.items():
            details = getattr(record, attribute, None)
            if isinstance(details, dict):
                entry.update({key: details[key] for key in keys if details.get(key) is not None})
        for key, value in vars(record).items():
            if (
                key not in _STANDARD
                and key not in _TEMPORAL
                and not key.startswith("_")
                and key not in entry
                and key != "incident"
            ):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self._masking.mask(json.dumps(entry, default=str, ensure_ascii=False))


class _AlembicChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


def configure_logging(settings: Settings, access_log: bool = True) -> logging.Handler:
    """Route every logger (ours, uvicorn's, Alembic's, the Temporal SDK's) to one handler on
    stderr in the chosen format. ``access_log``: one line per HTTP request (``crisisflow.http``)."""
    secrets = settings.secret_values()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(IncidentContext())
    handler.setFormatter(JsonFormatter(secrets) if settings.log_format == "json" else TextFormatter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # crisisflow.http logs requests, with their route and incident
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    # Twilio's SDK logs every request in ten INFO lines (URL, headers, status): kept for DEBUG. The
    # SMS channel logs each accepted message already, and formatting and masking those lines took
    # 3 % of a paging worker's CPU.
    logging.getLogger("twilio.http_client").setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(existing, _AlembicChatter) for existing in migration.filters):
        migration.addFilter(_AlembicChatter())  # keep "Running upgrade 0001 -> 0002", drop the rest
    logging.getLogger("crisisflow.http").setLevel(logging.NOTSET if access_log else logging.WARNING)
    return handler
