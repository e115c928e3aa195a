"""Moving through the phases: the assessment and severity, resolution, the post-incident review
and the feedback collected for it."""

from datetime import datetime

from domain.actions import Assessment, FeedbackSubmission, Reassessment, Resolution, ReviewSubmission
from domain.events import EventKind
from domain.incident.state import ACTIVE_PHASES, FeedbackRecord, Phase, Rejected, ResolutionRecord
from domain.severity import severity_from_matrix


class Phases:
    def enter(self, phase: Phase, now: datetime) -> None:
        previous = self.state.phase
        self.state.phase = phase
        if phase is Phase.ASSESS:
            within = self.playbook.assess.due_within.at(self.severity)
            self._deadline("assessment", "assessment submitted", now + within)
        elif phase is Phase.RESPOND:
            self._open_tasks(now)
        elif phase is Phase.REVIEW:
            self._deadline("review", "post-incident review submitted", now + self.playbook.review.due_after)
        elif phase is Phase.CLOSED:
            self.state.closed_at = now
        self._event(
            now,
            EventKind.PHASE_CHANGED,
            None,
            f"Phase {previous.value} → {phase.value}",
            phase=phase.value,
            previous=previous.value,
        )

    def check_assessment(self, action: Assessment) -> None:
        self._require_phase("submit the assessment", Phase.ASSESS)
        self._require_role(action.person, [self.commander_role], "assess the incident")
        if self.state.assessment is not None:
            raise Rejected(f"already assessed by {self.state.assessment.person}")
        if action.severity is None and (action.impact is None or action.reach is None):
            raise Rejected("severity: give a severity, or both impact and reach for the severity matrix", "invalid")
        known = {q.id for q in self.playbook.assess.questions}
        unknown = sorted(set(action.answers) - known)
        if unknown:
            raise Rejected(
                f"answers: unknown question {', '.join(unknown)} (this playbook asks: {', '.join(sorted(known))})",
                "invalid",
            )

    def assess(self, action: Assessment, now: datetime) -> None:
        severity = action.severity or severity_from_matrix(action.impact, action.reach)
        assessment = action.model_copy(update={"severity": severity})
        self.state.assessment = assessment
        self.state.assessed_at = now
        self._meet("assessment", now)
        changed = severity is not self.state.severity
        previous = self.state.severity
        self.state.severity = severity
        if changed:
            self._set_first_statement_deadline()
        note = f" (was {previous})" if changed else ""
        self._event(
            now,
            EventKind.ASSESSED,
            action.person,
            f"Assessed as {severity}{note}",
            severity=severity.value,
            previous=previous.value,
            via=action.via,
        )
        if action.fact_sheet is not None:
            self._edit_fact_sheet(action.fact_sheet, action.person, now, via=action.via)

    def check_reassessment(self, action: Reassessment) -> None:
        self._require_open()
        self._require_role(action.person, [self.commander_role], "change the severity")
        if self.state.assessment is None:
            raise Rejected("the incident is not assessed yet: the assessment sets the first severity")
        if action.severity is self.severity:
            raise Rejected(f"severity: the incident is already {self.severity}", "invalid")

    def reassess(self, action: Reassessment, now: datetime) -> None:
        """A new severity: the deadlines it sets that are still to come follow it (the first
        statement, hence the holding point); an update already promised to the public stands."""
        previous = self.state.severity
        self.state.severity = action.severity
        self._set_first_statement_deadline()
        way = "raised" if action.severity.value < previous.value else "lowered"
        self._event(
            now,
            EventKind.SEVERITY_CHANGED,
            action.person,
            f"Severity {way} from {previous} to {action.severity} by {action.person}: {action.reason}",
            severity=action.severity.value,
            previous=previous.value,
            reason=action.reason,
            via=action.via,
        )

    def check_resolve(self, action: Resolution) -> None:
        self._require_phase("resolve", *ACTIVE_PHASES)
        self._require_role(action.person, [self.commander_role], "resolve the incident")
        if self.resolved:
            raise Rejected(f"already resolved by {self.state.resolution.person}")
        for obligation in self.obligations_open():
            task = self.task(obligation.met_by)
            due = self.state.deadlines[f"obligation.{obligation.id}"].due_at
            raise Rejected(
                f"the task '{task.title}' is still open and meets an obligation: {obligation.label} (due {due:%Y-%m-%d %H:%M}"
                " UTC); complete it first, with a note saying why if it is not required"
            )

    def resolve(self, action: Resolution, now: datetime) -> None:
        self.state.resolution = ResolutionRecord(person=action.person, summary=action.summary, at=now)
        self.state.next_update_due = None
        self._event(now, EventKind.RESOLVED, action.person, f"Resolved by {action.person}: {action.summary}", via=action.via)

    def check_review(self, action: ReviewSubmission) -> None:
        self._require_phase("submit the review", Phase.REVIEW)
        self._require_role(action.person, [self.commander_role], "submit the review")
        if self.state.review is not None:
            raise Rejected(f"the review was already submitted by {self.state.review.person}")

    def submit_review(self, action: ReviewSubmission, now: datetime) -> None:
        self.state.review = action
        self._meet("review", now)
        self._event(
            now,
            EventKind.REVIEW_SUBMITTED,
            action.person,
            f"Post-incident review submitted by {action.person} with {len(action.action_items)} action items",
            via=action.via,
        )

    def check_feedback(self, action: FeedbackSubmission) -> None:
        if self.phase is not Phase.REVIEW or self.state.review is not None:
            raise Rejected("the review is closed; feedback is collected only until the review is submitted")
        self._require_person(action.person)
        if any(f.person == action.person for f in self.state.feedback):
            raise Rejected(f"'{action.person}' has already given feedback on this incident")

    def record_feedback_requested(self, people: list[str], now: datetime, reminder: bool = False) -> None:
        self.state.feedback_requested = list(dict.fromkeys(self.state.feedback_requested + people))
        what = "Feedback reminder sent to" if reminder else "Feedback requested from"
        self._event(
            now, EventKind.FEEDBACK_REQUESTED, None, f"{what} {', '.join(people) or 'nobody'}", people=people, reminder=reminder
        )

    def awaiting_feedback(self) -> list[str]:
        given = {f.person for f in self.state.feedback}
        return [p for p in self.state.feedback_requested if p not in given]

    def submit_feedback(self, action: FeedbackSubmission, now: datetime) -> None:
        record = FeedbackRecord(
            person=action.person, rating=action.rating, went_well=action.went_well, went_badly=action.went_badly, at=now
        )
        self.state.feedback.append(record)
        self._event(
            now,
            EventKind.FEEDBACK_RECEIVED,
            action.person,
            f"Feedback from {action.person}: {action.rating}/5",
            rating=action.rating,
            via=action.via,
        )
