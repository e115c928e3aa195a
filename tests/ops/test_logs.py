"""Log lines: JSON for pipelines, text for people; the incident id on every record about one
incident; secrets masked whoever logs them."""

import dataclasses
import io
import json
import logging

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from api.logs import MASK, IncidentContext, JsonFormatter, TextFormatter, bind_request, configure_logging, unbind_request
from settings import Settings


@pytest.fixture
def capture():
    """A handler like configure_logging's, on a private logger, writing to a buffer."""

    def make(formatter: logging.Formatter):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(IncidentContext())
        handler.setFormatter(formatter)
        logger = logging.getLogger(f"crisisflow.test.{id(stream)}")
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return logger, stream

    return make


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_basics_and_extras(capture):
    logger, stream = capture(JsonFormatter())
    logger.info("paged %s", "ewa", extra={"channel": "sms", "attempt_no": 2})
    [record] = lines(stream)
    assert record["message"] == "paged ewa" and record["level"] == "info" and record["logger"] == logger.name
    assert record["ts"].endswith("Z") and record["channel"] == "sms" and record["attempt_no"] == 2
    assert "incident_id" not in record


def test_exceptions_are_one_json_line(capture):
    logger, stream = capture(JsonFormatter())
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        logger.exception("failed")
    [record] = lines(stream)
    assert record["message"] == "failed" and "ValueError: broken" in record["exception"]


async def test_activity_records_carry_the_incident_id(capture):
    """Any logger used inside an activity: the workflow id is the incident id."""
    logger, stream = capture(JsonFormatter())
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, workflow_id="inc-42", activity_type="notify")

    @activity.defn
    async def notify() -> None:
        logger.info("outbox sms → ewa")

    await environment.run(notify)
    logger.info(
        "what the SDK's activity.logger adds",
        extra={"temporal_activity": {"workflow_id": "inc-43", "activity_type": "publish", "attempt": 2}},
    )
    records = lines(stream)
    assert [r["incident_id"] for r in records] == ["inc-42", "inc-43"]
    assert records[0]["activity_type"] == "notify" and records[0]["attempt"] == 1
    assert records[1]["activity_type"] == "publish" and records[1]["attempt"] == 2


def test_workflow_logger_records_carry_the_incident_id(capture):
    logger, stream = capture(JsonFormatter())
    logger.info(
        "entering assess",
        extra={"temporal_workflow": {"workflow_id": "inc-7", "workflow_type": "IncidentWorkflow", "run_id": "r1"}},
    )
    [record] = lines(stream)
    assert (
        record["incident_id"] == "inc-7" and record["workflow_type"] == "IncidentWorkflow" and "temporal_workflow" not in record
    )


def test_request_records_carry_the_routes_incident(capture):
    logger, stream = capture(JsonFormatter())
    scope = {"type": "http", "path_params": {}}
    token = bind_request(scope)
    try:
        logger.info("before routing")
        scope["path_params"] = {"incident": "inc-9"}  # what the router does once it matched
        logger.info("in the handler")
    finally:
        unbind_request(token)
    logger.info("after the request")
    assert [r.get("incident_id") for r in lines(stream)] == [None, "inc-9", None]


def test_text_lines_show_the_incident_in_brackets(capture):
    logger, stream = capture(TextFormatter())
    logger.warning("deadline missed", extra={"incident_id": "inc-3"})
    logger.warning("no incident")
    first, second = stream.getvalue().splitlines()
    assert " WARNING " in first and "[inc-3]: deadline missed" in first
    assert "[" not in second and second.endswith(": no incident")


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
def test_secret_values_are_masked_wherever_they_appear(capture, formatter):
    settings = Settings(
        DATABASE_URL="postgresql+asyncpg://crisis:db-pass-123@db:5432/crisisflow",
        CRISIS_TEMPORAL_API_KEY="tk-super-secret-key",
        TWILIO_AUTH_TOKEN="twilio-token-456",
    )
    logger, stream = capture(formatter(settings.secret_values()))
    logger.error(
        "connecting with %s and key %s", settings.database_url, "tk-super-secret-key", extra={"token": "twilio-token-456"}
    )
    try:
        raise RuntimeError('auth "tk-super-secret-key" refused')
    except RuntimeError:
        logger.exception("failed")
    output = stream.getvalue()
    for secret in ("db-pass-123", "tk-super-secret-key", "twilio-token-456"):
        assert secret not in output
    assert output.count(MASK) >= 4 and "crisis:***@db:5432/crisisflow" in output


def test_configure_logging_routes_every_logger_to_one_json_handler():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        handler = configure_logging(Settings(CRISIS_LOG_FORMAT="json", CRISIS_LOG_LEVEL="DEBUG"), access_log=False)
        assert root.handlers == [handler] and root.level == logging.DEBUG
        assert isinstance(handler.formatter, JsonFormatter)
        assert logging.getLogger("uvicorn.error").propagate and not logging.getLogger("uvicorn.error").handlers
        assert logging.getLogger("crisisflow.http").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)  # Twilio's request lines, for DEBUG only
        assert isinstance(configure_logging(Settings()).formatter, TextFormatter)
        assert logging.getLogger("crisisflow.http").getEffectiveLevel() == logging.INFO
        assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        logging.getLogger("crisisflow.http").setLevel(logging.NOTSET)
        logging.getLogger("twilio.http_client").setLevel(logging.NOTSET)
