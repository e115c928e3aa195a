"""``detected_at`` is bounded (issue 16 #12): a first mention of year 1 was taken and the report said
"time to detect 739955 d". It must lie within 30 days before the declaration and not in the future
(a few minutes of clock skew are taken as now); anything else is 422 naming the field."""

from datetime import datetime, timedelta, timezone

import pytest

from services.declare import DETECTION_CLOCK_SKEW, DETECTION_LOOKBACK, Declaration

BODY = {"playbook": "misinformation", "title": "Rumour spreading", "summary": "A fake recall notice."}


def _ago(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) - delta).isoformat()


@pytest.mark.parametrize(
    "detected_at, reason",
    [
        ("0001-01-01T00:00:00Z", "at most 30 days before the declaration"),
        (DETECTION_LOOKBACK + timedelta(hours=1), "at most 30 days before the declaration"),
        (-DETECTION_CLOCK_SKEW - timedelta(minutes=5), "cannot be in the future"),
        ("9999-12-31T23:59:59Z", "cannot be in the future"),
    ],
)
def test_a_first_mention_outside_the_window_is_422_naming_the_field(admin, detected_at, reason):
    """A timedelta is how long before now, taken when the test runs."""
    when = _ago(detected_at) if isinstance(detected_at, timedelta) else detected_at
    refused = admin.post("/incidents", json={**BODY, "detected_at": when})
    assert refused.status_code == 422, refused.text
    problem = refused.json()["detail"][0]
    assert problem["loc"] == ["body", "detected_at"] and reason in problem["msg"]


def test_a_first_mention_within_the_window_is_kept():
    first = datetime.now(timezone.utc) - DETECTION_LOOKBACK + timedelta(hours=1)
    assert Declaration(**BODY, detected_at=first).detected_at == first


def test_a_clock_a_little_ahead_counts_as_now_never_after_the_declaration():
    ahead = datetime.now(timezone.utc) + DETECTION_CLOCK_SKEW / 2
    assert Declaration(**BODY, detected_at=ahead).detected_at <= datetime.now(timezone.utc)
