"""The incident as people read it: what waits on whom and by when, and the API's view."""

from datetime import datetime
from typing import Any

from domain.incident.state import ACTIVE_PHASES, Phase, StatementStatus


class View:
    def pending(self, now: datetime) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if self.closed:
            return items
        deadlines = self.state.deadlines

        def due(name: str) -> datetime | None:
            deadline = deadlines.get(name)
            return deadline.due_at if deadline else None

        for role, ack in self.state.acknowledgements.items():
            if ack.acknowledged_by is None and (ack.pages or self.phase is Phase.IDENTIFY):
                items.append({"kind": "acknowledge", "role": role, "people": self.members(role), "due_at": due(f"acknowledge.{role}"), "title": f"Acknowledge the page as {role}"})
        commanders = self.members(self.commander_role)
        if self.phase is Phase.ASSESS and self.state.assessment is None:
            items.append({"kind": "assessment", "people": commanders, "due_at": due("assessment"), "title": "Assess impact, reach and severity", "questions": [q.model_dump() for q in self.playbook.assess.questions]})
        for task in self.open_tasks():
            people = [task.assignee] + [p for p in self.members(task.owner) + commanders if p != task.assignee]
            items.append({"kind": "task", "task_id": task.id, "people": list(dict.fromkeys(people)), "due_at": task.due_at, "title": task.title})
        if self.statements_open():
            current = self.in_flight()
            statement_due = due("first_statement") if not self.published() else self.state.next_update_due
            authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + commanders))
            if current and current.status is StatementStatus.PENDING_APPROVAL:
                for role, deciders in self.awaiting_decision(current):
                    items.append({"kind": "approval", "version": current.version, "role": role, "people": deciders, "due_at": statement_due, "title": f"Approve statement v{current.version} as {role}"})
            elif current and current.status is StatementStatus.REJECTED:
                items.append({"kind": "statement_draft", "people": authors, "due_at": statement_due, "title": f"Revise statement v{current.version} (changes requested)", "version": current.version})
        items += self.pending_answers()
        items += self.pending_internal()
        if self.phase in ACTIVE_PHASES and not self.resolved:
            items.append({"kind": "resolve", "people": commanders, "due_at": None, "title": "Resolve the incident when it is over"})
        if self.phase is Phase.REVIEW and self.state.review is None:
            items.append({"kind": "review", "people": commanders, "due_at": due("review"), "title": "Submit the post-incident review"})
            if awaiting := self.awaiting_feedback():
                items.append({"kind": "feedback", "people": awaiting, "due_at": due("review"), "title": "Give feedback on the response (1–5, what went well and badly)"})
        return items

    def view(self, now: datetime) -> dict[str, Any]:
        """The incident as the API shows it (JSON-ready)."""
        data = self.state.model_dump(mode="json", exclude={"revision", "acknowledgements"})
        data["status"] = "closed" if self.closed else "open"
        data["scenario"] = self.state.scenario
        data["acknowledgements"] = [ack.model_dump(mode="json") for ack in self.state.acknowledgements.values()]
        resolved_at = self.state.resolution.at if self.state.resolution else None
        data["deadlines"] = [
            {**d.model_dump(mode="json"), "status": d.status(now, resolved_at, self.closed)} for d in self.state.deadlines.values()
        ]
        data["pending"] = [
            {**item, "due_at": item["due_at"].isoformat() if item["due_at"] else None} for item in self.pending(now)
        ]
        data["answers_kit"] = self.answers_kit()
        return data
