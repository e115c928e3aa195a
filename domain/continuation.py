"""What a long incident's workflow carries into its next run when it continues as new
(:class:`domain.incident.Continuation`, in the next run's ``IncidentPlan.continued``).

The next run gets the incident's state, not its history: the recent timeline (every event is in the
read model already), the statements from the last published one on, and the counters and facts
that keep numbering, threads and metrics right (:class:`domain.incident.EarlierRuns`), and the
approval rounds of the statements it drops, which the post-incident review lists. Sends keep
their activity ids across runs (the ledger key is the workflow id and the activity id, never the
run id), so nothing a run sent goes again; the watchers a run leaves running start again in the next
from the state and the clocks carried here.
"""

from domain.incident import EarlierRuns, IncidentState, StatementStatus
from domain.metrics import approval_rounds, approver_totals

KEEP_EVENTS = 100  # the incident page's recent timeline; earlier events are read from the read model
# The review lists the latest approval rounds one by one and counts the older ones: carrying every
# round of a month-long SEV1 outage (about 270 bytes each) took the state query's answer past
# Temporal's 512 KiB payload warning in the 30-day test.
KEEP_ROUNDS = 200


def carried(state: IncidentState, keep_events: int = KEEP_EVENTS, keep_rounds: int = KEEP_ROUNDS) -> IncidentState:
    """``state`` with its records trimmed to what the next run needs. Called at a safe point: no
    statement is in flight, so the last published statement is the latest one that matters."""
    published = [index for index, statement in enumerate(state.statements) if statement.status is StatementStatus.PUBLISHED]
    first_kept = published[-1] if published else 0
    dropped_statements = state.statements[:first_kept]
    dropped_events = max(len(state.timeline) - keep_events, 0)
    threads = dict(state.earlier.threads)
    for statement in dropped_statements:
        if statement.status is StatementStatus.PUBLISHED:
            for receipt in statement.receipts:
                if receipt.error is None and receipt.provider_id and receipt.channel not in threads:
                    threads[receipt.channel] = receipt.provider_id
    first_published = next((s.published_at for s in dropped_statements if s.published_at is not None), None)
    rounds = state.earlier.approval_rounds + approval_rounds(dropped_statements)
    surges = [event.data["signal"] for event in state.timeline[:dropped_events] if event.kind == "reply_surge"]
    earlier = EarlierRuns(
        runs=state.earlier.runs + 1,
        events=state.earlier.events + dropped_events,
        statements=state.earlier.statements + first_kept,
        threads=threads,
        first_published_at=state.earlier.first_published_at or first_published,
        reply_surges=state.earlier.reply_surges + surges,
        approval_rounds=rounds[-keep_rounds:],
        rounds_not_kept=state.earlier.rounds_not_kept + max(len(rounds) - keep_rounds, 0),
        approver_waits=approver_totals(dropped_statements, state.earlier.approver_waits),
    )
    return state.model_copy(
        update={"timeline": state.timeline[dropped_events:], "statements": state.statements[first_kept:], "earlier": earlier},
        deep=True,
    )
