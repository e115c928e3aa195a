"""The playbook schema: one scenario's crisis plan, phase by phase.

A playbook is data (YAML under ``playbooks/``). It is validated here, resolved by the API at
declaration and pinned into the workflow input, so a running incident never changes plan.
"""

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from domain.durations import Duration, humanize
from domain.lenient import Authored
from domain.listening import RepliesWatch
from domain.safe_text import LongText, OneLine
from domain.severity import Severity
from domain.variants import Channel

_IDENT = r"^[a-z][a-z0-9_]*$"


class Scenario(StrEnum):
    TECHNICAL_OUTAGE = "technical_outage"
    ACCOUNT_COMPROMISE = "account_compromise"
    CONTROVERSIAL_POST = "controversial_post"
    CUSTOMER_BACKLASH = "customer_backlash"
    MISINFORMATION = "misinformation"
    DATA_BREACH = "data_breach"


class Strict(Authored):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BySeverity(Strict):
    """One duration for each severity; SEV1 is the most urgent and usually the shortest."""

    SEV1: Duration
    SEV2: Duration
    SEV3: Duration
    SEV4: Duration

    def at(self, severity: Severity) -> timedelta:
        return getattr(self, severity.value)


class Identify(Strict):
    page: list[str] = Field(min_length=1, description="Roles paged at declaration, each along its escalation order.")
    commander: str = Field("incident_commander", description="The role whose acknowledgement opens the assessment.")
    acknowledge_within: BySeverity = Field(description="Wait at each escalation level before paging the next person.")
    repeat: int = Field(1, ge=0, le=5, description="How many more times the whole chain is paged when nobody answers.")


class Question(Strict):
    id: str = Field(pattern=_IDENT)
    text: OneLine = Field(min_length=1)


class Assess(Strict):
    questions: list[Question] = Field(min_length=1)
    due_within: BySeverity = Field(description="From the commander's acknowledgement to the assessment.")


class Task(Strict):
    id: str = Field(pattern=_IDENT)
    title: OneLine = Field(min_length=1)
    owner: str = Field(description="Role responsible; its on-duty person is assigned.")
    due_after: Duration = Field(description="From the start of the respond phase.")
    description: LongText = ""
    before_statement: bool = Field(
        True,
        description="Must be done before the first statement is drafted; false lets it run on during communicate.",
    )


class Respond(Strict):
    tasks: list[Task] = Field(min_length=1)
    escalate_after: Duration = Field(
        timedelta(minutes=15),
        description="After a task's reminder, the wait before it passes to the next person in the owner role.",
    )


class AnyOf(Strict):
    any: int = Field(ge=1, description="How many approvals, from people in any approver role, are enough.")


# The status page incident's public name when a playbook gives none: never the internal title.
STATUS_PAGE_NAMES = {
    Scenario.TECHNICAL_OUTAGE: "Service disruption",
    Scenario.ACCOUNT_COMPROMISE: "Unauthorised activity on one of our accounts",
    Scenario.CONTROVERSIAL_POST: "About one of our recent posts",
    Scenario.CUSTOMER_BACKLASH: "Customer concerns",
    Scenario.MISINFORMATION: "Correcting false information",
    Scenario.DATA_BREACH: "Security incident affecting customer data",
}
STATUS_PAGE_NAME = "Service notice"  # a scenario without a name of its own


class StatusPage(Strict):
    name: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description=(
            "The status page incident's public name; left out, a neutral one for the scenario (never the internal title)."
        ),
    )
    components: list[str] = Field(
        default_factory=list,
        description=(
            "Statuspage component ids this scenario affects: marked from the severity at the first statement, operational at"
            " resolution."
        ),
    )


class Communicate(Strict):
    template: str = Field(pattern=_IDENT, description="Statement template: templates/<template>.<language>.j2")
    author: str = Field("comms_lead", description="The role that drafts and revises statements.")
    approvers: list[str] = Field(min_length=1, description="Roles whose people approve statements.")
    approval: Literal["all"] | AnyOf = Field(
        "all", description="`all`: one approval from every approver role; `{any: N}`: N approvals from any of them."
    )
    publish_to: list[str] | None = Field(
        None,
        min_length=1,
        description=(
            "Publishing targets: 'x', 'mastodon', 'bluesky', 'statuspage', 'outbox', 'customer_email', or webhook names from "
            "CRISIS_PUBLISH_WEBHOOKS. Left out: every social network and status page whose settings are set, and the outbox."
        ),
    )
    status_page: StatusPage = Field(
        default_factory=StatusPage,
        description=(
            "How an incident of this playbook appears on the status page (Statuspage): its public name and affected components."
        ),
    )
    replies: RepliesWatch = Field(
        default_factory=RepliesWatch,
        description=(
            "How often the replies to the incident's posts on X, Mastodon and Bluesky are read, and when a surge of negative ones"
            " raises a signal."
        ),
    )
    channels: list[Channel] | None = Field(
        None,
        min_length=1,
        description=(
            "The channels statements are written for, each a variant within its limit; default: every channel (x, bluesky,"
            " mastodon, threads, sms, linkedin, instagram, status_page, email)."
        ),
    )
    max_length: int | None = Field(
        None,
        ge=1,
        le=5000,
        description=(
            "Longest statement the playbook's channels take (for example 280 for a short social post); longer drafts are refused."
        ),
    )
    pause_scheduled_posts: list[str] = Field(
        default_factory=list,
        description="Webhook targets told to pause scheduled posts at declaration and to resume them at close.",
    )
    fallback_after: Duration | None = Field(
        None,
        description=(
            "Publish the template's pre-approved holding statement this long after declaration when no "
            "statement has been approved by then (marked as the fallback everywhere)."
        ),
    )
    first_statement_within: BySeverity = Field(description="From declaration to the first published statement.")
    approval_within: BySeverity | None = Field(
        None,
        description=(
            "How long approvers get for the first statement. The holding statement goes to approval this long before "
            "first_statement_within at the latest, whatever the assessment and the checklist. Required by `crisis playbooks "
            "check` (optional here only so that plans pinned before it existed still load)."
        ),
    )
    update_every: BySeverity = Field(description="Cadence of public updates until the incident is resolved.")


class Obligation(Strict):
    """A duty with a legal or contractual clock that runs from declaration, the moment the company
    is aware (GDPR art. 33: 72 hours to tell the supervisory authority), met by one task."""

    id: str = Field(pattern=_IDENT)
    label: str = Field(
        min_length=1,
        description="What must happen, naming the rule: shown with the deadline on the incident page and in the report.",
    )
    within: Duration = Field(description="From declaration to the latest moment the duty is met.")
    met_by: str = Field(pattern=_IDENT, description="The respond task whose completion meets it (respond.tasks id).")


class InternalAudience(Strict):
    """People inside the company or its partners who need their own message: all staff ("do not
    comment, refer questions to…"), store or franchise staff (the workaround), partners. Drafted
    from its own template, approved like a statement, emailed to roster groups, marked internal."""

    id: str = Field(pattern=_IDENT)
    name: str = Field(min_length=1, description="Who it is for, as the approvers read it: All staff, Store staff…")
    groups: list[str] = Field(
        min_length=1, description="Stakeholder groups of team.yaml it is emailed to (people, roles or distribution lists)."
    )
    template: str = Field(
        pattern=_IDENT, description="Its template: templates/<template>.<language>.j2 (may use the internal title and summary)."
    )


class Review(Strict):
    due_after: Duration = Field(description="From resolution to the submitted review.")
    feedback_from: list[str] = Field(min_length=1, description="Roles asked for feedback.")


class Playbook(Strict):
    id: str = Field(pattern=_IDENT)
    name: OneLine = Field(min_length=1)
    scenario: Scenario
    description: LongText = Field(min_length=1)
    default_severity: Severity = Severity.SEV2
    languages: list[str] = Field(["en"], min_length=1)
    identify: Identify
    assess: Assess
    respond: Respond
    communicate: Communicate
    review: Review
    stakeholders: list[str] = Field(
        default_factory=list,
        description="Stakeholder groups from team.yaml emailed at declaration, acknowledgement, each publication and resolution.",
    )
    internal: list[InternalAudience] = Field(
        default_factory=list,
        description="Internal and partner audiences, each with its own message, drafted when the communicate phase starts.",
    )
    obligations: list[Obligation] = Field(
        default_factory=list,
        description=(
            "Legal or contractual deadlines counted from declaration, each met by a task; the incident cannot be resolved while"
            " one's task is open."
        ),
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> "Playbook":
        for label, ids in (
            ("respond.tasks", [t.id for t in self.respond.tasks]),
            ("assess.questions", [q.id for q in self.assess.questions]),
        ):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{label}: ids must be unique, repeated: {', '.join(duplicates)}")
        internal = [a.id for a in self.internal]
        if repeated := sorted({i for i in internal if internal.count(i) > 1}):
            raise ValueError(f"internal: ids must be unique, repeated: {', '.join(repeated)}")
        duplicates = sorted({o.id for o in self.obligations if [x.id for x in self.obligations].count(o.id) > 1})
        if duplicates:
            raise ValueError(f"obligations: ids must be unique, repeated: {', '.join(duplicates)}")
        tasks = [t.id for t in self.respond.tasks]
        for index, obligation in enumerate(self.obligations):
            if obligation.met_by not in tasks:
                raise ValueError(
                    f"obligations.{index}.met_by: unknown task '{obligation.met_by}' (respond.tasks has: {', '.join(tasks)})"
                )
        if self.identify.commander not in self.identify.page:
            raise ValueError(f"identify.commander: '{self.identify.commander}' must be one of identify.page")
        return self

    def holding_point(self, severity: Severity) -> timedelta | None:
        """From declaration, when the holding statement goes to approval whatever else is done:
        early enough for the approvers' window before the first-statement deadline."""
        if self.communicate.approval_within is None:
            return None
        return self.communicate.first_statement_within.at(severity) - self.communicate.approval_within.at(severity)

    def chain(self, severity: Severity) -> list[tuple[str, timedelta]]:
        """The windows that run one after another from declaration to the first statement when
        everyone takes the time the plan gives them: acknowledging, assessing, the checklist's tasks
        due before the statement (they run side by side, so the longest counts), approving."""
        before = [task for task in self.respond.tasks if task.before_statement]
        links = [
            ("acknowledge", self.identify.acknowledge_within.at(severity)),
            ("assessment", self.assess.due_within.at(severity)),
        ]
        if before:
            longest = max(before, key=lambda task: task.due_after)
            links.append((f"tasks before the statement ({longest.id})", longest.due_after))
        if self.communicate.approval_within is not None:
            links.append(("approval", self.communicate.approval_within.at(severity)))
        return links

    def plan_problems(self) -> list[tuple[str, str]]:
        """What makes a valid playbook unworkable, as ``(path, reason)`` pairs: checked by ``crisis
        playbooks check`` and at start-up, not on plans already pinned in running incidents."""
        problems = []
        if self.communicate.approval_within is None:
            problems.append(
                (
                    "communicate.approval_within",
                    (
                        "missing: how long approvers get for the first statement, by severity (the holding statement goes to"
                        " approval that long before first_statement_within)"
                    ),
                )
            )
        for severity in Severity:
            links = self.chain(severity)
            total = sum((window for _, window in links), timedelta())
            limit = self.communicate.first_statement_within.at(severity)
            if total > limit:
                parts = " + ".join(f"{name} {humanize(window)}" for name, window in links)
                problems.append(
                    (
                        f"communicate.first_statement_within.{severity.value}",
                        f"{humanize(limit)}, but the windows before the first statement add up to {humanize(total)}: {parts}",
                    )
                )
        for index, role in enumerate(self.communicate.approvers):
            if role not in self.identify.page:
                problems.append(
                    (
                        f"communicate.approvers.{index}",
                        (
                            f"approver role '{role}' is never paged, so nobody in it hears of the incident before a statement"
                            f" waits on them; add '{role}' to identify.page"
                        ),
                    )
                )
        return problems

    def roles_used(self) -> list[tuple[str, str]]:
        """Every role this playbook names, with the path where it is named."""
        used = [(f"identify.page.{i}", role) for i, role in enumerate(self.identify.page)]
        used.append(("identify.commander", self.identify.commander))
        used += [(f"respond.tasks.{i}.owner", task.owner) for i, task in enumerate(self.respond.tasks)]
        used.append(("communicate.author", self.communicate.author))
        used += [(f"communicate.approvers.{i}", role) for i, role in enumerate(self.communicate.approvers)]
        used += [(f"review.feedback_from.{i}", role) for i, role in enumerate(self.review.feedback_from)]
        return used
