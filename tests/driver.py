"""Drives an incident to closed using only what its ``pending`` list says (as a crisis team would)."""

from dataclasses import dataclass, field
from typing import Any

from domain import actions

# Each Update's one input: the API's body with what the API's path names.
UPDATE_INPUTS: dict[str, type[actions.Action]] = {
    "acknowledge": actions.Acknowledge,
    "assess": actions.Assessment,
    "reassess": actions.Reassessment,
    "task_done": actions.TaskDone,
    "decide_statement": actions.DecideStatement,
    "submit_statement": actions.StatementDraft,
    "resolve": actions.Resolution,
    "submit_review": actions.ReviewSubmission,
    "propose_kit_answer": actions.ProposeAnswer,
    "decide_kit_answer": actions.DecideAnswer,
    "revise_internal": actions.ReviseInternal,
    "decide_internal_message": actions.DecideInternal,
}


@dataclass
class Step:
    update: str
    path: str
    body: dict[str, Any]
    identifiers: dict[str, Any] = field(default_factory=dict)

    def update_input(self) -> actions.Action:
        """The Update's one input: the body, with the identifiers the API takes from the path."""
        return UPDATE_INPUTS[self.update].model_validate({**self.body, **self.identifiers})


def next_step(state: dict[str, Any]) -> Step | None:
    """The next thing a person would do, or None while only the workflow is working."""
    by_kind: dict[str, list[dict]] = {}
    for item in state["pending"]:
        by_kind.setdefault(item["kind"], []).append(item)
    if items := by_kind.get("acknowledge"):
        return Step("acknowledge", "acknowledge", {"person": items[0]["people"][0]})
    if items := by_kind.get("assessment"):
        item = items[0]
        answers = {q["id"]: f"Answer to {q['id']}" for q in item["questions"]}
        body = {
            "person": item["people"][0],
            "impact": "high",
            "reach": "medium",
            "answers": answers,
            "facts": ["The issue was confirmed by the owning team."],
            "audiences": ["customers"],
        }
        return Step("assess", "assessment", body)
    if items := by_kind.get("task"):
        item = items[0]
        return Step(
            "task_done",
            f"tasks/{item['task_id']}/complete",
            {"person": item["people"][0], "note": "done"},
            {"task_id": item["task_id"]},
        )
    if items := by_kind.get("approval"):
        item = items[0]
        return Step(
            "decide_statement",
            f"statements/{item['version']}/decision",
            {"person": item["people"][0], "decision": "approve"},
            {"version": item["version"]},
        )
    if items := by_kind.get("internal_approval"):
        item = items[0]
        path = f"internal/{item['audience']}/versions/{item['version']}/decision"
        return Step(
            "decide_internal_message",
            path,
            {"person": item["people"][0], "decision": "approve"},
            {"audience": item["audience"], "version": item["version"]},
        )
    if items := by_kind.get("statement_draft"):
        return Step("submit_statement", "statements", {"person": items[0]["people"][0], "text": "A revised statement."})
    if items := by_kind.get("internal_draft"):
        item = items[0]
        return Step(
            "revise_internal",
            f"internal/{item['audience']}",
            {"person": item["people"][0], "text": "A revised message."},
            {"audience": item["audience"]},
        )
    if items := by_kind.get("review"):
        body = {
            "person": items[0]["people"][0],
            "summary": "Handled within the plan.",
            "went_well": ["Fast acknowledgement"],
            "went_badly": ["Approval took long"],
            "action_items": [{"title": "Add a second legal approver", "owner": "legal"}],
        }
        return Step("submit_review", "review", body)
    published = any(s["status"] == "published" for s in state["statements"])
    if (items := by_kind.get("resolve")) and published and state["phase"] == "communicate":
        return Step(
            "resolve", "resolve", {"person": items[0]["people"][0], "summary": "Service restored and the facts are public."}
        )
    return None
