"""The answers kit of one incident: the playbook's kit pinned at declaration, in the incident's
language, like the statement template. Per-incident changes then go through the statement
approval flow (:meth:`domain.incident.Incident.propose_answer`); none of it is ever published."""

import re

from pydantic import BaseModel, ConfigDict

from domain.risks import AnswerKit, Release

ANSWER_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# A reply people paste into a social post or a care ticket; a playbook's communicate.max_length, when lower, wins.
ANSWER_MAX_LENGTH = 1000


class PinnedAnswer(BaseModel):
    """One answer of the kit as the incident started with it: version 1, pre-approved by the playbook."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    text: str
    released_by: Release | None = None


def pin_answers(kit: AnswerKit | None, language: str) -> list[PinnedAnswer]:
    """The kit in one language, in its order; empty when the playbook has no kit in that language."""
    if kit is None or language not in kit.languages:
        return []
    return [
        PinnedAnswer(id=a.id, question=a.question[language], text=a.answer[language], released_by=a.released_by)
        for a in kit.answers
    ]
