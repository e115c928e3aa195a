"""Every ``workflow.patched(...)`` id in the workflows, when it was added and when it may be retired.

A patch keeps the old path of a workflow change for runs that started before it. It can go once no
run that started without it can still be running or be replayed: an incident runs for weeks at most
and a closed one is kept for the namespace's retention, so a patch may be retired ``RETIREMENT``
after it was added. Retiring is two releases: ``workflow.deprecate_patch(id)`` in place of the
branch (the old path's code goes), then the call goes too, together with the recorded histories
that took the old path (tests/histories/manifest.txt). tests/workflow/test_patches.py checks that
this registry and the ids used in workflows/ match exactly: a new patch is registered here.
"""

from dataclasses import dataclass
from datetime import date, timedelta

RETIREMENT = timedelta(days=90)


@dataclass(frozen=True)
class Patch:
    added: date
    why: str

    @property
    def retire_after(self) -> date:
        return self.added + RETIREMENT


PATCHES: dict[str, Patch] = {
    "lean-latency-settled-answers": Patch(
        date(2026, 12, 6),
        "a person's action is answered once the flow has acted on it, with the view's parts the caller's copy lacks",
    ),
    "lean-scale-page-in-waves": Patch(
        date(2026, 12, 6), "more than 100 roles paged at declaration start their escalations 100 to a workflow task"
    ),
    "lean-first-baseline": Patch(
        date(2026, 12, 7),
        "a run that starts with it takes every patch of BASELINE_COVERS without a marker and a search-attribute upsert of each",
    ),
    "lean-first-pages-first": Patch(
        date(2026, 12, 7), "a declaration's pages are scheduled before the briefing, the schedulers' pause and the watchers"
    ),
    "lean-fanout-batch-pages": Patch(
        date(2026, 12, 7),
        "a team of more than ten roles is paged ten people an activity; a person whose try failed is then tried alone",
    ),
    "lean-fanout-wave-timers": Patch(
        date(2026, 12, 7), "a large team's escalation levels whose waits end at the same instant share one timer"
    ),
    "lean-waves-in-one-task": Patch(
        date(2026, 12, 7),
        "the waves of a large team's escalations start in one workflow task, a local activity between them instead of a timer",
    ),
    "lean-scale-local-evaluation": Patch(
        date(2026, 12, 7),
        "a topic's detector judges its new mentions in a local activity, with no activity task for the server",
    ),
    "tell-who-took-the-page": Patch(date(2026, 11, 25), "the people still paged are told who acknowledged"),
    "chase-approvals": Patch(date(2026, 11, 25), "approvers are reminded and the fallback approver asked"),
    "publication-receipts": Patch(date(2026, 11, 25), "a publication returns each target's receipt"),
    "brief-stakeholders": Patch(date(2026, 11, 25), "the playbook's stakeholder groups are briefed"),
    "pause-scheduled-posts": Patch(date(2026, 11, 25), "social schedulers are paused at declaration"),
    "escalate-on-time": Patch(date(2026, 12, 1), "a level's wait starts when its pages are sent off"),
    "page-a-level-at-once": Patch(date(2026, 12, 1), "every person of an escalation level is paged at once"),
    "feedback-links": Patch(date(2026, 12, 1), "review feedback is asked for by link, with a half-way reminder"),
    "voice-flow-holding-on-time": Patch(date(2026, 12, 6), "the holding statement goes to approval at the holding point"),
    "voice-content-obligations": Patch(date(2026, 12, 6), "the playbook's legal clocks (obligations) are watched"),
    "voice-content-internal": Patch(date(2026, 12, 6), "internal messages are drafted, approved and emailed"),
    "voice-flow-tell-author": Patch(date(2026, 12, 6), "a statement's author is told of requested changes"),
    "voice-flow-promise": Patch(date(2026, 12, 6), "a statement promises the next update's time, kept by the cadence"),
    "trust-input-data-errors": Patch(date(2026, 12, 6), "data the database refuses is shown on the incident, not retried"),
    "stall-notices-beside-the-flow": Patch(
        date(2026, 12, 6), "notices other than pages go beside the flow, bounded, their failures on the timeline"
    ),
    "publish-replies": Patch(date(2026, 12, 6), "the replies to and quotes of each published post are read back (not in drills)"),
    "publish-threads": Patch(
        date(2026, 12, 6),
        "a publication carries its context: the threads to answer, the severity, the status page's public name and components",
    ),
    "publish-reply-surge-tell": Patch(date(2026, 12, 6), "the comms lead on duty is emailed about a surge of negative replies"),
    "publish-reply-surge": Patch(
        date(2026, 12, 6), "replies are read at the playbook's pace and a surge of negative ones is on the timeline"
    ),
    "voice-core-public-voice": Patch(date(2026, 12, 6), "statements are channel variants drafted from the public fact sheet"),
    "stall-every-send-bounded": Patch(
        date(2026, 12, 6),
        "a page no channel delivers is on the timeline and the chain goes on; publications, internal messages and the schedulers'"
        " pause and resume are bounded",
    ),
    "engine-continue-as-new": Patch(
        date(2026, 12, 6), "a long incident continues as new between update cycles, carrying its state"
    ),
    "engine-rest-render-bounded": Patch(
        date(2026, 12, 6),
        "drafting from the template is bounded and a draft that fails is on the timeline, not the incident's end",
    ),
    "engine-rest-publication-refused": Patch(
        date(2026, 12, 6), "a publication the database refuses is published once, the refusal in its receipts, not tried for ever"
    ),
    "lean-first-commander-in-first-task": Patch(
        date(2026, 12, 7),
        "the commander's first page is tried once from the declaration's first workflow task (a local activity), then on its"
        " own activity if that try failed",
    ),
    "lean-replay-shorter-runs": Patch(
        date(2026, 12, 7),
        "a long incident continues as new at the first safe point past 1,000 events instead of 2,000, so a restarted"
        " worker replays half as much",
    ),
}

BASELINE = "lean-first-baseline"
# Every patch registered before the baseline. A run whose first workflow task recorded the baseline's
# marker takes each of them without asking (``IncidentFlow._patched``): Temporal records a marker and
# upserts the ``TemporalChangeVersion`` search attribute for every patch a run asks about, so a
# declaration's first workflow task carried 24 such commands before its first page. A run without
# the baseline (started before it, or replayed from such a history) asks about each as before. The
# list is fixed: a patch added later is asked about in every run. Once no run without the baseline
# can be running or replayed, the baseline retires with every patch it covers, whose old paths go.
BASELINE_COVERS = frozenset(
    {
        "brief-stakeholders",
        "chase-approvals",
        "engine-continue-as-new",
        "engine-rest-publication-refused",
        "engine-rest-render-bounded",
        "escalate-on-time",
        "feedback-links",
        "lean-fanout-batch-pages",
        "lean-fanout-wave-timers",
        "lean-first-pages-first",
        "lean-latency-settled-answers",
        "lean-scale-page-in-waves",
        "page-a-level-at-once",
        "pause-scheduled-posts",
        "publication-receipts",
        "publish-replies",
        "publish-reply-surge",
        "publish-reply-surge-tell",
        "publish-threads",
        "stall-every-send-bounded",
        "stall-notices-beside-the-flow",
        "tell-who-took-the-page",
        "trust-input-data-errors",
        "voice-content-internal",
        "voice-content-obligations",
        "voice-core-public-voice",
        "voice-flow-holding-on-time",
        "voice-flow-promise",
        "voice-flow-tell-author",
    }
)
