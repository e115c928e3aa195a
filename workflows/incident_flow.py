"""The incident's orchestration: what IncidentWorkflow (workflows/incident.py) does, from declaration to closed.

Thin and deterministic: the rules live in :class:`domain.incident.Incident`; this class decides
when to wait, what to send and when to move on. Update handlers are synchronous (they only change
state); a projector coroutine writes every change to the read model through an activity, and the
escalation and task watchers run as coroutines beside the main flow.

The workflow module imports this one through the sandbox (``imports_passed_through``), so every
run shares its code instead of importing a copy of its own: a copy per open incident was about
185 KiB of the worker's memory (bench/findings.md). What passes through must hold no state at
module level: everything here is constants, functions and the class, whose instances are the runs.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, RetryState
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from activities.incident import DATA_ERROR, REFUSED_PREFIX, TEMPLATE_PROBLEM, IncidentActivities
    from activities.models import (
        BatchedNotice,
        IncidentOutcome,
        IncidentSummary,
        NoticeBatch,
        NoticeOutcome,
        Projection,
        Publication,
        PublishedPost,
        RenderRequest,
        RepliesRequest,
        TargetSignal,
    )
    from channels.base import Delivery
    from channels.social import REPLY_TARGETS
    from domain import messages, metrics, view_delta
    from domain.actions import (
        Acknowledge,
        Action,
        Assessment,
        DecideAnswer,
        DecideInternal,
        DecideStatement,
        FactSheetEdit,
        FeedbackSubmission,
        ProposeAnswer,
        Reassessment,
        Resolution,
        ReviewSubmission,
        ReviseInternal,
        StatementDraft,
        StatementPreview,
        TaskDone,
        Verdict,
    )
    from domain.continuation import carried
    from domain.factsheet import FactSheet
    from domain.incident import (
        SYSTEM_AUTHOR,
        AnswerStatus,
        Continuation,
        Incident,
        IncidentPlan,
        IncidentView,
        InternalStatus,
        PendingItem,
        Phase,
        Receipt,
        Rejected,
        StatementStatus,
    )
    from domain.pinned import share_pinned
    from domain.preview import DraftPreview
    from domain.preview import preview_statement as draft_preview
    from domain.promise import promise_at, word_promise
    from domain.receipts import UpdateReceipt
    from domain.roster import PolicyLevel
    from domain.statements import StatementContext, StatementKind, internal_context, long_text
    from domain.variants import Variant
    from workflows.patches import BASELINE, BASELINE_COVERS
    from workflows.search_attributes import CRISIS_DRILL, CRISIS_PHASE, CRISIS_SCENARIO, CRISIS_SEVERITY

ACTIVITY_TIMEOUT = timedelta(seconds=30)
READ_REPLIES_EVERY = timedelta(minutes=5)  # the conversation under our posts, into the listening stream
REPLY_SURGE = "publish-reply-surge"  # replies read at the playbook's pace and judged: a negative surge is on the timeline
TELL_REPLY_SURGE = "publish-reply-surge-tell"  # the comms lead is emailed about a surge of negative replies
RETRYING_AFTER = timedelta(seconds=10)  # a page not sent this long after its role was answered is waiting for a retry
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
DATA_ERRORS = "trust-input-data-errors"  # data the database refuses is shown on the incident, not retried
# Notices other than pages (assignments, approval requests, briefings, reminders, feedback requests…)
# go beside the flow with a bounded time to close; a failure is a timeline event, never the incident's.
NOTICES_BESIDE = "stall-notices-beside-the-flow"
NOTICE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=2), maximum_attempts=10)
NOTICE_CLOSES_WITHIN = timedelta(minutes=15)  # the ten tries above take about seven minutes of back-off
NOTICE_CHANNELS = ("sms", "email")
# Pages, publications, internal messages and the schedulers' pause and resume are bounded the same way:
# a page no channel delivers is a timeline event (the chain goes on), a target a statement did not reach
# is one in its receipts; none of them is the incident's failure.
EVERY_SEND_BOUNDED = "stall-every-send-bounded"
# A publication keeps the usual back-off (a rate limit's reset sets its own) with more tries, within the same time.
PUBLISH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=25)
# A long incident continues as new between update cycles (docs/operations.md, "Long incidents
# continue as new"): when the server suggests it or this run's history reaches CONTINUE_AS_NEW_AFTER
# events. A restarted worker replays the run before it acts on the incident again, in time about
# linear in its events: 2,000 (the bound of runs started before SHORTER_RUNS) replayed in 0.5 to 1 s,
# at the limit of the second a person's first action may wait (bench/findings.md, "Replay"). An update
# cycle writes about 100 events, so a run ends far below Temporal's 10,240-event warning even when
# its sends beside the flow take their longest.
# A workflow task must finish within the SDK's deadlock limit (2 s, wall time), and starting one
# role's escalation costs the task about half a millisecond of CPU: a thousand roles took 435 ms of
# CPU in one task, several seconds on a loaded machine, and the worker failed it as a deadlock and
# then could not evict the run. More than PAGE_WAVE roles start in waves, one workflow task each.
PAGE_IN_WAVES = "lean-scale-page-in-waves"
PAGE_WAVE = 100
WAVE_GAP = timedelta(milliseconds=1)  # a timer only to end the workflow task; the next wave starts in the next
# The waves of a declaration's escalations start in one workflow task, each in an activation of its own: a
# local activity that returns at once ends the activation without ending the task, where WAVE_GAP's 1 ms
# timer took the Temporal server about a second to fire, so a thousand roles reached their pages over
# nine seconds whatever the workers (bench/findings.md, "Fan-out").
WAVES_IN_ONE_TASK = "lean-waves-in-one-task"
# A team of more than PAGE_BATCH roles is paged PAGE_BATCH people an activity (``notify_each``): the pages
# a workflow task starts go out together once it has started them all. An activity a page cost the worker
# and the Temporal server more CPU than the page's two provider calls (bench/findings.md, "Fan-out"). A
# person whose try in the batch failed is then tried on their own activity, with its retries and fallback.
BATCH_PAGES = "lean-fanout-batch-pages"
PAGE_BATCH = 10
# A batch heartbeats as each person's try ends: a lost worker is noticed after ACTIVITY_TIMEOUT, as a
# page's own activity would be, while a batch slowed by a loaded machine is not cut off for being long.
BATCH_CLOSES_WITHIN = timedelta(minutes=10)
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3)
# A large team's escalation levels whose waits start in the same workflow task (a wave's first levels: up to
# PAGE_WAVE roles) share one timer instead of a timer each: a thousand 30-minute timers cost the Temporal
# server a thousand timer events and tasks for one deadline per wave (bench/findings.md, "Fan-out").
WAVE_TIMERS = "lean-fanout-wave-timers"
CONTINUE_AS_NEW = "engine-continue-as-new"
# The commander's first page is tried from the declaration's first workflow task itself, a local activity
# that runs as the task's activation ends: the person everything waits for is reached without the
# task's completion going to the Temporal server and an eager activity coming back (13 ms of 43 ms from
# declaration to that page at p50, bench/findings.md, "Declare → first page against the floor"). One
# try there, the task's other commands waiting for it; a try that failed and may be repeated goes on
# the page's own activity, as a batched page's does. The try has a page activity's time: each provider
# call gives up within 10 s, so it is never cut off mid-call, whose send its activity would then repeat.
COMMANDER_PAGED_IN_FIRST_TASK = "lean-first-commander-in-first-task"
ONE_TRY = RetryPolicy(maximum_attempts=1)
# The team's pages are the first activities a declaration schedules, before the stakeholders' briefing,
# the schedulers' pause and the other work beside them: the worker starts the first activities of a
# workflow task first (eagerly, on the worker that ran the task) and its database serves their writes in
# that order, so a briefing scheduled first delayed every page behind its own sends (bench/findings.md).
PAGES_FIRST = "lean-first-pages-first"
# A person's action is answered once the flow has acted on it, with the incident as it then stands
# (domain/view_delta.py): the answer needs no state query after the Update.
SETTLED_ANSWERS = "lean-latency-settled-answers"
SETTLE_PASSES = 8  # passes of the workflow's coroutines an answer waits for at most (one or two in practice)
CONTINUE_AS_NEW_AFTER = 1_000
SHORTER_RUNS = "lean-replay-shorter-runs"
CONTINUE_AS_NEW_AFTER_BEFORE_SHORTER_RUNS = 2_000
# Drafting from the template is tried a few times (a worker lost mid-render), never for ever: a template
# or fact-sheet error fails every try alike (the activity says so at once), and the incident goes on
# without that draft, its failure on the timeline.
RENDER_BOUNDED = "engine-rest-render-bounded"
# A publication the database refuses the data of is published with that said in its receipts, once: it
# used to be tried again at once, for ever, since the statement stayed approved and unpublished.
PUBLICATION_REFUSED = "engine-rest-publication-refused"
RENDER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5)


InFlight = dict[asyncio.Task, tuple[str, int, int]]  # a role's pages still being sent → person, level, round


def _cancelled(error: BaseException) -> bool:
    """A cancelled activity: cancelled between tries, or its last try failed after the cancel
    request (so it is not tried again)."""
    if isinstance(error, asyncio.CancelledError):
        return True
    return isinstance(error, ActivityError) and (
        isinstance(error.cause, CancelledError) or error.retry_state is RetryState.CANCEL_REQUESTED
    )


def _undelivered(error: ActivityError) -> tuple[list[str], str]:
    """The channels a notice's last try failed on (from the notify activity's error details; empty
    when unknown) and why."""
    cause = error.cause
    if isinstance(cause, ActivityTimeout):
        last = cause.cause  # the server attaches the last try's failure to the timeout
        why = f"not delivered within {NOTICE_CLOSES_WITHIN}"
        if isinstance(last, ApplicationError):
            return [str(channel) for channel in last.details], f"{why}; last try: {last.message.split(': ', 1)[-1]}"
        return [], why
    if isinstance(cause, ApplicationError):
        return _refused_on(cause.type, cause.message, cause.details)
    return [], str(cause or error)


def _refused_on(kind: str | None, message: str, details: Sequence) -> tuple[list[str], str]:
    """The channels a notice's failed try names (a delivery error's details) and why."""
    if kind in ("TransientDeliveryError", "PermanentDeliveryError"):
        return [str(channel) for channel in details], message.split(": ", 1)[-1]
    return [], message


def _data_refused(error: BaseException) -> bool:
    """An activity the database refused the data of: it failed for good (see activities.incident)."""
    return isinstance(error, ActivityError) and isinstance(error.cause, ApplicationError) and error.cause.type == DATA_ERROR


class _SharedTimer:
    """One timer several waits end on (``WAVE_TIMERS``): ``passed`` once it has fired."""

    def __init__(self, wait: timedelta, summary: str):
        self.passed = False
        self.waiting = 0
        self.running = asyncio.create_task(self._run(wait, summary))

    async def _run(self, wait: timedelta, summary: str) -> None:
        await workflow.sleep(wait, summary=summary)
        self.passed = True


class IncidentFlow:
    """The workflow's state, flow and handlers; the workflow class adds only its definition."""

    def __init__(self, plan: IncidentPlan) -> None:
        share_pinned(plan)  # open incidents of one playbook hold one copy of what was pinned, not one each
        self._baseline = workflow.patched(BASELINE)  # first, so the run's first workflow task decides it
        continued = plan.continued  # what the run before this one carried over (None for the first run)
        if continued is None:
            # Statements as channel variants drafted from the public fact sheet; histories from before replay without.
            self._incident = Incident(plan, workflow.now(), public_voice=self._patched("voice-core-public-voice"))
            self._projected_seq = 0
        else:
            self._incident = Incident.resumed(
                plan.model_copy(update={"continued": None}), continued.state, continued.public_voice
            )
            self._projected_seq = self._incident.event_count  # the run before projected every event it carried
        self._finished = False
        self._searchable: dict[str, object] = {}
        self._sent: dict[str, messages.Notice] = {}
        self._background: list[asyncio.Task] = []
        self._resumable: set[asyncio.Task] = set()  # watchers the next run starts again from the state
        self._communication: asyncio.Task | None = None
        self._data_errors_shown: set[str] = set(continued.data_errors_shown) if continued else set()
        self._escalations: dict[str, datetime | None] = dict(continued.task_escalations) if continued else {}
        self._beside = False  # notices beside the flow (NOTICES_BESIDE), decided when the run starts
        self._bounded = False  # pages, internal messages and scheduler signals bounded (EVERY_SEND_BOUNDED), likewise
        self._render_bounded = False  # drafting bounded, a failed draft on the timeline (RENDER_BOUNDED), likewise
        self._refusal_published = False  # a publication the database refuses ends in its receipts (PUBLICATION_REFUSED)
        self._settled_answers = False  # answers wait for the flow and carry the view (SETTLED_ANSWERS), likewise
        self._written: view_delta.Written | None = None  # digests of the view's parts that stay as written, from the first answer
        self._batching = False  # a large team's pages go PAGE_BATCH people an activity (BATCH_PAGES), decided at declaration
        self._page_batch: list[tuple[str, messages.Notice]] | None = None  # pages this workflow task started, not yet sent
        self._page_outcomes: dict[str, NoticeOutcome | None] = {}  # a page's one try, until its page reads it
        self._batches = 0
        self._wave_timers: dict[datetime, _SharedTimer] | None = None  # escalation waits by deadline (WAVE_TIMERS)
        self._resolution_undrafted = False  # the resolution statement could not be drafted: the review goes on without it
        self._continued = continued is not None

    def _patched(self, patch_id: str) -> bool:
        """``workflow.patched``, except in a run that started with the baseline (workflows/patches.py):
        there every patch it covers is taken without a marker of its own."""
        return (self._baseline and patch_id in BASELINE_COVERS) or workflow.patched(patch_id)

    @property
    def _messenger(self) -> "messages.Messenger":
        """What the team is told, at the incident's current severity (a re-assessment changes it)."""
        plan = self._incident.plan
        return messages.Messenger(plan.id, plan.title, self._incident.severity.value, plan.summary, plan.language, plan.drill)

    # ---- the flow --------------------------------------------------------------------------

    async def run(self, plan: IncidentPlan) -> IncidentOutcome:
        self._beside = self._patched(NOTICES_BESIDE)
        self._bounded = self._beside and self._patched(EVERY_SEND_BOUNDED)
        self._render_bounded = self._patched(RENDER_BOUNDED)
        self._refusal_published = self._patched(PUBLICATION_REFUSED)
        self._settled_answers = self._patched(SETTLED_ANSWERS)
        projector = asyncio.create_task(self._project_changes())
        if plan.continued is None:
            await self._from_declaration(plan)
        else:
            await self._resume()
        incident = self._incident
        incident.withdraw_in_flight(workflow.now())
        incident.cancel_open_tasks(workflow.now())
        if incident.resolved:
            await self._brief("resolved", text=incident.state.resolution.summary)
        self._enter(Phase.REVIEW)
        await self._review()
        if self._bounded:
            self._spawn(self._tell_schedulers("social.resume", "Resume scheduled posts"))
        else:
            await self._tell_schedulers("social.resume", "Resume scheduled posts")
        if incident.state.internal_messages:
            incident.withdraw_internal(workflow.now())
        self._enter(Phase.CLOSED)
        if self._beside:
            await self._background_finished()
        else:
            await asyncio.gather(*self._background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._finished = True
        await projector
        return self._outcome()

    async def _from_declaration(self, plan: IncidentPlan) -> None:
        """Declared: page, assess, respond and communicate until the statements are done."""
        incident = self._incident
        # The first-statement clock runs from declaration: the holding statement goes to approval at
        # the playbook's holding point whatever the assessment and the checklist.
        on_time = self._patched("voice-flow-holding-on-time")

        def beside_the_pages() -> None:
            self._spawn(self._tell_schedulers("social.pause", "Pause scheduled posts"))
            self._spawn(self._brief("declared"))
            if incident.playbook.obligations and self._patched("voice-content-obligations"):
                for obligation in incident.playbook.obligations:
                    self._spawn(self._watch_obligation(obligation.id), resumable=True)
            if on_time:
                self._spawn(self._hold_on_time())
                self._spawn(self._watch_first_statement())
            if not plan.drill and self._patched("publish-replies"):
                self._spawn(self._read_replies(), resumable=True)

        if self._patched(PAGES_FIRST):
            await self._identify(then=beside_the_pages)
        else:
            beside_the_pages()
            await self._identify()
        self._enter(Phase.ASSESS)
        self._spawn(self._brief("acknowledged", person=incident.commander))
        await self._await_deadline(
            lambda: incident.state.assessment is not None or incident.resolved,
            "assessment",
            "the assessment",
            lambda: [incident.commander],
        )
        if not incident.resolved:
            self._enter(Phase.RESPOND)
            await self._respond(watch_first_statement=not on_time)
        if incident.published() or not incident.resolved:
            self._enter(Phase.COMMUNICATE)
            if incident.playbook.internal and incident.plan.internal_templates and self._patched("voice-content-internal"):
                self._spawn(self._draft_internal())
            await (self._start_communicating() if on_time else self._communicate())
        elif self._communication is not None:
            await self._communication  # resolved with nothing published: it ends without a word

    async def _resume(self) -> None:
        """A long incident's next run, continued in the communicate phase between update cycles: the
        watchers the run before left running start again from the state, then the statements go on."""
        incident = self._incident
        for task in incident.open_tasks():
            self._spawn(self._watch_task(task.id), resumable=True)
        for obligation in incident.playbook.obligations:
            deadline = incident.state.deadlines[f"obligation.{obligation.id}"]
            if deadline.met_at is None and not deadline.waived:
                self._spawn(self._watch_obligation(obligation.id), resumable=True)
        if not incident.plan.drill:
            self._spawn(self._read_replies(), resumable=True)
        await self._start_communicating()

    def _outcome(self) -> IncidentOutcome:
        incident = self._incident
        state = incident.state
        figures = metrics.summarize(state, metrics.compute(state, incident.commander_role, workflow.now()))
        return IncidentOutcome(
            id=state.id,
            status="closed" if incident.closed else "open",
            phase=incident.phase.value,
            severity=incident.severity.value,
            drill=state.drill,
            declared_at=state.declared_at,
            resolved_at=state.resolution.at if state.resolution else None,
            closed_at=state.closed_at,
            runs=state.earlier.runs + 1,
            events=incident.event_count,
            metrics=figures,
        )

    async def _identify(self, then: Callable[[], None] | None = None) -> None:
        """Start every role's escalation, then wait for the commander's acknowledgement. ``then`` (the
        work beside the pages, PAGES_FIRST) starts once the first wave of escalations has."""
        incident = self._incident
        roles = incident.playbook.identify.page
        in_waves = len(roles) > PAGE_WAVE and self._patched(PAGE_IN_WAVES)
        self._batching = self._bounded and len(roles) > PAGE_BATCH and self._patched(BATCH_PAGES)
        if self._batching and self._patched(WAVE_TIMERS):
            self._wave_timers = {}
        for index, role in enumerate(roles):
            if in_waves and index and index % PAGE_WAVE == 0:
                if then is not None:
                    then()
                    then = None
                await self._next_wave(min(PAGE_WAVE, len(roles) - index))
            self._spawn(self._escalate(role))
        if then is not None:
            then()
        await workflow.wait_condition(lambda: incident.is_acknowledged(incident.commander_role))

    async def _next_wave(self, roles: int) -> None:
        """Let the escalations started so far run before the next ``roles`` start (``PAGE_IN_WAVES``)."""
        summary = f"the next {roles} roles' escalations start"
        if workflow.patched(WAVES_IN_ONE_TASK):
            await workflow.execute_local_activity_method(
                IncidentActivities.next_wave, start_to_close_timeout=ACTIVITY_TIMEOUT, summary=summary
            )
        else:
            await workflow.sleep(WAVE_GAP, summary=summary)

    async def _escalate(self, role: str) -> None:
        """Page the role's escalation policy level by level until someone acknowledges, then tell
        everyone else who was paged who took it.

        A level's wait starts when its pages are sent off (``escalate-on-time``): a provider outage
        keeps one channel's page in its activity's retries, and the next level must not wait for
        that. Pages still being retried when someone acknowledges are cancelled, not sent late:
        those not done within ``RETRYING_AFTER`` of the answer, since a send takes moments and
        only a page waiting for its next try takes longer. Cancelling sooner would race pages that
        are just completing, for nothing."""
        incident = self._incident
        paged: dict[str, list[str]] = {}
        in_flight: InFlight = {}
        answered = await self._climb(role, paged, in_flight)
        if answered and not all(page.done() for page in in_flight):
            await self._wait(lambda: all(page.done() for page in in_flight), RETRYING_AFTER, f"{role}'s pages in flight finish")
            for page in in_flight:
                page.cancel()
        if in_flight:
            outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
            for (person, level, round_), outcome in zip(in_flight.values(), outcomes):
                if isinstance(outcome, BaseException) and _cancelled(outcome):
                    incident.record_page_withdrawn(role, person, level, round_, workflow.now())
            failures = [o for o in outcomes if isinstance(o, BaseException) and not _cancelled(o)]
            if failures:
                raise failures[0]
        if answered:
            await self._tell_who_took_it(role, paged)
        else:
            incident.record_chain_exhausted(role, workflow.now())

    async def _climb(self, role: str, paged: dict[str, list[str]], in_flight: InFlight) -> bool:
        """The escalation policy's rounds and levels; True once the page is answered, False when
        every level of every round passed without an acknowledgement."""
        incident = self._incident
        identify = incident.playbook.identify
        default_wait = identify.acknowledge_within.at(incident.plan.severity)
        policy = incident.org.policy(role)
        repeat = identify.repeat if policy.repeat is None else policy.repeat

        def answered() -> bool:
            return incident.is_acknowledged(role) or incident.resolved

        for round_ in range(repeat + 1):
            for level_number, level in enumerate(policy.levels):
                if answered():
                    return True
                wait = level.wait or default_wait
                step = (round_, level_number)
                if self._patched("escalate-on-time"):
                    for person in level.people:
                        in_flight[asyncio.create_task(self._page(role, person, level, step, wait, paged))] = (
                            person,
                            level_number,
                            round_,
                        )
                elif len(level.people) > 1 and self._patched("page-a-level-at-once"):
                    # Everyone on the level at once: a level of twenty is paged in the time of one.
                    await asyncio.gather(*(self._page(role, person, level, step, wait, paged) for person in level.people))
                else:
                    for person in level.people:
                        await self._page(role, person, level, step, wait, paged)
                if self._wave_timers is not None:
                    acknowledged = await self._wait_with_the_wave(answered, wait)
                else:
                    acknowledged = await self._wait(answered, wait, f"{role} acknowledges within {wait}")
                if acknowledged:
                    return True
                for person in level.people:
                    incident.record_no_answer(role, person, wait, workflow.now())
                if round_ == 0 and level_number == 0:
                    incident.record_deadline_missed(f"acknowledge.{role}", workflow.now())
        return False

    async def _page(
        self, role: str, person: str, level: PolicyLevel, step: tuple[int, int], wait: timedelta, paged: dict[str, list[str]]
    ) -> None:
        """Page one person of an escalation level (``step``: round and level number) and note it."""
        incident = self._incident
        round_, level_number = step
        notice = self._messenger.page(person, role, level_number, wait, level.channels)
        activity_id = f"page.{role}.{round_}.{level_number}" + (f".{person}" if len(level.people) > 1 else "")
        # Told who took the page even if one of its channels is still being retried then.
        paged[person] = level.channels
        what = f"page {person} as {role}, level {level_number + 1}, round {round_ + 1}"
        if (in_this_task := self._from_first_task(role, step)) or self._batching:
            if not await self._send_page_tried_once(notice, activity_id, what, in_this_task=in_this_task):
                return  # on the timeline; the chain goes on
        elif self._bounded:
            if not await self._send_notice(notice, activity_id, what, page=True):
                return  # on the timeline; the chain goes on
        else:
            await self._notify(notice, activity_id, what)
        self._sent[activity_id] = notice
        incident.record_page(role, person, level_number, round_, workflow.now())

    async def _tell_who_took_it(self, role: str, paged: dict[str, list[str]]) -> None:
        """Everyone else paged for this role hears who acknowledged, on the channels that reached them."""
        incident = self._incident
        taker = incident.state.acknowledgements[role].acknowledged_by
        if taker is None or not self._patched("tell-who-took-the-page"):
            return
        for person, channels in paged.items():
            if person != taker:
                notice = self._messenger.taken(person, taker, role, channels)
                await self._tell(notice, f"taken.{role}.{person}", f"tell {person} that {taker} took the {role} page")

    async def _respond(self, watch_first_statement: bool) -> None:
        incident = self._incident
        for task in incident.state.tasks:
            notice = self._messenger.task_assigned(task.assignee, task.title, task.due_at)
            await self._tell(notice, f"task.{task.id}.assigned", f"assign '{task.id}' to {task.assignee}")
            self._spawn(self._watch_task(task.id), resumable=True)
        if watch_first_statement:
            self._spawn(self._watch_first_statement())
        await workflow.wait_condition(lambda: incident.ready_to_communicate() or incident.resolved)

    async def _watch_task(self, task_id: str) -> None:
        """Remind the assignee when a task is overdue, then pass it down the owner role's order."""
        incident = self._incident
        task = incident.task(task_id)

        def settled() -> bool:
            return task.done_at is not None or incident.resolved

        escalate_after = incident.playbook.respond.escalate_after
        if not task.reminded:  # a task a run before this one reminded of goes on from its next escalation
            if await self._wait_until(settled, task.due_at, f"task '{task_id}' due"):
                return
            incident.record_deadline_missed(f"task.{task_id}", workflow.now())
            await self._tell(
                self._messenger.reminder(task.assignee, task.title, task.due_at),
                f"task.{task_id}.reminder",
                f"remind {task.assignee} of '{task_id}'",
            )
            incident.record_task_reminder(task_id, workflow.now())
            self._escalations[task_id] = workflow.now() + escalate_after
        while (escalates_at := self._escalations.get(task_id)) is not None:
            if await self._wait(
                settled,
                max(escalates_at - workflow.now(), timedelta(seconds=1)),
                f"task '{task_id}' escalates after {escalate_after}",
            ):
                return
            previous = task.assignee
            if not incident.escalate_task(task_id, workflow.now()):
                await self._tell(
                    self._messenger.reminder(incident.commander, task.title, task.due_at),
                    f"task.{task_id}.commander",
                    f"tell the commander '{task_id}' is stuck",
                )
                incident.record_reminder(
                    f"Task '{task.title}' has passed through its whole role",
                    [incident.commander],
                    workflow.now(),
                    task_id=task_id,
                )
                self._escalations[task_id] = None  # passed through its whole role: only its end is waited for
                break
            notice = self._messenger.task_assigned(task.assignee, task.title, task.due_at, escalated_from=previous)
            await self._tell(notice, f"task.{task_id}.escalated.{task.escalations}", f"pass '{task_id}' to {task.assignee}")
            self._escalations[task_id] = workflow.now() + escalate_after
        await workflow.wait_condition(settled)

    async def _watch_first_statement(self) -> None:
        incident = self._incident
        author = incident.playbook.communicate.author
        await self._await_deadline(
            lambda: bool(incident.published()) or incident.resolved,
            "first_statement",
            "the first public statement",
            lambda: list(dict.fromkeys([incident.commander, incident.on_duty(author)])),
        )

    async def _watch_obligation(self, obligation_id: str) -> None:
        """A legal clock from declaration (GDPR art. 33's 72 hours): missed, it is recorded and the
        commander and the owner of the task that meets it are reminded. It ends when that task is
        done, or when the incident was closed before the task ever opened."""
        incident = self._incident
        obligation = next(o for o in incident.playbook.obligations if o.id == obligation_id)
        name = f"obligation.{obligation_id}"
        owner = next(t.owner for t in incident.playbook.respond.tasks if t.id == obligation.met_by)
        if self._continued and incident.state.deadlines[name].due_at <= workflow.now():
            # Missed in a run before this one, which recorded it and reminded its people: only its end is waited for.
            await workflow.wait_condition(
                lambda: incident.state.deadlines[name].met_at is not None or incident.state.deadlines[name].waived
            )
            return
        await self._await_deadline(
            lambda: incident.state.deadlines[name].met_at is not None or incident.state.deadlines[name].waived,
            name,
            obligation.label,
            lambda: list(dict.fromkeys([incident.commander, incident.on_duty(owner)])),
        )

    async def _hold_on_time(self) -> None:
        """At the holding point, start the statements if the assessment and checklist have not
        yet let the main flow get there. The point follows the severity (the assessment may change it)."""
        incident = self._incident
        while (at := incident.holding_at()) is not None:

            def settled() -> bool:
                return incident.statements_open() or incident.resolved or incident.holding_at() != at  # noqa: B023 (awaited here)

            if not await self._wait_until(settled, at, "holding statement goes to approval"):
                incident.open_statements_early(workflow.now())
                self._start_communicating()
                return
            if incident.statements_open() or incident.resolved:
                return

    def _start_communicating(self) -> asyncio.Task:
        """The statements' loop, started once: at the holding point or when the main flow gets there."""
        if self._communication is None:
            self._communication = asyncio.create_task(self._communicate())
        return self._communication

    async def _communicate(self) -> None:
        incident = self._incident
        # A version is asked about once per status: its approvers, then, when one requests changes,
        # its author. (Once per version before: the author never heard of a request for changes.)
        asked: set[int | tuple[int, StatementStatus]] = set()
        tell_author = self._patched("voice-flow-tell-author")
        # Updates are drafted the approvers' window before the promised time, not at it.
        promising = self._patched("voice-flow-promise")
        self._spawn(self._publish_fallback())
        while not incident.communication_finished() and not (incident.resolved and self._resolution_undrafted):
            seen = incident.state.revision
            now = workflow.now()
            if (approved := incident.approved_unpublished()) is not None:
                await self._publish(approved.version)
                continue
            if incident.resolved:
                incident.withdraw_in_flight(now)
                if incident.resolution_statement_due():
                    self._resolution_undrafted = not await self._draft(StatementKind.RESOLUTION)
                    continue
            elif incident.in_flight() is None and (not incident.published() or incident.update_due(now, self._lead(promising))):
                if not await self._draft(incident.next_statement_kind()):
                    await self._after_failed_draft()
                continue
            current = incident.in_flight()
            asking = current and ((current.version, current.status) if tell_author else current.version)
            if current is not None and asking not in asked:
                asked.add(asking)
                await self._ask_for_decision(current.version)
            wait = None
            if current is None and incident.state.next_update_due is not None:
                wait = max(incident.state.next_update_due - self._lead(promising) - workflow.now(), timedelta(seconds=1))
            if (
                current is None
                and wait is not None
                and incident.phase is Phase.COMMUNICATE
                and self._history_long()
                and self._patched(CONTINUE_AS_NEW)
            ):
                await self._continue_as_new_when_settled(seen, wait)
                continue  # something changed first, or the next update is due: this run drafts it
            await self._wait(lambda: incident.state.revision != seen, wait, "next public update due")  # noqa: B023 (awaited here)

    async def _ask_for_decision(self, version: int) -> None:
        incident = self._incident
        statement = incident.statement(version)
        if statement.status is StatementStatus.PENDING_APPROVAL:
            for role in incident.outstanding_approver_roles(statement):
                person = incident.on_duty(role)
                notice = self._messenger.approval_request(person, version, role, statement.for_approval())
                await self._tell(notice, f"approval.v{version}.{role}", f"ask {person} ({role}) to approve v{version}")
            if self._patched("chase-approvals"):
                self._spawn(self._chase_approval(version))
        elif statement.status is StatementStatus.REJECTED:
            rejection = next(d for d in statement.decisions if d.decision is Verdict.REJECT)
            author = (
                statement.author if statement.author != SYSTEM_AUTHOR else incident.on_duty(incident.playbook.communicate.author)
            )
            notice = self._messenger.changes_requested(author, version, rejection.person, rejection.comment)
            await self._tell(notice, f"revision.v{version}", f"tell {author} that v{version} needs changes")

    async def _draft_internal(self) -> None:
        """Each internal audience's message, drafted from its template (which may use the internal
        title and summary), opened with the internal mark, and put to the approvers."""
        incident = self._incident
        for audience in incident.playbook.internal:
            source = incident.plan.internal_templates.get(audience.id)
            if source is None:
                continue
            rendered = await self._render(
                StatementKind.HOLDING,
                f"render.internal.{audience.id}",
                timedelta(0),
                incident.state.fact_sheet,
                template=source,
                what=(f"the internal message for {audience.id}", "it is not sent; write it by hand if it is needed"),
            )
            if rendered is None:
                continue
            body, _, _ = rendered
            message = incident.add_internal(audience.id, body, SYSTEM_AUTHOR, workflow.now())
            await self._ask_about_internal(message.number)

    async def _ask_about_internal(self, number: int) -> None:
        """Email the approvers an internal message (with its single-use link), tell its author that
        changes were requested, or send it to its audience once approved."""
        incident = self._incident
        message = incident.internal_message(number)
        if message.status is InternalStatus.PENDING_APPROVAL:
            for role in incident.outstanding_approver_roles(message):
                person = incident.on_duty(role)
                notice = self._messenger.internal_approval_request(
                    person, number, message.name, message.version, role, message.text
                )
                await self._tell(
                    notice,
                    f"internal.{number}.approval.{role}",
                    f"ask {person} ({role}) to approve the message for {message.name} v{message.version}",
                )
        elif message.status is InternalStatus.REJECTED:
            rejection = next(d for d in message.decisions if d.decision is Verdict.REJECT)
            author = message.author if message.author != SYSTEM_AUTHOR else incident.on_duty(incident.playbook.communicate.author)
            notice = self._messenger.internal_changes_requested(
                author, message.name, message.version, rejection.person, rejection.comment
            )
            await self._tell(notice, f"internal.{number}.revision", f"tell {author} the message for {message.name} needs changes")
        elif message.status is InternalStatus.APPROVED:
            audience = next(a for a in incident.playbook.internal if a.id == message.audience)
            what = f"email the internal message to {message.name}"
            try:
                reached = await workflow.execute_activity_method(
                    IncidentActivities.send_internal,
                    self._messenger.internal_message(number, message.name, audience.groups, message.text),
                    activity_id=f"internal.{number}.send",
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    summary=what,
                    **self._retries(),
                )
            except ActivityError as error:
                if not self._bounded:
                    raise
                self._record_undelivered(error, what, message.name, ["email"])
                return
            incident.mark_internal_sent(number, reached, workflow.now())

    async def _ask_about_answer(self, number: int) -> None:
        """Email the approvers a per-incident answer proposal (with its single-use link), or tell its
        author that changes were requested. Spawned by the answer Updates: only the team hears of it."""
        incident = self._incident
        proposal = incident.answer_proposal(number)
        label = f"answer '{proposal.answer_id}' v{proposal.version}"
        if proposal.status is AnswerStatus.PENDING_APPROVAL:
            for role in incident.outstanding_approver_roles(proposal):
                person = incident.on_duty(role)
                notice = self._messenger.answer_approval_request(
                    person, number, proposal.answer_id, proposal.version, role, proposal.question, proposal.text
                )
                await self._tell(notice, f"answer.{number}.approval.{role}", f"ask {person} ({role}) to approve {label}")
        elif proposal.status is AnswerStatus.REJECTED:
            rejection = next(d for d in proposal.decisions if d.decision is Verdict.REJECT)
            notice = self._messenger.answer_changes_requested(
                proposal.author, proposal.answer_id, proposal.version, rejection.person, rejection.comment
            )
            await self._tell(notice, f"answer.{number}.revision", f"tell {proposal.author} that {label} needs changes")

    async def _chase_approval(self, version: int) -> None:
        """Remind the approvers half-way to the statement's deadline; when it passes, ask the next
        person in each approver role that has still not decided."""
        incident = self._incident
        statement = incident.statement(version)
        due = incident.state.deadlines["first_statement"].due_at if not incident.published() else incident.state.next_update_due
        if due is None:
            return

        def decided() -> bool:
            return statement.status is not StatementStatus.PENDING_APPROVAL or incident.closed

        halfway = statement.created_at + (due - statement.created_at) / 2
        if await self._wait_until(decided, halfway, f"remind approvers of v{version}"):
            return
        for role in incident.outstanding_approver_roles(statement):
            person = incident.on_duty(role)
            notice = self._messenger.approval_request(person, version, role, statement.for_approval(), reminder=True)
            await self._tell(notice, f"approval.v{version}.{role}.reminder", f"remind {person} ({role}) to decide on v{version}")
            incident.record_reminder(f"Statement v{version} awaits {role}", [person], workflow.now(), version=version)
        if await self._wait_until(decided, due, f"v{version} approval deadline"):
            return
        for role in incident.outstanding_approver_roles(statement):
            chain = incident.members(role)
            on_duty = incident.on_duty(role)
            backups = [p for p in chain if p != on_duty and not any(d.person == p for d in statement.decisions)]
            if backups:
                notice = self._messenger.approval_request(backups[0], version, role, statement.for_approval())
                await self._tell(
                    notice,
                    f"approval.v{version}.{role}.escalated",
                    f"ask {backups[0]} ({role}) to approve v{version}: {on_duty} did not",
                )
                incident.record_approval_escalated(version, role, on_duty, backups[0], workflow.now())

    async def _publish_fallback(self) -> None:
        """The public hears something in time even when approvers cannot be reached."""
        incident = self._incident
        after = incident.playbook.communicate.fallback_after
        if after is None:
            return

        def spoken() -> bool:
            return bool(incident.published()) or incident.approved_unpublished() is not None or incident.resolved

        if await self._wait_until(spoken, incident.state.declared_at + after, "fallback holding statement due"):
            return
        # Pre-approved text only: the template with an empty fact sheet, never what the sheet (or a detector) says now.
        rendered = await self._render(
            StatementKind.HOLDING,
            "render.fallback",
            timedelta(0),
            FactSheet(),
            what=("the fallback holding statement", "none is published; the statements already asked for go on"),
        )
        if rendered is None:
            return
        text, promise, variants = rendered  # published at once
        incident.add_fallback(text, workflow.now(), promise, variants=variants)

    async def _draft(self, kind: StatementKind) -> bool:
        """Draft the next statement from the template; False when it could not be (on the timeline)."""
        incident = self._incident
        instead = (
            "the incident goes on to its review without one"
            if kind is StatementKind.RESOLUTION
            else "write it by hand (it then goes to approval as usual); an edit of the fact sheet drafts it again"
        )
        rendered = await self._render(
            kind,
            f"render.{incident.statement_count + 1}",
            incident.approval_window(),
            incident.state.fact_sheet,
            what=(f"the {kind.value} statement", instead),
        )
        if rendered is None:
            return False
        text, promise, variants = rendered
        incident.add_statement(kind, text, SYSTEM_AUTHOR, workflow.now(), promise=promise, variants=variants)
        return True

    async def _after_failed_draft(self) -> None:
        """A statement the template could not draft is drafted again only once the fact sheet changed
        (the template is pinned), unless someone writes one by hand or resolves the incident first."""
        incident = self._incident
        sheet = incident.state.fact_sheet
        await workflow.wait_condition(
            lambda: incident.state.fact_sheet != sheet or incident.in_flight() is not None or incident.resolved
        )

    def _history_long(self) -> bool:
        """Time to continue as new: the server suggests it, or this run's history reached our bound.
        Only in the communicate phase (statements can open earlier, at the holding point), which is
        where the next run goes on (``_resume``)."""
        info = workflow.info()
        length = info.get_current_history_length()
        return self._beside and (
            info.is_continue_as_new_suggested()
            or length >= CONTINUE_AS_NEW_AFTER_BEFORE_SHORTER_RUNS
            or (length >= CONTINUE_AS_NEW_AFTER and self._patched(SHORTER_RUNS))
        )

    async def _continue_as_new_when_settled(self, seen: int, wait: timedelta) -> None:
        """Continue as new at this safe point (between update cycles: nothing in flight) once every
        send beside the flow has finished, no handler is running and every event is projected.
        Returns when anything changes first, or when the next update falls due first."""
        incident = self._incident

        def settled() -> bool:
            finished = all(task.done() for task in self._background if task not in self._resumable)
            return finished and workflow.all_handlers_finished() and self._projected_seq == incident.event_count

        if not await self._wait(
            lambda: incident.state.revision != seen or settled(), wait, "continue as new once the sends beside the flow are done"
        ):
            return
        if incident.state.revision != seen:
            return
        for task in self._background:
            if task.done():
                task.result()  # an error beside the flow fails loudly here, as it would at the close
        continuation = Continuation(
            state=carried(incident.state),
            public_voice=incident.public_voice,
            data_errors_shown=sorted(self._data_errors_shown),
            task_escalations={
                task.id: self._escalations[task.id] for task in incident.open_tasks() if task.id in self._escalations
            },
        )
        workflow.logger.info(
            "continuing as new after %d events (run %d of the incident)",
            workflow.info().get_current_history_length(),
            continuation.state.earlier.runs,
        )
        workflow.continue_as_new(incident.plan.model_copy(update={"continued": continuation}))

    def _lead(self, promising: bool) -> timedelta:
        return self._incident.approval_window() if promising else timedelta(0)

    async def _render(
        self,
        kind: StatementKind,
        activity_id: str,
        approval: timedelta,
        fact_sheet: FactSheet,
        template: str | None = None,
        *,
        what: tuple[str, str],
    ) -> tuple[str, datetime | None, list[Variant] | None] | None:
        """The statement from the template: its long form, the next update it promises (the approvers'
        window and the cadence from now, worded in the organisation's time zone and the incident's
        language) and, in the public voice, every channel's variant. ``template``: an internal
        audience's, which may also read the internal title and summary and gives one text. None when
        it could not be drafted (``RENDER_BOUNDED``): ``what`` names the draft and what happens instead
        on the timeline."""
        incident = self._incident
        now = workflow.now()
        cadence = incident.playbook.communicate.update_every.at(incident.severity)
        promise = None
        if kind is StatementKind.RESOLUTION:
            next_update = None
        elif self._patched("voice-flow-promise"):
            promise = promise_at(now, approval, cadence)
            next_update = word_promise(promise, now, incident.org.timezone, incident.plan.language)
        else:
            next_update = f"{now + cadence:%H:%M} UTC"
        context = StatementContext(
            kind=kind,
            organization=incident.org.organization,
            fact_sheet=fact_sheet,
            next_update=next_update,
            changed=tuple(incident.changed_since_published()) if fact_sheet == incident.state.fact_sheet else (),
            drill=incident.plan.drill,
        )
        summary = f"draft the {kind.value} statement from template"
        if template is not None:
            state = incident.state
            context = internal_context(
                kind,
                context.organization,
                fact_sheet,
                state.title,
                state.summary,
                incident.severity.value,
                next_update,
                context.drill,
            )
        request = RenderRequest(
            template=template or incident.plan.template, context=context, channels=incident.playbook.communicate.channels
        )
        variants_wanted = template is None and incident.public_voice
        try:
            rendered = await workflow.execute_activity_method(
                IncidentActivities.render_variants if variants_wanted else IncidentActivities.render,
                request,
                activity_id=activity_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RENDER_RETRY if self._render_bounded else RETRY,
                summary=f"{summary}, one variant per channel" if variants_wanted else summary,
            )
        except ActivityError as error:
            if not self._render_bounded or _cancelled(error):
                raise
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == TEMPLATE_PROBLEM:
                reason = cause.message
            else:  # a worker lost, a timeout: given up after the bounded tries
                reason = (
                    f"given up after {RENDER_RETRY.maximum_attempts} tries: {getattr(cause, 'message', None) or cause or error}"
                )
            drafting, instead = what
            incident.record_draft_failed(drafting, reason, instead, workflow.now())
            return None
        if not variants_wanted:
            return rendered, promise, None
        return long_text(rendered), promise, rendered

    async def _publish(self, version: int) -> None:
        incident = self._incident
        statement = incident.statement(version)
        publication = Publication(
            incident_id=incident.state.id,
            version=version,
            kind=statement.kind,
            title=incident.state.title,
            text=statement.text,
            drill=incident.plan.drill,
            fallback=statement.fallback,
            targets=incident.playbook.communicate.publish_to,
            variants=statement.variants,
        )
        if self._patched("publish-threads"):
            publication = publication.model_copy(update=incident.publication_context())
        if self._bounded:
            publication = publication.model_copy(update={"tries": PUBLISH_RETRY.maximum_attempts})
        with_receipts = self._patched("publication-receipts")
        what = f"publish statement v{version} ({statement.kind.value}){' as the fallback' if statement.fallback else ''}"
        try:
            sent = await workflow.execute_activity(
                "publish",
                publication,
                activity_id=f"publish.v{version}",
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                summary=what,
                **self._retries(PUBLISH_RETRY),
            )
        except ActivityError as error:
            if self._shown_if_refused(error, what):
                if not self._refusal_published:
                    return
                sent = [
                    Receipt(channel=target, sha256="", error=f"not known to be published: {error.cause.message}")
                    for target in publication.targets or ["every target"]
                ]
            elif not self._bounded or _cancelled(error):
                raise
            else:
                # Out of time before its last try (a rate limit asked for a longer wait): the targets still failing say so.
                failed, reason = _undelivered(error)
                sent = [
                    Receipt(channel=target, sha256="", error=f"not known to be published: {reason}")
                    for target in failed or publication.targets or ["every target"]
                ]
        receipts = [Receipt.model_validate(receipt) for receipt in sent] if with_receipts else []
        if self._refusal_published:
            for receipt in receipts:
                if receipt.error and receipt.error.startswith(REFUSED_PREFIX):
                    self._show_data_error(what, receipt.error.removeprefix(REFUSED_PREFIX))
        incident.mark_published(version, workflow.now(), receipts)
        await self._brief("published", version=version, text=statement.text)

    def _social_posts(self) -> list[PublishedPost]:
        return [
            PublishedPost(
                version=statement.version, target=receipt.channel, post_id=receipt.provider_id, kind=statement.kind.value
            )
            for statement in self._incident.published()
            for receipt in statement.receipts
            if receipt.channel in REPLY_TARGETS and receipt.provider_id and receipt.error is None
        ]

    async def _read_replies(self) -> None:
        """Once something is published on a social network, read the replies to and quotes of our
        posts every few minutes until the incident closes (and once more at the close); a surge of
        negative replies to a statement goes on the timeline (the playbook's ``communicate.replies``)."""
        incident = self._incident
        watch = incident.playbook.communicate.replies if self._patched(REPLY_SURGE) else None
        every = watch.read_every if watch else READ_REPLIES_EVERY
        await workflow.wait_condition(lambda: bool(self._social_posts()) or incident.phase is Phase.CLOSED)
        while self._social_posts():
            closed = await self._wait(lambda: incident.phase is Phase.CLOSED, every, "read the replies to our posts")
            posts = self._social_posts()
            request = RepliesRequest(incident_id=incident.state.id, posts=posts)
            options = dict(
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3),
                summary=f"read the replies to {len(posts)} post(s)",
            )
            try:
                if watch is None:
                    await workflow.execute_activity_method(IncidentActivities.read_replies, request, **options)
                else:
                    request = request.model_copy(update={"playbook": incident.playbook.id, "surge": watch.surge})
                    watched = await workflow.execute_activity_method(IncidentActivities.watch_replies, request, **options)
                    for signal in watched.raised:
                        if incident.record_reply_surge(
                            signal.id, signal.version, signal.summary, workflow.now()
                        ) and self._patched(TELL_REPLY_SURGE):
                            person = incident.on_duty(incident.playbook.communicate.author)
                            notice = self._messenger.reply_surge(person, signal.version, signal.negative, signal.scored)
                            await self._tell(
                                notice,
                                f"reply-surge.v{signal.version}",
                                f"tell {person} the replies to v{signal.version} turned negative",
                            )
            except ActivityError:
                workflow.logger.warning("the replies to our posts could not be read this time; trying again in %s", every)
            if closed:
                return

    async def _brief(self, event: str, **values: object) -> None:
        """Keep the playbook's stakeholder groups and the incident's subscribers informed."""
        incident = self._incident
        if not incident.playbook.stakeholders or not self._patched("brief-stakeholders"):
            return
        briefing = messages.briefing(self._messenger, incident.playbook.stakeholders, event, **values)
        activity_id = f"brief.{event}.{incident.event_count}"
        if self._beside:
            self._spawn(self._send_briefing(briefing, event, activity_id))
            return
        try:
            reached = await workflow.execute_activity_method(
                IncidentActivities.brief_stakeholders,
                briefing,
                activity_id=activity_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
                summary=f"brief stakeholders: {event}",
            )
        except ActivityError as error:
            if self._shown_if_refused(error, f"brief stakeholders: {event}"):
                return
            raise
        incident.record_briefing(event, reached, workflow.now())

    async def _send_briefing(self, briefing: "messages.Briefing", event: str, activity_id: str) -> None:
        what = f"brief stakeholders: {event}"
        try:
            reached = await workflow.execute_activity_method(
                IncidentActivities.brief_stakeholders,
                briefing,
                activity_id=activity_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=NOTICE_CLOSES_WITHIN,
                retry_policy=NOTICE_RETRY,
                summary=what,
            )
        except ActivityError as error:
            self._record_undelivered(error, what, "the stakeholders", ["email"])
            return
        self._incident.record_briefing(event, reached, workflow.now())

    async def _tell_severity(self, change: int) -> None:
        """Everyone paged so far, and every stakeholder group, hears of a re-assessment (the
        timeline event number ``change`` keys the sends)."""
        incident = self._incident
        event = incident.event(change)
        previous, reason = event.data["previous"], event.data["reason"]
        say = self._messenger
        await asyncio.gather(
            *(
                self._tell(
                    say.severity_changed(person, previous, event.actor, reason),
                    f"severity.{change}.{person}",
                    f"tell {person} the severity is now {incident.severity}",
                )
                for person in incident.paged_people()
            )
        )
        await self._brief("reassessed", previous=previous, reason=reason)

    async def _tell_schedulers(self, event: str, what: str) -> None:
        """Social scheduling tools stop posting cheerful content into a crisis, and start again after."""
        incident = self._incident
        targets = incident.playbook.communicate.pause_scheduled_posts
        if not targets or not self._patched("pause-scheduled-posts"):
            return
        signal = TargetSignal(
            incident_id=incident.state.id,
            event=event,
            targets=targets,
            title=incident.state.title,
            text=f"{what}: {incident.state.title}",
            drill=incident.plan.drill,
        )
        try:
            sent = await workflow.execute_activity_method(
                IncidentActivities.signal_targets,
                signal,
                activity_id=event,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                summary=f"{what.lower()} on {', '.join(targets)}",
                **self._retries(),
            )
        except ActivityError as error:
            if self._shown_if_refused(error, f"{what.lower()} on {', '.join(targets)}"):
                return
            if not self._bounded or _cancelled(error):
                raise
            _, reason = _undelivered(error)
            sent = [
                Receipt(channel=target, sha256="", error=reason) for target in targets
            ]  # the timeline says none was told, and why
        incident.record_schedulers(event, what, sent, workflow.now())

    def _retries(self, bounded: RetryPolicy = NOTICE_RETRY) -> dict:
        """A provider's send: tried within ``NOTICE_CLOSES_WITHIN`` (``EVERY_SEND_BOUNDED``), or for ever, as before."""
        if self._bounded:
            return {"schedule_to_close_timeout": NOTICE_CLOSES_WITHIN, "retry_policy": bounded}
        return {"retry_policy": RETRY}

    async def _review(self) -> None:
        incident = self._incident
        due = incident.state.deadlines["review"].due_at
        askees = list(
            dict.fromkeys([incident.commander] + [incident.on_duty(role) for role in incident.playbook.review.feedback_from])
        )
        if self._patched("feedback-links"):
            await self._tell(
                self._messenger.review_request(incident.commander, due),
                f"review.request.{incident.commander}",
                f"ask {incident.commander} for the review",
            )
            responders = [ack.acknowledged_by for ack in incident.state.acknowledgements.values() if ack.acknowledged_by]
            crew = list(dict.fromkeys(askees + responders))
            await self._aside(self._request_feedback(crew, incident.playbook.stakeholders))
            self._spawn(self._remind_review(due))
        else:
            for person in askees:
                await self._tell(
                    self._messenger.review_request(person, due), f"review.request.{person}", f"ask {person} for the review"
                )
        await self._await_deadline(
            lambda: incident.state.review is not None, "review", "the post-incident review", lambda: [incident.commander]
        )

    async def _request_feedback(self, people: list[str], groups: list[str], reminder: bool = False) -> None:
        incident = self._incident
        request = self._messenger.feedback_request(people, groups, incident.state.deadlines["review"].due_at, reminder=reminder)
        what = (
            f"{'remind' if reminder else 'ask'} {len(people)} people{' and stakeholders' if groups else ''} for feedback by link"
        )
        bounded = (
            {"schedule_to_close_timeout": NOTICE_CLOSES_WITHIN, "retry_policy": NOTICE_RETRY}
            if self._beside
            else {"retry_policy": RETRY}
        )
        try:
            asked = await workflow.execute_activity_method(
                IncidentActivities.request_feedback,
                request,
                activity_id="feedback.reminder" if reminder else "feedback.request",
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                summary=what,
                **bounded,
            )
        except ActivityError as error:
            if self._beside:
                self._record_undelivered(error, what, f"{len(people)} people", ["email"])
                return
            if self._shown_if_refused(error, what):
                return
            raise
        incident.record_feedback_requested(asked, workflow.now(), reminder=reminder)

    async def _remind_review(self, due: datetime) -> None:
        """Half-way to the review deadline, remind the commander and whoever has not given feedback."""
        incident = self._incident
        halfway = workflow.now() + (due - workflow.now()) / 2
        if await self._wait_until(lambda: incident.state.review is not None, halfway, "remind the review and feedback"):
            return
        commander = incident.commander
        await self._tell(
            self._messenger.review_request(commander, due, reminder=True),
            f"review.reminder.{commander}",
            f"remind {commander} of the review",
        )
        incident.record_reminder("Post-incident review", [commander], workflow.now(), deadline="review")
        if awaiting := incident.awaiting_feedback():
            await self._aside(self._request_feedback(awaiting, [], reminder=True))

    def _spawn(self, coroutine, resumable: bool = False) -> None:
        """Run beside the main flow; awaited before closing so an error in it fails loudly.
        ``resumable``: a watcher the next run starts again from the state (see ``_resume``), which
        does not hold up continuing as new; every other coroutine does, until it has finished."""
        task = asyncio.create_task(coroutine)
        self._background.append(task)
        if resumable:
            self._resumable.add(task)

    async def _aside(self, coroutine) -> None:
        """Beside the flow once notices are (``NOTICES_BESIDE``); awaited in it, as before, otherwise."""
        if self._beside:
            self._spawn(coroutine)
        else:
            await coroutine

    async def _background_finished(self) -> None:
        """Every coroutine run beside the flow, including those spawned while closing. Notices among
        them are bounded (``NOTICE_CLOSES_WITHIN``, once more for a fallback), so this wait is too."""
        awaited = 0
        while awaited < len(self._background):
            batch = self._background[awaited:]
            awaited = len(self._background)
            await asyncio.gather(*batch)

    # ---- waiting and deadlines -----------------------------------------------------------------

    async def _wait(self, done: Callable[[], bool], timeout: timedelta | None, summary: str) -> bool:
        """True when ``done`` became true, False when the timeout passed first."""
        try:
            await workflow.wait_condition(done, timeout=timeout, timeout_summary=summary if timeout else None)
        except asyncio.TimeoutError:
            return False
        return True

    async def _wait_with_the_wave(self, done: Callable[[], bool], wait: timedelta) -> bool:
        """``_wait`` for an escalation level of a large team (``WAVE_TIMERS``): the waits that end at the same
        instant share one timer, cancelled once none of them is waiting any more."""
        if done():
            return True
        due = workflow.now() + wait
        timer = self._wave_timers.get(due)
        if timer is None:
            timer = self._wave_timers[due] = _SharedTimer(wait, f"the pages sent now acknowledged within {wait}")
        timer.waiting += 1
        try:
            await workflow.wait_condition(lambda: done() or timer.passed)
        finally:
            timer.waiting -= 1
            if not timer.waiting:
                timer.running.cancel()  # nothing once it has fired; a CancelTimer command before
                if self._wave_timers.get(due) is timer:
                    del self._wave_timers[due]
        return done()

    async def _wait_until(self, done: Callable[[], bool], due_at: datetime, summary: str) -> bool:
        if done():
            return True
        remaining = due_at - workflow.now()
        if remaining <= timedelta(0):
            return False
        return await self._wait(done, remaining, summary)

    async def _await_deadline(self, done: Callable[[], bool], name: str, what: str, people: Callable[[], list[str]]) -> None:
        """Wait for ``done``; if the named deadline passes first, record it and remind ``people`` once."""
        incident = self._incident
        while True:  # a deadline the severity sets moves when the severity changes
            deadline = incident.state.deadlines[name]

            def moved() -> bool:
                return incident.state.deadlines[name].due_at != deadline.due_at  # noqa: B023 (awaited here)

            if not await self._wait_until(lambda: done() or moved(), deadline.due_at, f"{what} due"):  # noqa: B023
                break
            if done():
                return
        incident.record_deadline_missed(name, workflow.now())
        reminded = people()
        for person in reminded:
            await self._tell(
                self._messenger.reminder(person, what, deadline.due_at),
                f"reminder.{name}.{person}",
                f"remind {person}: {what} overdue",
            )
        incident.record_reminder(f"Overdue: {what}", reminded, workflow.now(), deadline=name)
        await workflow.wait_condition(done)

    # ---- side effects ----------------------------------------------------------------------

    async def _notify(self, notice: "messages.Notice", activity_id: str, summary: str) -> None:
        # Cancelled (a page taken while it is still being retried), a send already under way
        # finishes and counts: the person got it, so the timeline says so. Only a send waiting
        # for its next try is dropped.
        try:
            await workflow.execute_activity_method(
                IncidentActivities.notify,
                notice,
                activity_id=activity_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=summary,
            )
        except ActivityError as error:
            if not self._shown_if_refused(error, summary):
                raise

    async def _tell(self, notice: "messages.Notice", activity_id: str, summary: str) -> None:
        """A notice that is not a page: beside the flow and bounded (``NOTICES_BESIDE``), or awaited
        in it with unlimited retries, as before."""
        if self._beside:
            self._spawn(self._send_notice(notice, activity_id, summary))
        else:
            await self._notify(notice, activity_id, summary)

    async def _send_notice(
        self, notice: "messages.Notice", activity_id: str, summary: str, may_fall_back: bool = True, page: bool = False
    ) -> bool:
        """Send a notice within ``NOTICE_CLOSES_WITHIN``. A channel that still fails then, or is refused
        for good, is a timeline event; when no channel reached the person, the notice goes once more
        on a channel it did not use (the path a bounced page takes). True when it reached the person.
        A ``page`` rings a phone where its level says so, and a cancelled one is raised: the
        escalation says it was withdrawn."""
        try:
            deliveries = await workflow.execute_activity_method(
                IncidentActivities.notify,
                notice,
                activity_id=activity_id,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=NOTICE_CLOSES_WITHIN,
                retry_policy=NOTICE_RETRY,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=summary,
            )
        except ActivityError as error:
            if _cancelled(error) and page:
                raise
            if _cancelled(error) or self._shown_if_refused(error, summary):
                return False
            return await self._not_sent(notice, activity_id, summary, _undelivered(error), may_fall_back, page)
        self._sent_on(notice, deliveries, summary, page)
        return True

    def _from_first_task(self, role: str, step: tuple[int, int]) -> bool:
        """The commander's first page, sent from the declaration's first workflow task (``COMMANDER_PAGED_IN_FIRST_TASK``),
        unless the team is paged in batches: its first batch goes at once, and its waves split that task."""
        return (
            not self._batching
            and step == (0, 0)
            and role == self._incident.commander_role
            and self._bounded
            and self._patched(COMMANDER_PAGED_IN_FIRST_TASK)
        )

    async def _send_page_tried_once(
        self, notice: "messages.Notice", activity_id: str, summary: str, in_this_task: bool = False
    ) -> bool:
        """A page tried once, in its workflow task's batch (``BATCH_PAGES``: a large team) or, ``in_this_task``,
        from the task itself (``COMMANDER_PAGED_IN_FIRST_TASK``); then, if that try failed and may be
        repeated, on its own activity as any page is (the same ledger keys, so a channel the try reached
        is not sent again). True when it reached the person."""
        if in_this_task:
            self._spawn(self._try_in_this_task(notice, activity_id, summary))
        else:
            if self._page_batch is None:
                self._page_batch = []
                self._spawn(self._send_batches())
            self._page_batch.append((activity_id, notice))
        outcomes = self._page_outcomes
        withdrawn = False
        while True:
            try:
                await workflow.wait_condition(lambda: activity_id in outcomes)
                break
            except asyncio.CancelledError:
                withdrawn = True  # the try is under way: what it sends counts, as an activity's try does
        outcome = outcomes.pop(activity_id)
        if outcome is not None and outcome.deliveries is not None:
            self._sent_on(notice, outcome.deliveries, summary, page=True)
            return True
        if withdrawn:
            raise asyncio.CancelledError  # answered meanwhile: not tried again
        if outcome is None or not outcome.final:  # the batch itself failed, or this person's try may be repeated
            return await self._send_notice(notice, activity_id, summary, page=True)
        if outcome.failure == DATA_ERROR and self._patched(DATA_ERRORS):
            self._show_data_error(summary, outcome.message.removeprefix(REFUSED_PREFIX))
            return False
        return await self._not_sent(
            notice, activity_id, summary, _refused_on(outcome.failure, outcome.message, outcome.channels), True, page=True
        )

    async def _try_in_this_task(self, notice: "messages.Notice", activity_id: str, summary: str) -> None:
        try:
            outcomes: list[NoticeOutcome | None] = await workflow.execute_local_activity_method(
                IncidentActivities.notify_each,
                NoticeBatch(notices=[BatchedNotice(send_id=activity_id, notice=notice)]),
                activity_id=activity_id,  # the page's, as its own activity and its ledger keys have it
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ONE_TRY,
                summary=summary,
            )
        except ActivityError:
            outcomes = [None]  # on the page's own activity, which finds in the ledger what went
        self._page_outcomes[activity_id] = outcomes[0]

    async def _send_batches(self) -> None:
        """Send the pages collected in this workflow task, once every coroutine that pages in it has run
        (a condition that always holds is checked after everything ready has run), PAGE_BATCH an activity."""
        await workflow.wait_condition(lambda: True)
        pages, self._page_batch = self._page_batch or [], None
        batches = [pages[start : start + PAGE_BATCH] for start in range(0, len(pages), PAGE_BATCH)]
        first = self._batches + 1
        self._batches += len(batches)
        await asyncio.gather(*(self._send_batch(batch, f"pages.{first + n}") for n, batch in enumerate(batches)))

    async def _send_batch(self, pages: list[tuple[str, "messages.Notice"]], batch_id: str) -> None:
        people = ", ".join(notice.person for _, notice in pages)
        try:
            outcomes: list[NoticeOutcome | None] = await workflow.execute_activity_method(
                IncidentActivities.notify_each,
                NoticeBatch(notices=[BatchedNotice(send_id=send_id, notice=notice) for send_id, notice in pages]),
                activity_id=batch_id,
                start_to_close_timeout=BATCH_CLOSES_WITHIN,
                heartbeat_timeout=ACTIVITY_TIMEOUT,
                retry_policy=BATCH_RETRY,
                summary=f"page {len(pages)} people: {people}",
            )
        except ActivityError:
            outcomes = [None] * len(pages)  # each page on its own activity, which finds in the ledger what went
        for (send_id, _), outcome in zip(pages, outcomes):
            self._page_outcomes[send_id] = outcome

    @staticmethod
    def _channels_of(notice: "messages.Notice", page: bool) -> list[str]:
        return list(dict.fromkeys("sms" if channel == "call" and not page else channel for channel in notice.channels))

    async def _not_sent(
        self,
        notice: "messages.Notice",
        activity_id: str,
        summary: str,
        undelivered: tuple[list[str], str],
        may_fall_back: bool,
        page: bool,
    ) -> bool:
        """A notice whose last try failed: when no channel reached the person, it goes once more on a
        channel it did not use; what still failed is on the timeline. True when it reached the person."""
        incident = self._incident
        channels = self._channels_of(notice, page)
        failed, reason = undelivered
        failed = [channel for channel in failed if channel in channels] or channels
        reached = [channel for channel in channels if channel not in failed]
        other = next((channel for channel in NOTICE_CHANNELS if channel not in channels), None)
        if not reached and may_fall_back and other is not None:
            incident.record_delivery_failure(notice.person, " and ".join(failed), other, reason, workflow.now())
            again = f"{summary} (again by {other})"
            return await self._send_notice(
                messages.resent(notice, other), f"{activity_id}.fallback.{other}", again, may_fall_back=False, page=page
            )
        incident.record_notice_failed(notice.person, failed, reason, summary, reached, workflow.now())
        return bool(reached)

    def _sent_on(self, notice: "messages.Notice", deliveries: list[Delivery], summary: str, page: bool) -> None:
        """A notice sent: a channel that refused it for good is on the timeline."""
        channels = self._channels_of(notice, page)
        refused = [
            r for d in deliveries if not d.accepted and d.error and (r := d.error.partition(": "))[0] in channels
        ]  # "sms: why"
        reached = [channel for channel in channels if channel not in {channel for channel, _, _ in refused}]
        for channel, _, reason in refused:
            self._incident.record_notice_failed(notice.person, [channel], reason, summary, reached, workflow.now())

    def _record_undelivered(self, error: ActivityError, what: str, who: str, channels: list[str]) -> None:
        """A bounded notice activity that gave up: shown on the timeline, never raised."""
        if _cancelled(error) or self._shown_if_refused(error, what):
            return
        _, reason = _undelivered(error)
        self._incident.record_notice_failed(who, channels, reason, what, [], workflow.now())

    def _shown_if_refused(self, error: ActivityError, what: str) -> bool:
        """True when the database refused the activity's data: shown on the incident, not raised."""
        if not _data_refused(error) or not self._patched(DATA_ERRORS):
            return False
        self._show_data_error(what, error.cause.message.removeprefix(REFUSED_PREFIX))
        return True

    def _show_data_error(self, what: str, reason: str) -> None:
        """Once per kind of step: each later try of the same step is refused the same way."""
        if what not in self._data_errors_shown:
            self._data_errors_shown.add(what)
            self._incident.record_data_error(what, reason, workflow.now())

    def _enter(self, phase: Phase) -> None:
        self._incident.enter(phase, workflow.now())

    async def _project_changes(self) -> None:
        """Keep the read model and the search attributes in step with the incident."""
        incident = self._incident
        while True:
            await workflow.wait_condition(lambda: incident.event_count > self._projected_seq or self._finished)
            if incident.event_count == self._projected_seq:
                return
            now = workflow.now()
            pending = incident.pending(now)  # once, for the summary and the current details
            self._sync_temporal_metadata(pending)
            seq = incident.event_count
            summary = IncidentSummary(
                id=incident.state.id,
                title=incident.state.title,
                playbook=incident.state.playbook,
                scenario=incident.state.scenario,
                severity=incident.severity.value,
                phase=incident.phase.value,
                status="closed" if incident.closed else "open",
                drill=incident.plan.drill,
                declared_at=incident.state.declared_at,
                updated_at=now,
                closed_at=incident.state.closed_at,
                pending=pending,
                projected_seq=seq,
            )
            earlier = incident.state.earlier.events
            events = incident.state.timeline[self._projected_seq - earlier : seq - earlier]
            figures = None
            if incident.phase in (Phase.REVIEW, Phase.CLOSED):
                figures = metrics.summarize(incident.state, metrics.compute(incident.state, incident.commander_role, now))
            try:
                refused = await workflow.execute_activity_method(
                    IncidentActivities.record,
                    Projection(summary=summary, events=events, metrics=figures),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=RETRY,
                    summary=f"record {events[0].kind}…{events[-1].kind} ({len(events)} events)"
                    if len(events) > 1
                    else f"record {events[0].kind}",
                )
            except ActivityError as error:
                if not _data_refused(error) or not self._patched(DATA_ERRORS):
                    raise
                refused = error.cause.message.removeprefix(
                    REFUSED_PREFIX
                )  # nothing of this batch was stored: shown below, not retried
            if refused and self._patched(DATA_ERRORS):
                self._show_data_error("the read model (lists, search, reports)", refused)
            self._projected_seq = seq

    def _sync_temporal_metadata(self, pending: list[PendingItem]) -> None:
        """Search attributes and current details (with what is ``pending`` now): what the Temporal UI
        shows without our database."""
        incident = self._incident
        wanted = {
            CRISIS_SCENARIO.name: (CRISIS_SCENARIO, incident.state.scenario),
            CRISIS_SEVERITY.name: (CRISIS_SEVERITY, incident.severity.value),
            CRISIS_PHASE.name: (CRISIS_PHASE, incident.phase.value),
            CRISIS_DRILL.name: (CRISIS_DRILL, incident.plan.drill),
        }
        changes = [key.value_set(value) for name, (key, value) in wanted.items() if self._searchable.get(name) != value]
        if changes:
            workflow.upsert_search_attributes(changes)
            self._searchable.update({name: value for name, (_, value) in wanted.items()})
        workflow.set_current_details(self._details(pending))

    def _details(self, pending: list[PendingItem]) -> str:
        incident = self._incident
        lines = [f"**{incident.state.title}** — {incident.severity.value}, phase **{incident.phase.value}**", ""]
        for item in pending:
            # hour and minute, not strftime: in the sandbox each strftime imports ``time`` through its importer
            due = f" (due {item.due_at.hour:02d}:{item.due_at.minute:02d} UTC)" if item.due_at else ""
            lines.append(f"- waiting: {item.title}{due}")
        return "\n".join(lines)

    # ---- people: queries and updates -------------------------------------------------------

    def _view(self) -> IncidentView:
        return self._incident.view(workflow.now())

    async def _receipt(self, change: Callable[[], object], known: dict[str, str] | None) -> UpdateReceipt:
        """Apply a person's change and say what it did. With SETTLED_ANSWERS the answer waits until
        the flow has acted on the change, and carries the incident as it then stands, as the parts
        of its view the caller's copy (``known``) lacks."""
        incident = self._incident
        before = len(incident.state.timeline)
        change()
        events = [event.message for event in incident.state.timeline[before:]]
        if not self._settled_answers:
            return UpdateReceipt(phase=incident.phase, events=events)
        await self._flow_settled()
        if known is None or workflow.unsafe.is_replaying():  # a replay's results go to no one
            return UpdateReceipt(phase=incident.phase, events=events)
        if self._written is None:
            self._written = view_delta.Written()
        return UpdateReceipt(phase=incident.phase, events=events, view=view_delta.model_delta(self._view(), known, self._written))

    async def _flow_settled(self) -> None:
        """Until every coroutine the change woke has run on to its next wait: the phase it moved to, the
        statement it drafted, the activities it started (not their end). A condition that always holds
        is checked after everything ready has run, and each pass that changed the incident is followed
        by another; all within the workflow task, so nothing is recorded and the handler is done before
        the run could complete or continue as new."""
        incident = self._incident
        for _ in range(SETTLE_PASSES):
            mark = (incident.state.revision, incident.phase)
            await workflow.wait_condition(lambda: True)
            if (incident.state.revision, incident.phase) == mark:
                return

    @staticmethod
    def _validated(check: Callable[[], None]) -> None:
        try:
            check()
        except Rejected as rejection:
            raise ApplicationError(rejection.message, type=f"Rejected.{rejection.kind}", non_retryable=True) from None

    @workflow.signal
    async def delivery_failed(self, failure: "messages.DeliveryFailure") -> None:
        """A provider reported a page undelivered or bounced: send it at once on the other channel."""
        activity_id = failure.ledger_key.split("/")[1] if failure.ledger_key.count("/") == 2 else ""
        notice = self._sent.get(activity_id)
        if notice is None or notice.person != failure.person or self._incident.closed:
            return
        other = "email" if failure.channel == "sms" else "sms"
        fallback_id = f"{activity_id}.fallback.{other}"
        if fallback_id in self._sent:
            return
        resent = messages.resent(notice, other)
        self._sent[fallback_id] = resent
        self._incident.record_delivery_failure(failure.person, failure.channel, other, failure.reason, workflow.now())
        what = f"page {failure.person} again by {other}: {failure.channel} failed"
        if self._beside:  # a handler still running holds up the close: the resend is bounded, beside the flow
            self._spawn(self._send_notice(resent, fallback_id, what, may_fall_back=False))
        else:
            await self._notify(resent, fallback_id, what)

    @workflow.query
    def state(self) -> IncidentView:
        return self._view()

    @workflow.query
    def preview_statement(self, draft: StatementPreview) -> DraftPreview:
        """The statement editor's preview as someone types: each channel's variant with its count
        and limit, built as the draft's validator would build it. A query: nothing is recorded."""
        return draft_preview(self._incident, draft)

    @workflow.update
    async def acknowledge(self, action: Acknowledge) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.acknowledge(action, workflow.now()), action.known)

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        self._validated(lambda: self._incident.check_acknowledge(action))

    @workflow.update
    async def assess(self, action: Assessment) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.assess(action, workflow.now()), action.known)

    @assess.validator
    def _check_assess(self, action: Assessment) -> None:
        self._validated(lambda: self._incident.check_assessment(action))

    @workflow.update
    async def edit_fact_sheet(self, action: FactSheetEdit) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.edit_fact_sheet(action, workflow.now()), action.known)

    @edit_fact_sheet.validator
    def _check_edit_fact_sheet(self, action: FactSheetEdit) -> None:
        self._validated(lambda: self._incident.check_fact_sheet_edit(action))

    @workflow.update
    async def reassess(self, action: Reassessment) -> UpdateReceipt:
        def change() -> None:
            self._incident.reassess(action, workflow.now())
            self._spawn(self._tell_severity(self._incident.event_count))

        return await self._receipt(change, action.known)

    @reassess.validator
    def _check_reassess(self, action: Reassessment) -> None:
        self._validated(lambda: self._incident.check_reassessment(action))

    @workflow.update
    async def task_done(self, action: TaskDone) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.complete_task(action.task_id, action, workflow.now()), action.known)

    @task_done.validator
    def _check_task_done(self, action: TaskDone) -> None:
        self._validated(lambda: self._incident.check_complete_task(action.task_id, action))

    @workflow.update
    async def submit_statement(self, action: StatementDraft) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.draft_statement(action, workflow.now()), action.known)

    @submit_statement.validator
    def _check_submit_statement(self, action: StatementDraft) -> None:
        self._validated(lambda: self._incident.check_statement_draft(action))

    @workflow.update
    async def decide_statement(self, action: DecideStatement) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.decide(action.version, action, workflow.now()), action.known)

    @decide_statement.validator
    def _check_decide_statement(self, action: DecideStatement) -> None:
        self._validated(lambda: self._incident.check_decision(action.version, action))

    @workflow.update
    async def propose_kit_answer(self, action: ProposeAnswer) -> UpdateReceipt:
        def change() -> None:
            proposal = self._incident.propose_answer(action.answer_id, action, workflow.now())
            self._spawn(self._ask_about_answer(proposal.number))

        return await self._receipt(change, action.known)

    @propose_kit_answer.validator
    def _check_propose_kit_answer(self, action: ProposeAnswer) -> None:
        self._validated(lambda: self._incident.check_answer_proposal(action.answer_id, action))

    @workflow.update
    async def decide_kit_answer(self, action: DecideAnswer) -> UpdateReceipt:
        def change() -> None:
            proposal = self._incident.decide_answer(action.answer_id, action.version, action, workflow.now())
            if proposal.status is AnswerStatus.REJECTED:
                self._spawn(self._ask_about_answer(proposal.number))

        return await self._receipt(change, action.known)

    @decide_kit_answer.validator
    def _check_decide_kit_answer(self, action: DecideAnswer) -> None:
        self._validated(lambda: self._incident.check_answer_decision(action.answer_id, action.version, action))

    @workflow.update
    async def revise_internal(self, action: ReviseInternal) -> UpdateReceipt:
        def change() -> None:
            message = self._incident.add_internal(action.audience, action.text, action.person, workflow.now(), via=action.via)
            self._spawn(self._ask_about_internal(message.number))

        return await self._receipt(change, action.known)

    @revise_internal.validator
    def _check_revise_internal(self, action: ReviseInternal) -> None:
        self._validated(lambda: self._incident.check_internal_draft(action.audience, action))

    @workflow.update
    async def decide_internal_message(self, action: DecideInternal) -> UpdateReceipt:
        def change() -> None:
            message = self._incident.decide_internal(action.audience, action.version, action, workflow.now())
            if message.status in (InternalStatus.REJECTED, InternalStatus.APPROVED):
                self._spawn(self._ask_about_internal(message.number))

        return await self._receipt(change, action.known)

    @decide_internal_message.validator
    def _check_decide_internal_message(self, action: DecideInternal) -> None:
        self._validated(lambda: self._incident.check_internal_decision(action.audience, action.version, action))

    @workflow.update
    async def resolve(self, action: Resolution) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.resolve(action, workflow.now()), action.known)

    @resolve.validator
    def _check_resolve(self, action: Resolution) -> None:
        self._validated(lambda: self._incident.check_resolve(action))

    @workflow.update
    async def submit_review(self, action: ReviewSubmission) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.submit_review(action, workflow.now()), action.known)

    @submit_review.validator
    def _check_submit_review(self, action: ReviewSubmission) -> None:
        self._validated(lambda: self._incident.check_review(action))

    @workflow.update
    async def submit_feedback(self, action: FeedbackSubmission) -> UpdateReceipt:
        return await self._receipt(lambda: self._incident.submit_feedback(action, workflow.now()), action.known)

    @submit_feedback.validator
    def _check_submit_feedback(self, action: FeedbackSubmission) -> None:
        self._validated(lambda: self._incident.check_feedback(action))

    # ---- Updates as they were named before each took one input model -----------------------

    @workflow.update(dynamic=True)
    async def _earlier_update(self, name: str, args: Sequence[RawValue]) -> UpdateReceipt:
        """Recorded histories, and incidents running when the Updates changed, hold these with the
        identifiers as leading arguments (``complete_task("t1", {...})``): each is read as its
        successor's one input and handled by it."""
        update, action = self._earlier(name, args)
        return await getattr(self, update)(action)

    @_earlier_update.validator
    def _check_earlier_update(self, name: str, args: Sequence[RawValue]) -> None:
        update, action = self._earlier(name, args)
        getattr(self, f"_check_{update}")(action)

    @staticmethod
    def _earlier(name: str, args: Sequence[RawValue]) -> tuple[str, Action]:
        if name not in EARLIER_UPDATES:
            raise ApplicationError(f"there is no action '{name}'", type="Rejected.invalid", non_retryable=True)
        update, model, leading = EARLIER_UPDATES[name]
        values = [workflow.payload_converter().from_payload(arg.payload) for arg in args]
        if len(values) != len(leading) + 1 or not isinstance(values[-1], dict):
            raise ApplicationError(
                f"'{name}' takes {', '.join(leading)} and the action", type="Rejected.invalid", non_retryable=True
            )
        body = {
            key: value for key, value in values[-1].items() if key in model.model_fields
        }  # a draft's short and title: never read
        return update, model.model_validate({**body, **dict(zip(leading, values))})


# Earlier Update name → its successor, the successor's input, and the leading arguments' fields in it.
EARLIER_UPDATES: dict[str, tuple[str, type[Action], tuple[str, ...]]] = {
    "complete_task": ("task_done", TaskDone, ("task_id",)),
    "decide": ("decide_statement", DecideStatement, ("version",)),
    "propose_answer": ("propose_kit_answer", ProposeAnswer, ("answer_id",)),
    "decide_answer": ("decide_kit_answer", DecideAnswer, ("answer_id", "version")),
    "submit_internal": ("revise_internal", ReviseInternal, ("audience",)),
    "decide_internal": ("decide_internal_message", DecideInternal, ("audience", "version")),
}
