"""Idempotency-Key on POST /incidents (issue 16, item 3), through the real app and a real worker on
the time-skipping server: the same key and body give the same incident, a different body is
refused naming what differs, and a key belongs to the API key that sent it."""

from services.temporal import incident_id

DRILL = {
    "playbook": "technical_outage",
    "title": "Quarterly drill",
    "summary": "Practice run.",
    "severity": "SEV4",
    "drill": True,
}
BREACH = {
    "playbook": "account_compromise",
    "title": "Brand account hijacked",
    "summary": "Scam links posted.",
    "severity": "SEV1",
}


async def test_a_reused_key_with_another_body_is_refused_naming_what_differs(api):
    key = {"Idempotency-Key": "drill-2026-q4"}
    first = await api.post("/incidents", json=DRILL, headers=key)
    assert first.status_code == 201, first.text
    again = await api.post("/incidents", json={**DRILL, "title": "  Quarterly drill "}, headers=key)  # the same declaration
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    breach = await api.post("/incidents", json=BREACH, headers=key)
    assert breach.status_code == 422, breach.text
    detail = breach.json()["detail"]
    assert detail.startswith("Idempotency-Key:") and first.json()["id"] in detail
    assert "(drill, playbook, severity, summary, title differ)" in detail
    state = (await api.get(f"/incidents/{first.json()['id']}")).json()
    assert state["severity"] == "SEV4" and state["drill"] is True  # the drill is untouched, and nothing else was declared

    declared = await api.post("/incidents", json=BREACH, headers={"Idempotency-Key": "breach-1"})
    assert declared.status_code == 201 and declared.json()["severity"] == "SEV1"


async def test_keys_belong_to_the_api_key_that_used_them(api):
    made = (await api.post("/apikeys", json={"name": "status-monitor", "scopes": ["declare"]})).json()
    monitor = {"Authorization": f"Bearer {made['key']}"}
    key = {"Idempotency-Key": "checkout-down"}
    ours = await api.post("/incidents", json=DRILL, headers=key)
    theirs = await api.post("/incidents", json=BREACH, headers={**key, **monitor})
    assert ours.status_code == 201 and theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != ours.json()["id"] and theirs.json()["severity"] == "SEV1"
    assert (await api.post("/incidents", json=BREACH, headers={**key, **monitor})).json()["id"] == theirs.json()["id"]
    # a caller cannot reach the incident a listening signal declared (its key is signal:<id>)
    signal_key = {"Idempotency-Key": "signal:sig-brand-1"}
    assert (await api.post("/incidents", json=DRILL, headers=signal_key)).json()["id"] != incident_id("signal:sig-brand-1")
