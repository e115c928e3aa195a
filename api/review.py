"""The review phase over HTTP: feedback, and the post-incident report (HTML with an SVG timeline,
or Markdown)."""

import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from api.auth import Responder
from api.charts import timeline_chart
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.incidents import REFUSALS, ActionResult, IncidentId, act_as_caller
from api.mention_chart import conversation_svg, incident_conversation, percent, replies_svg
from api.mentions import replies_to_statements
from api.pages import templates
from domain.actions import FeedbackSubmission
from domain.conversation import Conversation
from domain.export_text import markdown_cell as cell
from domain.export_text import markdown_text as md
from domain.incident import IncidentState, TimelineEvent
from domain.metrics import IncidentMetrics, compute, describe, margin_text, state_from_view
from domain.times import clock_time
from services.temporal import IncidentNotFound, query_state
from store import service
from workflows.incident import IncidentWorkflow

router = APIRouter(tags=["review"])
_AUTOLINK = re.compile(r"https?://[^\s<>`\\]+")  # a URL a Markdown autolink carries as it is


class ReportFormat(StrEnum):
    HTML = "html"
    MD = "md"


@router.post("/incidents/{incident}/feedback", responses=REFUSALS)
async def feedback(
    incident: IncidentId, body: FeedbackSubmission, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """Feedback on the response during the review: a 1–5 rating, what went well and what went badly (once per person)."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.submit_feedback, body)


class Report:
    """Everything the report shows, computed once for both formats."""

    def __init__(
        self,
        state: IncidentState,
        commander_role: str,
        now: datetime,
        conversation: Conversation | None = None,
        replies: dict[int, dict[str, Any]] | None = None,
    ):
        self.state = state
        self.conversation = conversation
        self.replies = replies or {}  # per statement version: the replies its posts drew (api/mentions.py)
        self.end = state.closed_at or now
        self.metrics: IncidentMetrics = compute(state, commander_role, now)
        deadline_of = {
            "time to acknowledge": f"acknowledge.{commander_role}",
            "time to assessment": "assessment",
            "time to first statement": "first_statement",
        }
        by_name = {d.name: d for d in self.metrics.deadlines}
        self.rows = []
        for label, value in self.metrics.headline().items():
            deadline = by_name.get(deadline_of.get(label, ""))
            self.rows.append(
                {
                    "metric": label,
                    "value": describe(value),
                    "deadline": describe(deadline.due_at - state.declared_at) if deadline else "",
                    "status": deadline.status if deadline else "",
                    "margin": margin_text(deadline) if deadline else "",
                }
            )
        self.deadlines = [{**d.model_dump(), "margin_text": margin_text(d)} for d in self.metrics.deadlines]
        ratings = [f.rating for f in state.feedback]
        self.feedback_mean = sum(ratings) / len(ratings) if ratings else None
        self.distribution = {value: ratings.count(value) for value in range(1, 6)}
        score = self.metrics.score
        self.score_text = (
            f"{self.metrics.met} of {self.metrics.met + self.metrics.missed} deadlines met ({score:.0%})"
            if score is not None
            else "no deadline fell due"
        )

    def markdown(self) -> str:
        """The report in Markdown; every text people or playbooks wrote is escaped (domain/export_text.py)."""
        state, metrics = self.state, self.metrics
        drill = " [DRILL]" if state.drill else ""
        # The incident id, playbook and scenario are of a fixed alphabet: no Markdown to escape.
        lines = [
            f"# Post-incident report: {md(state.title)}{drill}",
            "",
            f"- Incident: `{state.id}` · playbook `{state.playbook}` ({state.scenario}) · {state.severity.value}",
            f"- Declared {state.declared_at:%Y-%m-%d %H:%M} UTC"
            + (f" · closed {state.closed_at:%Y-%m-%d %H:%M} UTC" if state.closed_at else f" · phase {state.phase.value}"),
            f"- Score: {self.score_text}",
            f"- Highest escalation level reached: {metrics.highest_escalation_level}",
            "",
            "## Metrics",
            "",
            "| metric | value | deadline | status | margin |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            "| " + " | ".join(cell(r[key]) for key in ("metric", "value", "deadline", "status", "margin")) + " |"
            for r in self.rows
        ]
        lines += ["", "## Deadlines", "", "| deadline | due | met | status | margin |", "| --- | --- | --- | --- | --- |"]
        day = state.declared_at
        lines += [
            f"| {cell(d['label'])} | {clock_time(d['due_at'], day)} | {clock_time(d['met_at'], day) if d['met_at'] else '—'} |"
            f" {cell(d['status'])} | {cell(d['margin_text'])} |"
            for d in self.deadlines
        ]
        lines += ["", "## Approval rounds", ""]
        if metrics.rounds_not_listed:
            lines.append(f"- {metrics.rounds_not_listed} earlier rounds, counted but not listed one by one")
        for round_ in metrics.approval_rounds:
            who = (
                ", ".join(f"{cell(d.person)} {d.decision} after {describe(d.waited)}" for d in round_.decisions) or "no decisions"
            )
            lines.append(f"- v{round_.version} ({cell(round_.kind)}): {cell(round_.outcome)}; {who}")
        if not metrics.approval_rounds:
            lines.append("- none")
        lines += ["", "## Statements", ""]
        for statement in state.statements:
            fallback = " (fallback)" if statement.fallback else ""
            lines += [
                f"### v{statement.version} {statement.kind.value}: {statement.status.value}{fallback}",
                "",
                *[f"> {md(line)}" for line in statement.text.splitlines()],
                "",
            ]
            lines += self._receipts_markdown(statement.receipts)
            lines += self._replies_markdown(statement.version)
        if not state.statements:
            lines += ["Nothing was said in public.", ""]
        lines += ["## Feedback", ""]
        if state.feedback:
            lines.append(f"{len(state.feedback)} answer(s), mean rating {self.feedback_mean:.1f}/5.")
            lines += [
                f"- {cell(f.person)}: {f.rating}/5"
                + (f"; well: {cell(f.went_well)}" if f.went_well else "")
                + (f"; badly: {cell(f.went_badly)}" if f.went_badly else "")
                for f in state.feedback
            ]
        else:
            lines.append("No feedback yet.")
        lines += self._conversation_markdown()
        lines += ["", "## Findings", ""]
        review = state.review
        if review:
            lines += (
                [md(review.summary), ""]
                + [f"- Went well: {cell(item)}" for item in review.went_well]
                + [f"- Went badly: {cell(item)}" for item in review.went_badly]
            )
            lines += ["", "## Action items", "", "| action | owner | due | playbook section |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {cell(a.title)} | {cell(a.owner)} | {a.due or ''} | {cell(a.playbook_section or '')} |"
                for a in review.action_items
            ]
        else:
            lines.append("The review has not been submitted yet.")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _receipts_markdown(receipts) -> list[str]:
        """Where the statement went, per target: the post's public URL (or id), or why it did not go."""
        if not receipts:
            return []
        lines = []
        for receipt in receipts:
            if receipt.error:
                lines.append(f"- {cell(receipt.channel)}: not published: {cell(receipt.error)}")
            else:
                where = (
                    f"<{receipt.url}>" if receipt.url and _AUTOLINK.fullmatch(receipt.url) else cell(receipt.url or "published")
                )
                lines.append(f"- {cell(receipt.channel)}: {where}")
        return lines + [""]

    def _replies_markdown(self, version: int) -> list[str]:
        replies = self.replies.get(version)
        if not replies:
            return []
        line = f"Replies and quotes: {replies['replies']}, {percent(replies['negative_share'])} negative."
        if replies.get("surge"):
            line += f" **Surge of negative replies** (signal `{replies['surge']['signal']}`): {md(replies['surge']['summary'])}"
        return [line, ""]

    def _conversation_markdown(self) -> list[str]:
        talk = self.conversation
        if talk is None:
            return []
        lines = [
            "",
            "## The conversation",
            "",
            f"{talk.mentions:,} mentions on {md(', '.join(talk.topics))}, {talk.reach:,} total reach.",
        ]
        if talk.time_to_detect is not None:
            lines.append(
                f"Detected {talk.time_to_detect} after the surge's first mention, declared {talk.time_to_declare} after it."
            )
        if talk.statements:
            lines += ["", "| statement | published | negative, hour before | negative, hour after |", "| --- | --- | --- | --- |"]
            lines += [
                f"| v{e.version} {cell(e.kind)} | {e.published_at:%H:%M} UTC | {percent(e.before)} of {e.before_count} |"
                f" {percent(e.after)} of {e.after_count} |"
                for e in talk.statements
            ]
        return lines


@router.get(
    "/incidents/{incident}/report", responses={200: {"content": {"text/html": {}, "text/markdown": {}}}, 404: REFUSALS[404]}
)
async def report(
    incident: IncidentId,
    request: Request,
    client: ClientDep,
    catalog: CatalogDep,
    session: SessionDep,
    format: ReportFormat = ReportFormat.HTML,
) -> Response:
    """The post-incident report: a timeline chart, the metrics against their deadlines, every
    statement version, the conversation around them (when a monitored topic relates to the
    incident), the feedback and the action items. ``?format=md`` gives Markdown."""
    try:
        view = await query_state(client, incident)
    except IncidentNotFound:
        if format is ReportFormat.MD:
            raise HTTPException(404, f"incident '{incident}' does not exist") from None
        return templates.TemplateResponse(request, "not_found.html", {"incident": incident}, status_code=404)
    state = state_from_view(view)
    if state.earlier.events:  # a long incident: its earlier runs' events are in the read model, the state keeps the recent ones
        state.timeline = [
            TimelineEvent.model_validate(row, from_attributes=True) for row in await service.list_timeline(session, incident)
        ]
    playbook = catalog.playbooks.get(state.playbook)
    commander_role = playbook.identify.commander if playbook else "incident_commander"
    talk = await incident_conversation(session, catalog, view)
    replies = {
        item["version"]: {**item, "chart": replies_svg(item["version"], item)}
        for item in await replies_to_statements(session, incident)
    }
    built = Report(state, commander_role, datetime.now(timezone.utc), talk, replies)
    if format is ReportFormat.MD:
        return PlainTextResponse(built.markdown(), media_type="text/markdown; charset=utf-8")
    return templates.TemplateResponse(
        request,
        "report.html",
        {
            "report": built,
            "state": state,
            "chart": timeline_chart(state, built.metrics, built.end),
            "describe": describe,
            "clock_time": clock_time,
            "incident": view,
            "conversation": talk,
            "conversation_chart": conversation_svg(talk) if talk else None,
        },
    )
