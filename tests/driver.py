"""Drives an incident to closed using only what its ``pending`` list says (as a crisis team would)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    update: str
    path: str
    body: dict[str, Any]
    args: list[Any] = field(default_factory=list)


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
        body = {"person": item["people"][0], "impact": "high", "reach": "medium", "answers": answers,
                "facts": ["The issue was confirmed by the owning team."], "audiences": ["customers"]}
        return Step("assess", "assessment", body)
    if items := by_kind.get("task"):
        item = items[0]
        return Step("complete_task", f"tasks/{item['task_id']}/complete", {"person": item["people"][0], "note": "done"}, [item["task_id"]])
    if items := by_kind.get("approval"):
        item = items[0]
        return Step("decide", f"statements/{item['version']}/decision", {"person": item["people"][0], "decision": "approve"}, [item["version"]])
    if items := by_kind.get("internal_approval"):
        item = items[0]
        path = f"internal/{item['audience']}/versions/{item['version']}/decision"
        return Step("decide_internal", path, {"person": item["people"][0], "decision": "approve"}, [item["audience"], item["version"]])
    if items := by_kind.get("statement_draft"):
        return Step("submit_statement", "statements", {"person": items[0]["people"][0], "text": "A revised statement."})
    if items := by_kind.get("internal_draft"):
        item = items[0]
        return Step("submit_internal", f"internal/{item['audience']}", {"person": item["people"][0], "text": "A revised message."}, [item["audience"]])
    if items := by_kind.get("review"):
        body = {"person": items[0]["people"][0], "summary": "Handled within the plan.", "went_well": ["Fast acknowledgement"],
                "went_badly": ["Approval took long"], "action_items": [{"title": "Add a second legal approver", "owner": "legal"}]}
        return Step("submit_review", "review", body)
    published = any(s["status"] == "published" for s in state["statements"])
    if (items := by_kind.get("resolve")) and published and state["phase"] == "communicate":
        return Step("resolve", "resolve", {"person": items[0]["people"][0], "summary": "Service restored and the facts are public."})
    return None
