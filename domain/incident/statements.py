"""Public statements: drafted from the fact sheet as channel variants, decided by the approvers,
published to the targets, and the deadlines they meet."""

from datetime import datetime, timedelta
from typing import Any

from domain.actions import StatementDecision, StatementDraft, Verdict
from domain.events import EventKind
from domain.factsheet import FactSheet
from domain.incident.state import (
    SYSTEM_AUTHOR,
    Phase,
    Receipt,
    Rejected,
    StatementStatus,
    StatementVersion,
    text_diff,
    text_sha256,
)
from domain.playbook import STATUS_PAGE_NAME, STATUS_PAGE_NAMES
from domain.statements import StatementKind
from domain.variants import Form as VariantForm
from domain.variants import Variant, build_variants, describe, find, set_sha256, variant_sha256
from domain.variants import problems as variant_problems


class Statements:
    def holding_at(self) -> datetime | None:
        """When the holding statement goes to approval whatever the assessment and checklist
        (the playbook's holding point at the current severity), or None when the plan sets none."""
        point = self.playbook.holding_point(self.severity)
        return None if point is None else self.state.declared_at + point

    def statements_open(self) -> bool:
        """Statements are drafted and decided: in the communicate phase, and from the holding point on."""
        if self.phase is Phase.COMMUNICATE:
            return True
        return self.state.holding_started_at is not None and self.phase not in (Phase.REVIEW, Phase.CLOSED)

    def statement(self, version: int) -> StatementVersion | None:
        return next((s for s in self.state.statements if s.version == version), None)

    def in_flight(self) -> StatementVersion | None:
        """The statement version still on its way to the public, if any."""
        latest = self.state.statements[-1] if self.state.statements else None
        if latest and latest.status in (
            StatementStatus.PENDING_APPROVAL,
            StatementStatus.APPROVED,
            StatementStatus.REJECTED,
        ):
            return latest
        return None

    def published(self) -> list[StatementVersion]:
        return [s for s in self.state.statements if s.status is StatementStatus.PUBLISHED]

    def threads(self) -> dict[str, str]:
        """Each target's post of the first statement it took: later statements reply to it (the
        status page updates that incident)."""
        threads = dict(self.state.earlier.threads)
        for statement in self.published():
            for receipt in statement.receipts:
                if receipt.error is None and receipt.provider_id and receipt.channel not in threads:
                    threads[receipt.channel] = receipt.provider_id
        return threads

    def publication_context(self) -> dict[str, Any]:
        """What the publishing targets need besides the text: the threads to answer, the severity
        and the status page's public name and components (from the playbook, never the internal title)."""
        status_page = self.playbook.communicate.status_page
        return {
            "threads": self.threads(),
            "severity": self.severity.value,
            "status_page_name": status_page.name or STATUS_PAGE_NAMES.get(self.playbook.scenario, STATUS_PAGE_NAME),
            "components": list(status_page.components),
        }

    def approved_unpublished(self) -> StatementVersion | None:
        current = self.in_flight()
        return current if current and current.status is StatementStatus.APPROVED else None

    def resolution_statement_due(self) -> bool:
        """After resolution the public hears the end of a story it was told the start of."""
        if not self.resolved or not self.published():
            return False
        return not any(
            s.kind is StatementKind.RESOLUTION for s in self.state.statements if s.status is not StatementStatus.WITHDRAWN
        )

    def communication_finished(self) -> bool:
        if not self.resolved:
            return False
        if not self.published():
            return True
        return any(s.kind is StatementKind.RESOLUTION and s.status is StatementStatus.PUBLISHED for s in self.state.statements)

    def next_statement_kind(self) -> StatementKind:
        if self.resolved:
            return StatementKind.RESOLUTION
        return StatementKind.UPDATE if self.published() else StatementKind.HOLDING

    def update_due(self, now: datetime, lead: timedelta = timedelta(0)) -> bool:
        """Time to draft the next update: ``lead`` (the approvers' window) before it is due, so that
        it can be public by the time the last statement promised."""
        due = self.state.next_update_due
        return due is not None and now >= due - lead and self.in_flight() is None and not self.resolved

    def check_statement_draft(self, action: StatementDraft) -> None:
        limit = self.playbook.communicate.max_length
        if limit is not None and len(action.text) > limit:
            raise Rejected(f"text: {len(action.text)} characters; this playbook's channels take at most {limit}", "invalid")
        if self.public_voice and (over := variant_problems(self.draft_variants(action))):
            hint = "; give a shorter text, a `short` form for the short channels, or a `title`"
            raise Rejected(f"variants: {'; '.join(over)}{hint}", "invalid")
        if not self.statements_open():
            self._require_phase("draft a statement", Phase.COMMUNICATE)
        self._require_role(action.person, [self.playbook.communicate.author, self.commander_role], "draft statements")
        current = self.in_flight()
        if current and current.status is StatementStatus.APPROVED:
            raise Rejected(f"version {current.version} is approved and being published; draft again after it is out")
        if self.communication_finished():
            said = "its resolution statement is published" if self.published() else "nothing more is due to the public"
            raise Rejected(f"the incident is resolved and {said}")

    def check_decision(self, version: int, action: StatementDecision) -> None:
        self._require_open()
        statement = self.statement(version)
        if statement is None:
            raise Rejected(f"version: there is no statement version {version}", "invalid")
        approvers = self.playbook.communicate.approvers
        self._require_role(action.person, approvers, "decide on statements")
        self._check_undecided(statement, action.person, f"statement version {version}", f"version {version}")
        if action.decision is Verdict.APPROVE and (over := variant_problems(statement.variants)):
            raise Rejected(
                f"version {version} cannot be approved as it is ({'; '.join(over)}): request changes instead", "invalid"
            )

    def open_statements_early(self, now: datetime) -> None:
        """The holding point passed before the assessment and checklist were done: the holding
        statement goes to approval now, so the first statement can still be public on time."""
        self.state.holding_started_at = now
        due = self.state.deadlines["first_statement"].due_at
        waiting = {Phase.IDENTIFY: "the commander's acknowledgement", Phase.ASSESS: "the assessment"}.get(
            self.phase, "the checklist"
        )
        self._event(
            now,
            EventKind.HOLDING_ON_TIME,
            None,
            f"Holding point reached: the holding statement goes to approval without waiting for {waiting}, "
            f"so that it can be public by {due:%H:%M} UTC",
            due_at=due.isoformat(),
        )

    def add_statement(
        self,
        kind: StatementKind,
        text: str,
        author: str,
        now: datetime,
        via: str | None = None,
        promise: datetime | None = None,
        variants: list[Variant] | None = None,
    ) -> StatementVersion:
        """A new statement version. With ``variants`` (the public voice), ``text`` is the long form
        and the version records the fact sheet it was drafted from, what changed in the sheet since
        the last published statement, and whether it repeats that statement."""
        current = self.in_flight()
        if current is not None and current.status is StatementStatus.PENDING_APPROVAL:
            current.status = StatementStatus.SUPERSEDED
        number = self.statement_count + 1
        previous = self.state.statements[-1] if self.state.statements else None
        variants = variants or []
        statement = StatementVersion(
            version=number, kind=kind, text=text, author=author, created_at=now, promise=promise, variants=variants
        )
        if previous:
            statement.diff = text_diff(self._diffable(previous), self._diffable(statement), f"v{previous.version}", f"v{number}")
        if variants:
            statement.fact_sheet_version = len(self.state.fact_sheet_versions)
            statement.changed = self.changed_since_published()
            statement.repeats, statement.repeats_why = self._repeats(statement)
        self.state.statements.append(statement)
        self._event(
            now,
            EventKind.STATEMENT_DRAFTED,
            author,
            f"Statement v{statement.version} ({kind.value}) drafted by {author}",
            version=statement.version,
            statement_kind=kind.value,
            via=via,
        )
        if over := variant_problems(variants):
            self._event(
                now,
                EventKind.STATEMENT_OVER_LIMIT,
                None,
                f"Statement v{number} cannot be approved as it is: {'; '.join(over)}",
                version=number,
                problems=over,
            )
        if statement.repeats is not None:
            self._event(
                now,
                EventKind.STATEMENT_REPEATS,
                None,
                f"Statement v{number} says nothing new since v{statement.repeats}: {statement.repeats_why}",
                version=number,
                repeats=statement.repeats,
            )
        return statement

    @staticmethod
    def _diffable(statement: StatementVersion) -> str:
        return describe(statement.variants) if statement.variants else statement.text

    def last_published(self) -> StatementVersion | None:
        published = self.published()
        return published[-1] if published else None

    def changed_since_published(self) -> list[str]:
        """The fact sheet's fields changed since the last published statement was drafted (every
        field with a value when nothing was published yet)."""
        last = self.last_published()
        before = self.fact_sheet_at(last.fact_sheet_version) if last else FactSheet()
        return before.changed_fields(self.state.fact_sheet)

    def _repeats(self, statement: StatementVersion) -> tuple[int | None, str | None]:
        """The last published version and why, when ``statement`` says nothing it did not: the same
        variants, or (drafted from the template) a fact sheet unchanged since."""
        last = self.last_published()
        if last is None or statement.kind is StatementKind.RESOLUTION:
            return None, None
        if [(v.channel, v.title, v.text) for v in statement.variants] == [(v.channel, v.title, v.text) for v in last.variants]:
            return last.version, "the same text on every channel"
        if statement.author == SYSTEM_AUTHOR and not statement.changed:
            return last.version, f"the public fact sheet has not changed since v{last.version}; edit it to say what is new"
        return None, None

    def draft_variants(self, action: StatementDraft) -> list[Variant]:
        """A person's draft as channel variants: ``text`` is the long form, ``short`` the short one
        (the long one when not given), ``title`` the status page's and the email's title (else the
        last statement's, else the fact sheet's headline, else the text's first line)."""
        last_title = next((v.title for s in reversed(self.state.statements) for v in s.variants if v.title), None)
        forms = {
            VariantForm.LONG: action.text,
            VariantForm.SHORT: action.short or action.text,
            VariantForm.TITLE: action.title
            or last_title
            or self.state.fact_sheet.headline
            or action.text.strip().splitlines()[0],
        }
        return build_variants(forms, self.playbook.communicate.channels)

    def draft_statement(self, action: StatementDraft, now: datetime) -> StatementVersion:
        current = self.in_flight()
        kind = current.kind if current else self.next_statement_kind()
        # A revision keeps the promise of the version it revises: its text was drafted around it.
        promise = current.promise if current else None
        variants = self.draft_variants(action) if self.public_voice else None
        return self.add_statement(kind, action.text, action.person, now, via=action.via, promise=promise, variants=variants)

    def decide(self, version: int, action: StatementDecision, now: datetime) -> None:
        statement = self.statement(version)
        if self._record_decision(statement, action, now, "statement", f"v{version}", f"v{version}", version=version):
            statement.status = StatementStatus.APPROVED
            statement.sha256 = set_sha256(statement.variants) if statement.variants else text_sha256(statement.text)
            self._event(
                now,
                EventKind.STATEMENT_APPROVED,
                None,
                f"Statement v{version} approved by {self.approval_rule()}",
                version=version,
                sha256=statement.sha256,
            )

    def add_fallback(
        self, text: str, now: datetime, promise: datetime | None = None, variants: list[Variant] | None = None
    ) -> StatementVersion:
        """The playbook's pre-approved holding statement, approved by the playbook itself: rendered
        from an empty fact sheet, so it says only what the playbook's reviewers approved."""
        current = self.in_flight()
        if current is not None and current.status is StatementStatus.PENDING_APPROVAL:
            current.status = StatementStatus.SUPERSEDED
        statement = self.add_statement(StatementKind.HOLDING, text, "fallback", now, promise=promise, variants=variants)
        statement.fallback = True
        statement.status = StatementStatus.APPROVED
        statement.sha256 = set_sha256(statement.variants) if statement.variants else text_sha256(text)
        self._event(
            now,
            EventKind.FALLBACK_STATEMENT,
            None,
            f"No statement approved in time: publishing the pre-approved fallback holding statement (v{statement.version})",
            version=statement.version,
        )
        return statement

    def record_draft_failed(self, what: str, reason: str, instead: str, now: datetime) -> None:
        """The playbook's template could not render ``what`` (a template or fact-sheet error: drafting
        it again the same way fails the same way); ``instead`` says what happens now."""
        self._event(
            now,
            EventKind.DRAFT_FAILED,
            None,
            f"Could not draft {what} from the playbook's template ({reason}); {instead}",
            what=what,
            reason=reason,
        )

    def mark_published(self, version: int, now: datetime, receipts: list[Receipt] | None = None) -> None:
        statement = self.statement(version)
        statement.status = StatementStatus.PUBLISHED
        statement.published_at = now
        statement.receipts = list(receipts or [])
        wrong = [r.channel for r in statement.receipts if r.error is None and r.sha256 != self._expected_sha256(statement, r)]
        for failed in (r for r in statement.receipts if r.error):
            self._event(
                now,
                EventKind.PUBLICATION_FAILED,
                None,
                f"Statement v{version} did not reach {failed.channel}: {failed.error}",
                version=version,
                target=failed.channel,
            )
        if wrong:
            statement.mismatch = True
            self._event(
                now,
                EventKind.PUBLICATION_MISMATCH,
                None,
                f"Statement v{version}: {', '.join(wrong)} received text that differs from the approved version",
                version=version,
                channels=wrong,
            )
        self._meet("first_statement", now)
        if self._update_number():
            self._meet(f"update.{self._update_number()}", now)
        if statement.kind is StatementKind.RESOLUTION or self.resolved:
            self.state.next_update_due = None
        else:
            # The public was promised a time: the next update is due then, however long approval took.
            self.state.next_update_due = statement.promise or now + self.playbook.communicate.update_every.at(self.severity)
            label = (
                f"next public update (promised for {statement.promise:%H:%M} UTC)" if statement.promise else "next public update"
            )
            self._deadline(f"update.{self._update_number() + 1}", label, self.state.next_update_due)
        fallback = " as the fallback" if statement.fallback else ""
        self._event(
            now,
            EventKind.STATEMENT_PUBLISHED,
            None,
            f"Statement v{version} ({statement.kind.value}) published{fallback}",
            version=version,
            statement_kind=statement.kind.value,
            fallback=statement.fallback,
        )

    def record_reply_surge(self, signal_id: str, version: int, summary: str, now: datetime) -> bool:
        """A surge of negative replies to statement ``version`` (a signal tied to this incident),
        on the timeline once; False when it is there already."""
        recorded = signal_id in self.state.earlier.reply_surges  # on the part of the timeline earlier runs dropped
        if recorded or any(
            event.kind == "reply_surge" and event.data.get("signal") == signal_id for event in self.state.timeline
        ):
            return False
        self._event(now, EventKind.REPLY_SURGE, None, f"Surge of negative replies: {summary}", signal=signal_id, version=version)
        return True

    @staticmethod
    def _expected_sha256(statement: StatementVersion, receipt: Receipt) -> str | None:
        """What a target must have sent: its channel's approved variant, or the approved text."""
        if statement.variants and receipt.variant:
            approved = find(statement.variants, receipt.variant)
            return variant_sha256(approved) if approved else None
        return statement.sha256

    def _update_number(self) -> int:
        return sum(1 for name in self.state.deadlines if name.startswith("update."))

    def withdraw_in_flight(self, now: datetime) -> None:
        """Drop a holding or update statement that is still in approval when the incident is resolved."""
        current = self.in_flight()
        if (
            current is not None
            and current.status is not StatementStatus.APPROVED
            and current.kind is not StatementKind.RESOLUTION
        ):
            current.status = StatementStatus.WITHDRAWN
            self._event(
                now,
                EventKind.STATEMENT_WITHDRAWN,
                None,
                f"Statement v{current.version} withdrawn: the incident was resolved before it was published",
                version=current.version,
            )

    def _set_first_statement_deadline(self) -> None:
        existing = self.state.deadlines.get("first_statement")
        if existing and existing.met_at:
            return
        due = self.state.declared_at + self.playbook.communicate.first_statement_within.at(self.state.severity)
        self._deadline("first_statement", "first public statement", due)
