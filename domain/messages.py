"""What crisisflow says to the crisis team. Pure text, by person id: contacts are added at send time."""

from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.durations import humanize


class Notice(BaseModel):
    """A message for one person; ``page`` notices want an acknowledgement."""

    incident_id: str
    person: str
    kind: str
    subject: str
    body: str
    drill: bool = False


def _notice(incident_id: str, person: str, kind: str, subject: str, body: str, drill: bool) -> Notice:
    return Notice(
        incident_id=incident_id,
        person=person,
        kind=kind,
        subject=f"[DRILL] {subject}" if drill else subject,
        body=body,
        drill=drill,
    )


def _at(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


def page(incident_id: str, person: str, role: str, title: str, severity: str, level: int, ack_within: timedelta, drill: bool) -> Notice:
    escalated = f" (escalation level {level + 1})" if level else ""
    body = (
        f"You are paged as {role}{escalated} for incident {incident_id}: {title}. "
        f"Acknowledge within {humanize(ack_within)} or the next person is paged."
    )
    return _notice(incident_id, person, "page", f"{severity} crisis: {title}", body, drill)


def reminder(incident_id: str, person: str, what: str, due_at: datetime, drill: bool) -> Notice:
    return _notice(incident_id, person, "reminder", f"Overdue: {what}", f"Incident {incident_id}: '{what}' was due at {_at(due_at)} and is still open.", drill)


def task_assigned(incident_id: str, person: str, title: str, due_at: datetime, drill: bool, escalated_from: str | None = None) -> Notice:
    handover = f" It passed to you because {escalated_from} did not complete it in time." if escalated_from else ""
    return _notice(incident_id, person, "task", f"Task: {title}", f"Incident {incident_id}: you own '{title}', due at {_at(due_at)}.{handover}", drill)


def approval_request(incident_id: str, person: str, version: int, role: str, text: str, drill: bool) -> Notice:
    return _notice(incident_id, person, "approval", f"Approve statement v{version}", f"Incident {incident_id}: statement v{version} needs your approval as {role}.\n\n{text}", drill)


def changes_requested(incident_id: str, person: str, version: int, by: str, comment: str | None, drill: bool) -> Notice:
    said = f": {comment.rstrip('.')}" if comment else ""
    return _notice(incident_id, person, "revision", f"Changes requested on statement v{version}", f"Incident {incident_id}: {by} requested changes to statement v{version}{said}. Submit a new version.", drill)


def published(incident_id: str, person: str, version: int, text: str, drill: bool) -> Notice:
    return _notice(incident_id, person, "published", f"Statement v{version} published", f"Incident {incident_id}: statement v{version} is public.\n\n{text}", drill)


def review_request(incident_id: str, person: str, due_at: datetime, drill: bool) -> Notice:
    return _notice(incident_id, person, "review", "Post-incident review", f"Incident {incident_id} is resolved. Submit the post-incident review by {due_at:%Y-%m-%d %H:%M} UTC.", drill)
