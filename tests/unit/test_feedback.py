"""Feedback during the review: once per person, only while the review is open, ratings 1 to 5."""

import pytest
from pydantic import ValidationError

from domain.actions import FeedbackSubmission
from domain.incident import Phase, Rejected
from tests.unit.conftest import ANNA, EWA, Driver


def to_review(drive: Driver) -> Driver:
    drive.to_respond()
    drive.resolve()
    drive.incident.cancel_open_tasks(drive.now)
    drive.enter(Phase.REVIEW)
    drive.incident.record_feedback_requested([EWA, ANNA], drive.now)
    return drive


def give(drive: Driver, person: str, rating: int = 4) -> None:
    action = FeedbackSubmission(person=person, rating=rating, went_well="Quick page")
    drive.incident.check_feedback(action)
    drive.incident.submit_feedback(action, drive.now)


def test_feedback_is_recorded_and_leaves_the_pending_list(drive: Driver):
    to_review(drive)
    assert next(p for p in drive.incident.pending(drive.now) if p.kind == "feedback").people == [EWA, ANNA]
    give(drive, ANNA, 5)
    assert drive.state.feedback[0].rating == 5
    assert next(p for p in drive.incident.pending(drive.now) if p.kind == "feedback").people == [EWA]
    assert drive.state.timeline[-1].message == f"Feedback from {ANNA}: 5/5"


def test_feedback_twice_is_a_conflict(drive: Driver):
    to_review(drive)
    give(drive, ANNA)
    with pytest.raises(Rejected) as twice:
        give(drive, ANNA)
    assert twice.value.kind == "conflict" and len(drive.state.feedback) == 1


@pytest.mark.parametrize("when", ["before the review", "after the review"])
def test_feedback_outside_the_open_review_is_refused(drive: Driver, when):
    if when == "before the review":
        drive.to_respond()
    else:
        to_review(drive)
        drive.review()
    with pytest.raises(Rejected) as closed:
        give(drive, ANNA)
    assert closed.value.message.startswith("the review is closed") and not drive.state.feedback


def test_feedback_from_someone_off_the_roster_is_invalid(drive: Driver):
    to_review(drive)
    with pytest.raises(Rejected) as unknown:
        give(drive, "ghost")
    assert unknown.value.kind == "invalid"


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_refused(rating):
    with pytest.raises(ValidationError) as invalid:
        FeedbackSubmission(person=ANNA, rating=rating)
    assert invalid.value.errors()[0]["loc"] == ("rating",)
