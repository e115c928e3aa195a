"""Open incidents of one playbook share the parts of the plan pinned at their declaration.

Every workflow run decodes its own plan from its history, so a thousand open incidents of one
playbook hold a thousand equal copies of its playbook, org chart, answers kit and templates (about
85 KiB an incident, bench/findings.md). Those parts are frozen models and strings: a run may as
well use an equal copy another run holds, and :func:`share_pinned` swaps each for the first equal
one still in use anywhere in the worker. Equal means the same JSON, which is the form the plan
reached the run in, so nothing a run does can tell the copies apart, on any worker or replay.
"""

import sys
import weakref
from typing import TypeVar

from pydantic import BaseModel

from domain.incident.state import IncidentPlan

Frozen = TypeVar("Frozen", bound=BaseModel)

# A part is kept here only while some run still holds it; several workflow tasks may ask at once
# (setdefault keeps whichever equal copy got there first).
_in_use: weakref.WeakValueDictionary[tuple[type, str], BaseModel] = weakref.WeakValueDictionary()


def shared(part: Frozen) -> Frozen:
    """An equal copy of a frozen model already in use in this process, or ``part`` itself."""
    if not part.model_config.get("frozen"):
        raise TypeError(f"{type(part).__name__} is not frozen: a run could change what other runs share")
    return _in_use.setdefault((type(part), part.model_dump_json()), part)


def share_pinned(plan: IncidentPlan) -> None:
    """Swap the plan's pinned playbook, org chart, answers kit and templates for equal shared copies
    (in place: the SDK passes the same plan to the workflow's ``__init__`` and ``run``)."""
    plan.playbook = shared(plan.playbook)
    plan.org = shared(plan.org)
    plan.template = sys.intern(plan.template)
    if plan.answers:
        plan.answers = [shared(answer) for answer in plan.answers]
    if plan.internal_templates:
        plan.internal_templates = {audience: sys.intern(source) for audience, source in plan.internal_templates.items()}
