"""The respond phase's checklist: tasks with owners and due times, their reminders and escalation,
and the obligations some tasks meet."""

from datetime import datetime

from domain.actions import TaskCompletion
from domain.events import EventKind
from domain.incident.state import Phase, Rejected, TaskState, TaskStatus
from domain.playbook import Obligation


class Tasks:
    def task(self, task_id: str) -> TaskState:
        return next(t for t in self.state.tasks if t.id == task_id)

    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.state.tasks if t.status is TaskStatus.OPEN]

    def ready_to_communicate(self) -> bool:
        """Every task the playbook wants done before the first statement is done."""
        before = {t.id for t in self.playbook.respond.tasks if t.before_statement}
        return not any(t.id in before for t in self.open_tasks())

    def check_complete_task(self, task_id: str, action: TaskCompletion) -> None:
        self._require_open()
        ids = [t.id for t in self.state.tasks] or [t.id for t in self.playbook.respond.tasks]
        if task_id not in ids:
            raise Rejected(f"task_id: unknown task '{task_id}' (this playbook has: {', '.join(ids)})", "invalid")
        self._require_phase("complete tasks", Phase.RESPOND, Phase.COMMUNICATE)
        task = self.task(task_id)
        if task.status is not TaskStatus.OPEN:
            raise Rejected(f"task '{task_id}' is already {task.status.value}")
        self._require_role(action.person, [task.owner, self.commander_role], f"complete '{task_id}'")

    def _open_tasks(self, now: datetime) -> None:
        for task in self.playbook.respond.tasks:
            due = now + task.due_after
            assignee = self.on_duty(task.owner)
            self.state.tasks.append(TaskState(id=task.id, title=task.title, owner=task.owner, assignee=assignee, due_at=due))
            self._deadline(f"task.{task.id}", task.title, due)
            self._event(
                now,
                EventKind.TASK_ASSIGNED,
                None,
                f"Task '{task.title}' assigned to {assignee} ({task.owner})",
                task_id=task.id,
                person=assignee,
            )

    def record_task_reminder(self, task_id: str, now: datetime) -> None:
        task = self.task(task_id)
        task.reminded = True
        self._event(
            now,
            EventKind.TASK_REMINDED,
            None,
            f"Task '{task.title}' is overdue; reminded {task.assignee}",
            task_id=task_id,
            person=task.assignee,
        )

    def escalate_task(self, task_id: str, now: datetime) -> bool:
        """Pass an overdue task to the next person in its owner role; False when there is none."""
        task = self.task(task_id)
        chain = self.members(task.owner)
        position = chain.index(task.assignee) if task.assignee in chain else -1
        if position + 1 >= len(chain):
            return False
        previous = task.assignee
        task.assignee = chain[position + 1]
        task.escalations += 1
        self._event(
            now,
            EventKind.TASK_ESCALATED,
            None,
            f"Task '{task.title}' passed from {previous} to {task.assignee}",
            task_id=task_id,
            person=task.assignee,
        )
        return True

    def complete_task(self, task_id: str, action: TaskCompletion, now: datetime) -> None:
        task = self.task(task_id)
        task.status = TaskStatus.DONE
        task.done_by = action.person
        task.done_at = now
        task.note = action.note
        self._meet(f"task.{task_id}", now)
        self._event(
            now,
            EventKind.TASK_COMPLETED,
            action.person,
            f"Task '{task.title}' done by {action.person}",
            task_id=task_id,
            note=action.note,
            via=action.via,
        )
        self._release_answers(task_id, now)
        for obligation in self.playbook.obligations:
            if obligation.met_by == task_id:
                self._meet(f"obligation.{obligation.id}", now)

    def cancel_open_tasks(self, now: datetime) -> None:
        for task in self.open_tasks():
            task.status = TaskStatus.CANCELLED
            self.state.deadlines[f"task.{task.id}"].waived = True
            self._event(
                now, EventKind.TASK_CANCELLED, None, f"Task '{task.title}' cancelled: the incident was resolved", task_id=task.id
            )
        for obligation in self.playbook.obligations:
            deadline = self.state.deadlines[f"obligation.{obligation.id}"]
            if deadline.met_at is None and not deadline.waived:
                # Resolution waits for an obligation's open task, so one unmet here never reached the
                # respond phase: the incident was closed as a false alarm before anything was established.
                deadline.waived = True
                self._event(
                    now,
                    EventKind.OBLIGATION_WAIVED,
                    None,
                    f"Deadline waived: {obligation.label} (resolved before the respond phase)",
                    deadline=deadline.name,
                )

    def obligations_open(self) -> list[Obligation]:
        """The playbook's obligations whose task is open: they outlive the public story."""
        open_ids = {t.id for t in self.open_tasks()}
        return [o for o in self.playbook.obligations if o.met_by in open_ids]
