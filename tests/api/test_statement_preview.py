"""The statement editor's preview (#18 item 1) through the real app and a real worker on the
time-skipping server: POST /incidents/{id}/statements/preview answers every channel's variant with
its count and limit from the pinned playbook; the incident page's editor shows the same counts beside
each field, as a fragment for its script and as the whole page for the Preview button (no script);
a draft refused over a limit shows the refusal beside the field it comes from."""

import asyncio

import httpx

from api.auth import SESSION_COOKIE
from domain.variants import CHANNELS
from tests.conftest import TEST_API_KEY

BASE = "http://test"
OUTAGE = {
    "playbook": "technical_outage",
    "title": "Checkout down",
    "summary": "500s on checkout.",
    "severity": "SEV3",
    "drill": True,
}
EWA = "ewa.lewandowska"  # incident commander and comms lead
LONG = (
    "Checkout is failing for some customers and we are working on a fix. " * 6
)  # 407 characters once stripped: too long for X and Bluesky


def browser(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same app as a signed-in browser on our own page (the session cookie and our Origin)."""
    return httpx.AsyncClient(
        transport=api._transport,
        base_url=BASE,
        timeout=60,
        cookies={SESSION_COOKIE: TEST_API_KEY},
        headers={"Accept": "text/html", "Origin": BASE},
    )


async def drafting(api) -> str:
    """An incident where statements are drafted (acknowledged, assessed, the tasks before the first
    statement done): the statement editor is on its page."""
    declared = await api.post("/incidents", json=OUTAGE)
    assert declared.status_code == 201, declared.text
    incident = declared.json()["id"]
    assert (await api.post(f"/incidents/{incident}/acknowledge", json={"person": EWA})).status_code == 200
    assessed = await api.post(f"/incidents/{incident}/assessment", json={"person": EWA, "impact": "low", "reach": "low"})
    assert assessed.status_code == 200, assessed.text
    for _ in range(200):
        state = (await api.get(f"/incidents/{incident}")).json()
        if state["phase"] == "communicate" or state.get("holding_started_at"):
            return incident
        task = next((item for item in state["pending"] if item["kind"] == "task"), None)
        if task:
            done = await api.post(f"/incidents/{incident}/tasks/{task['task_id']}/complete", json={"person": EWA, "note": "done"})
            assert done.status_code == 200, done.text
        else:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{incident} never took statements: {state['phase']}, {state['pending']}")


async def test_the_preview_answers_every_channel_with_its_count_and_limit_and_what_is_over(api):
    incident = (await api.post("/incidents", json=OUTAGE)).json()["id"]
    fits = await api.post(
        f"/incidents/{incident}/statements/preview", json={"text": "We are fixing checkout. 👍🏽", "title": "Checkout outage"}
    )
    assert fits.status_code == 200, fits.text
    body = fits.json()
    variants = {item["channel"]: item for item in body["variants"]}
    assert list(variants) == [channel.value for channel in CHANNELS] and body["problems"] == []
    assert (variants["x"]["length"], variants["x"]["limit"], variants["x"]["unit"], variants["x"]["field"]) == (
        26,
        280,
        "weighted characters",
        "text",
    )
    assert (variants["bluesky"]["length"], variants["sms"]["length"], variants["sms"]["unit"]) == (25, 1, "segments")
    assert (variants["email"]["title"], variants["email"]["title_limit"]) == ("Checkout outage", 120)

    over = (await api.post(f"/incidents/{incident}/statements/preview", json={"text": LONG, "title": "Checkout outage"})).json()
    flagged = {item["channel"]: item["problems"] for item in over["variants"] if item["problems"]}
    assert flagged == {
        "x": ["x: 407 weighted characters, over the limit of 280"],
        "bluesky": ["bluesky: 407 graphemes, over the limit of 300"],
    }
    assert over["problems"] == flagged["x"] + flagged["bluesky"]
    untitled = (
        await api.post(f"/incidents/{incident}/statements/preview", json={"text": LONG})
    ).json()  # the title falls back to the first line
    assert "email: title of 407 characters, over the limit of 120" in untitled["problems"]
    short = (
        await api.post(
            f"/incidents/{incident}/statements/preview",
            json={"text": LONG, "short": "Checkout is failing; a fix is coming.", "title": "Checkout outage"},
        )
    ).json()
    assert short["problems"] == [] and {item["channel"]: item["field"] for item in short["variants"]}["x"] == "short"


async def test_the_preview_refuses_a_bad_body_and_an_unknown_incident_in_words(api):
    incident = (await api.post("/incidents", json=OUTAGE)).json()["id"]
    empty = await api.post(f"/incidents/{incident}/statements/preview", json={"text": "  "})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "text"]
    missing = await api.post("/incidents/inc-nope/statements/preview", json={"text": "Hello"})
    assert missing.status_code == 404 and missing.json()["detail"] == "incident 'inc-nope' does not exist"


async def test_the_editor_shows_each_channels_count_beside_its_field_with_script_and_without(api):
    incident = await drafting(api)
    async with browser(api) as page:
        shown = await page.get(f"/incidents/{incident}/view")
        assert 'id="statement-short-counts"' in shown.text and 'data-preview-url="/incidents/' in shown.text
        assert "Every channel fits" in shown.text  # the draft in progress, counted
        polled = await page.get(f"/incidents/{incident}/view", headers={"X-Crisis-Live": "1"})  # the page's own refresh
        assert "Every channel fits" not in polled.text and "Type the statement to see" in polled.text  # its script asks apart

        typed = {"form_key": "statement", "person": EWA, "text": LONG, "short": "", "title": "Checkout outage"}
        parts = await page.post(f"/incidents/{incident}/view/preview", data=typed, headers={"X-Crisis-Preview": "1"})
        assert parts.status_code == 200 and "<html" not in parts.text  # the parts alone, for the script to swap in
        assert "<strong>Over the limit:</strong> X 407 / 280 weighted characters (127 too many)" in parts.text
        assert "Bluesky 407 / 300 graphemes (107 too many)" in parts.text and "LinkedIn 407 / 3,000 characters" in parts.text
        assert "Empty: X, Bluesky, Mastodon, Threads, SMS take the long form, counted above." in parts.text
        assert "status page and email 15 / 120 characters" in parts.text

        whole = await page.post(
            f"/incidents/{incident}/view/preview", data={**typed, "short": "A fix is coming."}
        )  # the Preview button, no script
        assert whole.status_code == 200 and whole.text.count("<h1") == 1
        assert ">A fix is coming.</textarea>" in whole.text  # the draft as typed
        assert "X 16 / 280 weighted characters" in whole.text and "Every channel fits (9 channels)." in whole.text
        assert "A fix is coming." not in str(
            (await api.get(f"/incidents/{incident}")).json()["statements"]
        )  # a preview sends nothing


async def test_a_draft_over_a_limit_is_refused_beside_the_field_it_comes_from(api):
    incident = await drafting(api)
    async with browser(api) as page:
        typed = {"form_key": "statement", "person": EWA, "text": "Checkout is back.", "short": "Checkout! " * 40, "title": ""}
        refused = await page.post(f"/incidents/{incident}/view/statement", data=typed)
        assert refused.status_code == 422
        assert (
            'id="statement-short-error"' in refused.text and "x: 399 weighted characters, over the limit of 280" in refused.text
        )
        assert 'aria-invalid="true" aria-describedby="statement-short-error statement-short-counts"' in refused.text
        assert ">" + typed["short"] + "</textarea>" in refused.text  # kept as typed

        # A browser sends a textarea's line breaks as CR LF: the statement keeps them as typed, one character each.
        taken = await page.post(
            f"/incidents/{incident}/view/statement",
            data={**typed, "text": "Checkout is back.\r\n\r\nThank you.", "short": "Checkout is back."},
        )
        assert taken.status_code == 303
        statement = (await api.get(f"/incidents/{incident}")).json()["statements"][-1]
        assert {v["channel"]: v["text"] for v in statement["variants"]}["x"] == "Checkout is back."
        assert statement["text"] == "Checkout is back.\n\nThank you."
