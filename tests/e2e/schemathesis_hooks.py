"""Schemathesis hooks (loaded through ``SCHEMATHESIS_HOOKS``) for tests/e2e/test_generated_requests.py:
besides the bodies the API's description asks for, send each operation bodies with a control
character (a NUL, CR LF, an escape sequence, a line separator) in one of their strings, and bodies
with a value nested 200 levels deep (issue 16: no input poisons the pipeline).

Each variant drawn is counted in the file ``CRISIS_HOOK_COUNTS`` names, so the test can tell that
they were sent."""

import json
import os

import schemathesis
from hypothesis import strategies as st

CONTROLS = ["\x00", "\r\nBcc: everyone@example.com", "\x1b[2J", "\u2028", "\x7f", "\x07"]
DEPTH = 200  # far past the API's 32 levels, and within what the sending side can serialize


def _count(kind: str, body):
    path = os.environ.get("CRISIS_HOOK_COUNTS")
    if path:
        with open(path, "a", encoding="utf-8") as counts:
            counts.write(kind + "\n")
    return body


def _with_control(body: dict, key: str, character: str) -> dict:
    return {**body, key: f"{body[key][:20]}{character}{body[key][20:]}"}


def _deep() -> object:
    return json.loads("[" * DEPTH + "]" * DEPTH)


@schemathesis.hook
def flatmap_body(ctx, body):
    if not isinstance(body, dict) or not body:
        return st.just(body)
    strings = [key for key, value in body.items() if isinstance(value, str)]
    variants = [st.just(body)] * 2
    if strings:
        variants.append(
            st.builds(_with_control, st.just(body), st.sampled_from(strings), st.sampled_from(CONTROLS)).map(
                lambda b: _count("control", b)
            )
        )
    variants.append(st.builds(lambda key: {**body, key: _deep()}, st.sampled_from(sorted(body))).map(lambda b: _count("deep", b)))
    return st.one_of(variants)
