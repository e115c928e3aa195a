"""The workflow answers an action with the parts of the view its caller lacks, keeping between
answers the digests of the parts that stay as written (``domain/view_delta.py``, ``model_delta``):
every answer of a SEV1 outage, driven by the crisis team of ``tests/long_incident.py`` through
hours of update cycles on the real API and worker, is the one the whole view's delta gives, byte
for byte."""

from datetime import timedelta

import pytest_asyncio

from domain import view_delta
from tests.app_stack import open_stack
from tests.long_incident import Team


@pytest_asyncio.fixture(loop_scope="session")
async def stack(time_skipping_env, tmp_path):
    async with open_stack(time_skipping_env, tmp_path) as opened:
        yield opened


async def test_every_answer_of_a_sev1_outage_is_the_whole_views_delta_byte_for_byte(stack, monkeypatch):
    answers: list[tuple[int, bool, bool]] = []  # the timeline's length, the same answer, parts held
    kept = view_delta.model_delta

    def compared(view, known, written, limit=view_delta.MAX_SENT_BYTES):
        expected = view_delta.delta(view.model_dump(mode="json"), known, limit)
        held = bool(written.chunks(view.timeline) or written.variants(view.statements))
        answer = kept(view, known, written, limit)
        answers.append(
            (len(view.timeline), (answer and answer.model_dump_json()) == (expected and expected.model_dump_json()), held)
        )
        return answer

    monkeypatch.setattr(view_delta, "model_delta", compared)  # the workflow's module, passed through the sandbox
    team = await Team.declare(stack)
    start = await stack.env.get_current_time()
    await team.run_until(start + timedelta(hours=3))

    assert len(answers) > 10 and all(same for _, same, _ in answers)
    assert max(length for length, _, _ in answers) > 4 * view_delta.TIMELINE_CHUNK
    # Every answer after one that saw a full chunk of the timeline used a digest kept since.
    after_a_full_chunk = [
        held for (before, _, _), (_, _, held) in zip(answers, answers[1:]) if before >= view_delta.TIMELINE_CHUNK
    ]
    assert after_a_full_chunk and all(after_a_full_chunk)
