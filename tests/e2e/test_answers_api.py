"""The answers kit over HTTP on the dev stack: propose, decide by API and by the emailed link,
and bad input answered 404/409/422 with the field named, never 500."""

import asyncio
import html
from urllib.parse import urlparse

import httpx
import pytest

pytestmark = pytest.mark.e2e

EWA, ANNA, MARIA, PIOTR, KASIA = "ewa.lewandowska", "anna.kowalska", "maria.nowak", "piotr.zielinski", "katarzyna.wisniewska"
GIVEAWAY = "is_giveaway_real"
TEXT = "No. The giveaway is a scam posted from our hijacked account; please don't click its links."


async def _answer_link(client: httpx.AsyncClient, incident_id: str, person: str, version: int) -> str:
    for _ in range(100):
        mails = [
            m
            for m in (await client.get("/outbox", params={"incident": incident_id})).json()
            if m["kind"] == "answer_approval" and m["person_id"] == person and f"v{version}" in m["subject"]
        ]
        if mails:
            return urlparse(next(link["url"] for link in mails[0]["links"] if "/a/" in link["url"])).path
        await asyncio.sleep(0.1)
    raise AssertionError(f"no answer approval email for {person}")


async def test_propose_and_approve_by_link_and_api_with_clear_refusals(stack):
    async with stack.async_client() as client:
        incident = (
            await client.post(
                "/incidents", json={"playbook": "account_compromise", "title": "Answers test", "summary": "A fake giveaway."}
            )
        ).json()
        answers = f"/incidents/{incident['id']}/answers"

        assert (await client.post("/incidents/inc-nope/answers/x", json={"person": ANNA, "text": "x"})).status_code == 404
        too_early = await client.post(f"{answers}/{GIVEAWAY}", json={"person": ANNA, "text": TEXT})
        assert too_early.status_code == 409 and "identify phase" in too_early.json()["detail"]
        await client.post(f"/incidents/{incident['id']}/acknowledge", json={"person": EWA})

        bad_id = await client.post(f"{answers}/Bad-Id", json={"person": ANNA, "text": TEXT})
        assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["loc"] == ["path", "answer_id"]
        no_text = await client.post(f"{answers}/{GIVEAWAY}", json={"person": ANNA})
        assert no_text.status_code == 422 and no_text.json()["detail"][0]["loc"] == ["body", "text"]
        for body, detail in [
            ({"person": ANNA, "text": "x" * 1001}, "text: 1001 characters; an answer in the kit takes at most 1000"),
            ({"person": MARIA, "text": TEXT}, f"person: '{MARIA}' cannot propose answers"),
            ({"person": "nobody", "text": TEXT}, "person: 'nobody' is not in the team roster"),
        ]:
            refused = await client.post(f"{answers}/{GIVEAWAY}", json=body)
            assert refused.status_code == 422 and refused.json()["detail"].startswith(detail)
        unknown = await client.post(f"{answers}/stores_open", json={"person": ANNA, "text": "Yes."})
        assert unknown.status_code == 422 and "give a question to add it" in unknown.json()["detail"]

        proposed = await client.post(f"{answers}/{GIVEAWAY}", json={"person": ANNA, "text": TEXT})
        assert proposed.status_code == 200 and proposed.json()["changes"] == [f"Answer '{GIVEAWAY}' v2 proposed by {ANNA}"]
        assert {(p["role"], p["version"]) for p in proposed.json()["pending"] if p["kind"] == "answer_approval"} == {
            ("security_lead", 2),
            ("legal", 2),
        }
        decision = f"{answers}/{GIVEAWAY}/versions"
        for version, person, status, detail in [
            (9, PIOTR, 422, f"version: answer '{GIVEAWAY}' has no version 9"),
            (1, PIOTR, 409, "the playbook's pre-approved answer"),
            (2, ANNA, 422, f"person: '{ANNA}' cannot decide on answers"),
        ]:
            refused = await client.post(f"{decision}/{version}/decision", json={"person": person, "decision": "approve"})
            assert refused.status_code == status and detail in refused.json()["detail"]
        assert (await client.post(f"{decision}/0/decision", json={"person": PIOTR, "decision": "approve"})).status_code == 422

        link = await _answer_link(client, incident["id"], PIOTR, 2)
        shown = await client.get(link)  # a mail scanner's GET changes nothing
        assert shown.status_code == 200 and TEXT in html.unescape(shown.text) and "+No. The giveaway is a scam" in shown.text
        assert (await client.get(answers)).json()[0]["proposal"]["decisions"] == []
        done = await client.post(link, data={"decision": "approve"})
        assert done.status_code == 200 and f"Answer '{GIVEAWAY}' v2 approved by {PIOTR} (security_lead)" in html.unescape(
            done.text
        )
        assert (await client.post(link, data={"decision": "approve"})).status_code == 410

        approved = await client.post(f"{decision}/2/decision", json={"person": KASIA, "decision": "approve"})
        assert approved.status_code == 200 and approved.json()["changes"][-1].endswith(
            "it replaces the playbook's v1 for this incident"
        )
        again = await client.post(f"{decision}/2/decision", json={"person": KASIA, "decision": "approve"})
        assert again.status_code == 409 and "approved; nothing to decide" in again.json()["detail"]
        kit = (await client.get(answers)).json()
        assert (kit[0]["id"], kit[0]["text"], kit[0]["source"], kit[0]["approved_by"]) == (
            GIVEAWAY,
            TEXT,
            "incident",
            [PIOTR, KASIA],
        )
        late_link = await _answer_link(client, incident["id"], KASIA, 2)
        stale = await client.get(late_link)
        assert stale.status_code == 410 and "is approved; nothing to decide" in html.unescape(stale.text)
        assert (await client.get("/incidents/inc-nope/answers")).status_code == 404
