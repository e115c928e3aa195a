"""The crisis room in a real headless Chromium against the real stack (#18): incidents declared from
the dashboard and driven to closed by clicking and typing only, at 1280 and at 390 px, every page
checked with axe-core; refusals beside their fields; live updates and the lost-connection notice.
Screenshots go to tests/artifacts/room/ (git-ignored)."""

import re

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright, expect

from tests.e2e.axe import page_facts, violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.stack import PROJECT, DevStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = PROJECT / "tests" / "artifacts" / "room"
PLAYBOOKS = ["technical_outage", "account_compromise", "controversial_post", "customer_backlash", "misinformation", "data_breach"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
WAIT_MS = 60_000  # auto-waiting's ceiling on a loaded machine, not a speed requirement


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """This module's own stack: a long Temporal RPC deadline, since the machine running a dozen
    incidents through Chromium is loaded and what is tested here is the pages, not latency."""
    dev = DevStack(tmp_path_factory.mktemp("crisis-room"), extra_env={"CRISIS_TEMPORAL_RPC_TIMEOUT": "30"})
    dev.start()
    yield dev
    dev.stop()


@pytest.fixture(scope="module")
async def chromium():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


async def signed_in_page(chromium, stack, viewport, timezone_id: str = "Europe/Warsaw"):
    """A page of a signed-in browser at ``viewport``; the CSP is bypassed only so that the test can
    inject axe-core (the pages' own script runs under the real policy in test_pages_in_browser)."""
    context = await chromium.new_context(viewport=viewport, bypass_csp=True, timezone_id=timezone_id, locale="en-GB")
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    await stack.sign_in(page)
    return page


class Checked:
    """Every distinct page the test visits is checked once per width: axe, one h1, no sideways scroll."""

    def __init__(self, width: int):
        self.width = width
        self.seen: set[str] = set()

    async def __call__(self, page, name: str) -> None:
        template = re.sub(r"inc-[0-9a-f]+", "inc", page.url.split("?")[0].split("#")[0])
        key = f"{template}:{name}"
        if key in self.seen:
            return
        self.seen.add(key)
        problems = await violations(page)
        assert problems == [], f"{name} at {self.width} px ({page.url}):\n" + "\n".join(problems)
        facts = await page_facts(page)
        assert facts["h1"] == 1, f"{name}: {facts['h1']} h1 elements"
        assert not facts["sideways"], f"{name} scrolls sideways at {self.width} px"
        assert facts["placeholders"] == 0, f"{name}: a placeholder instead of a label"


async def shoot(page, width: int, name: str, full_page: bool = True) -> None:
    folder = ARTIFACTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


async def declare(page, check, playbook: str, title: str, drill: bool = True) -> str:
    await page.goto("/".join(page.url.split("/")[:3]) + "/")
    await check(page, "dashboard")
    await page.get_by_label("Playbook").select_option(playbook)
    await page.get_by_label("Title (internal)").fill(title)
    await page.get_by_label("Summary (internal: what is known so far)").fill(f"Driven from the browser: {playbook}.")
    await page.get_by_label("Public headline (optional: what the public will read)").fill("We are looking into a problem")
    if drill:
        await page.get_by_label("This is a drill").check()
    await page.get_by_role("button", name="Declare and page the team").click()
    await page.wait_for_url(re.compile(r"/incidents/inc-[0-9a-f]+/view"))
    return page.url.split("/incidents/")[1].split("/")[0]


async def act_on(page, item, kind: str) -> None:
    """Do one waiting item by filling its form the way a person would."""
    if kind == "acknowledge":
        await item.get_by_role("button", name=re.compile("^Acknowledge")).click()
    elif kind == "assessment":
        for question in await item.locator("textarea[name^='answer.']").all():
            await question.fill("Checked with the team: yes.")
        await item.get_by_label("Impact", exact=True).select_option("medium")
        await item.get_by_label("Reach", exact=True).select_option("medium")
        await item.get_by_label("Verified facts (one per line)").fill("Customers see errors")
        await item.get_by_role("button", name="Submit the assessment").click()
    elif kind == "task":
        await item.get_by_label("Note (what was done)").fill("Done from the incident page.")
        await item.get_by_role("button", name="Mark done").click()
    elif kind in ("approval", "answer_approval", "internal_approval"):
        await item.get_by_role("button", name="Approve").click()
    elif kind == "resolve":
        await item.get_by_label("How it ended (internal)").fill("Service restored, followers told.")
        await item.get_by_role("button", name="Resolve the incident").click()
    elif kind == "feedback":
        await item.get_by_label("4").check()
        await item.get_by_label("What went well?").fill("Paging was fast.")
        await item.get_by_role("button", name="Send feedback").click()
    elif kind == "review":
        await item.get_by_label("Review summary").fill("A clean drill.")
        await item.get_by_label("What went well (one per line)").fill("Acknowledged quickly")
        await item.get_by_label("What to do").first.fill("Shorten the approval window")
        await item.get_by_label("Owner (person id or role)").first.fill("comms_lead")
        await item.get_by_role("button", name="Submit the review and close").click()
    else:
        raise AssertionError(f"the test does not know how to do '{kind}'")
    await page.wait_for_url(re.compile(r"/view(\?[^#]*)?(#.*)?$"))
    assert await page.locator(".field-error").count() == 0, await page.locator(".field-error").all_inner_texts()


ORDER = ["acknowledge", "assessment", "task", "approval", "answer_approval", "internal_approval", "feedback", "review", "resolve"]


async def revise_in_the_editor(page) -> None:
    """The comms lead adds a line in the statement editor: the preview and the counter follow as
    they type, and the new version awaits approval with the added words highlighted."""
    editor = page.get_by_label("Statement text")
    before = await editor.input_value()
    awaiting = await page.locator("#awaiting-heading").inner_text()
    await editor.press("Control+End")
    await editor.press_sequentially(" Updates every hour.")
    counter = page.locator("[data-count-of='statement-text']").first
    await expect(counter).to_contain_text(f"{len(before) + len(' Updates every hour.')}")
    await expect(page.locator("[data-preview-of='statement-text']").first).to_contain_text("Updates every hour.")
    await page.get_by_role("button", name="Send for approval").first.click()
    await page.wait_for_url(re.compile(r"/view(\?[^#]*)?(#.*)?$"))
    await expect(page.locator("#awaiting-diff ins")).to_contain_text("hour.")
    await expect(page.locator("#awaiting-heading")).not_to_have_text(awaiting)  # a new version awaits approval


async def drive_to_closed(page, check, width: int, playbook: str, give_feedback: bool, revise: bool = False) -> list[str]:
    """Act on what waits, most urgent kind first, until the incident is closed. ``resolve`` waits
    until a statement was published, so every incident goes through approval and publication."""
    done: list[str] = []
    for _ in range(80):
        await expect(page.locator("#pending")).to_be_visible()
        if await page.locator("#live-summary .phase-closed").count():
            return done
        kinds = await page.locator("#pending li.action-item").evaluate_all("items => items.map(i => i.dataset.kind)")
        published = "published" in (await page.locator("#statements").all_inner_texts() or [""])[0]
        doable = [k for k in ORDER if k in kinds and (k != "resolve" or published) and (k != "feedback" or give_feedback)]
        if not doable:
            # Nothing for a person yet (the workflow is drafting, publishing, moving phase): the page
            # refreshes itself; wait for its waiting list to change.
            try:
                await page.wait_for_function(
                    """([before, published]) => document.querySelector('#pending ul.actions').dataset.kinds !== before ||
                        (!published && (document.querySelector('#statements') || {innerText: ''}).innerText.includes('published'))""",
                    arg=[" ".join(kinds), published], timeout=WAIT_MS,
                )
            except PlaywrightTimeout:  # a slow publication on a loaded machine: look again, as a person would
                await page.reload()
            continue
        kind = doable[0]
        if kind == "feedback":
            give_feedback = False
        if not done:
            await shoot(page, width, f"{playbook}-1-declared")
        if kind == "approval" and "approval" not in done:  # the README's picture (docs/incident-page.png)
            await shoot(page, width, f"{playbook}-awaiting-approval", full_page=False)
            if revise and "statement" not in done:  # once: then the new version is approved
                await revise_in_the_editor(page)
                done.append("statement")
                continue
        item = page.locator(f"#pending li.action-item[data-kind='{kind}']").first
        await act_on(page, item, kind)
        done.append(kind)
        await check(page, f"incident after {kind}")
    raise AssertionError(f"{playbook} did not close after {done}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
async def test_every_playbook_goes_from_the_declare_form_to_closed_by_clicking_and_typing(stack, chromium, viewport):
    page = await signed_in_page(chromium, stack, viewport)
    await page.goto(f"{stack.url}/")
    check = Checked(viewport["width"])
    for number, playbook in enumerate(PLAYBOOKS):
        incident = await declare(page, check, playbook, f"{playbook.replace('_', ' ').capitalize()} drill ({viewport['width']} px)")
        done = await drive_to_closed(page, check, viewport["width"], playbook, give_feedback=number == 0, revise=number == 0)
        assert {"acknowledge", "assessment", "approval", "resolve", "review"} <= set(done), (playbook, done)
        await expect(page.locator("#pending")).to_contain_text("Nothing.")
        timeline = await page.locator("#timeline").inner_text()
        assert "via API key" in timeline  # the signed-in browser's key is named on every action
        await shoot(page, viewport["width"], f"{playbook}-closed")
        await page.goto(f"{stack.url}/incidents/{incident}/report")
        await check(page, "report")
    for path, name in (("/outbox", "outbox"), ("/signals", "signals"), ("/reports", "reports"), ("/risks/view", "risks")):
        await page.goto(f"{stack.url}{path}")
        await check(page, name)
        await shoot(page, viewport["width"], name)
    await page.context.close()


async def acknowledged(page, check) -> None:
    item = page.locator("#pending li.action-item[data-kind='acknowledge']").first
    await act_on(page, item, "acknowledge")
    await page.locator("#pending li.action-item[data-kind='assessment']").wait_for()


async def test_a_refusal_shows_beside_its_field_in_words_and_keeps_what_was_typed(stack, chromium):
    page = await signed_in_page(chromium, stack, PHONE)
    await page.goto(f"{stack.url}/")
    check = Checked(PHONE["width"])
    await declare(page, check, "customer_backlash", "Refusal shown beside the field")
    await acknowledged(page, check)
    item = page.locator("#pending li.action-item[data-kind='assessment']")
    first_question = item.locator("textarea[name^='answer.']").first
    await first_question.fill("Typed before the refusal")
    await item.get_by_role("button", name="Submit the assessment").click()  # no severity, no impact and reach
    error = page.locator("#assessment-severity-error")
    await expect(error).to_contain_text("severity: give a severity, or both impact and reach")
    assert await page.locator("#assessment-severity").get_attribute("aria-describedby") == "assessment-severity-error"
    await expect(page.locator("#pending textarea[name^='answer.']").first).to_have_value("Typed before the refusal")
    await check(page, "incident with a refusal")
    await shoot(page, PHONE["width"], "refusal-beside-the-field")

    item = page.locator("#pending li.action-item[data-kind='assessment']")
    await item.get_by_label("Impact", exact=True).select_option("low")
    await item.get_by_label("Reach", exact=True).select_option("low")
    await item.get_by_role("button", name="Submit the assessment").click()
    await page.locator("form#severity").wait_for()
    await page.get_by_label("New severity").select_option("SEV1")
    await page.get_by_label("Why it changes").fill("A national news site picked it up")
    await page.get_by_role("button", name="Change the severity", exact=True).click()
    await expect(page.locator("#live-summary .sev")).to_have_text("SEV1")
    await expect(page.locator("#timeline")).to_contain_text("A national news site picked it up")
    await page.context.close()


async def test_the_pages_update_themselves_and_say_when_the_connection_is_lost(stack, chromium):
    watcher = await signed_in_page(chromium, stack, DESKTOP, timezone_id="America/New_York")
    actor = await signed_in_page(chromium, stack, PHONE)
    board = await signed_in_page(chromium, stack, PHONE)
    await actor.goto(f"{stack.url}/")
    incident = await declare(actor, Checked(PHONE["width"]), "controversial_post", "Live without a reload")
    await watcher.goto(f"{stack.url}/incidents/{incident}/view")
    await board.goto(f"{stack.url}/")
    row = board.locator(f"li[data-incident='{incident}']")
    await expect(row.locator(".phase")).to_have_text("identify")
    declared_at = watcher.locator("#timeline time").first  # in the reader's zone, never raw ISO
    await expect(declared_at).to_contain_text(re.compile(r"GMT-5|EST"))
    assert not re.search(r"\d{4}-\d\d-\d\dT|\.\d{6}", await declared_at.inner_text()) and "UTC" in await declared_at.get_attribute("title")
    await watcher.evaluate("window.notReloaded = true")
    await board.evaluate("window.notReloaded = true")
    await expect(watcher.locator("#pending ul.actions")).to_have_attribute("data-kinds", re.compile("acknowledge"))

    await acknowledged(actor, None)  # another person acts, on another device

    await expect(watcher.locator("#pending ul.actions")).to_have_attribute("data-kinds", re.compile("assessment"), timeout=WAIT_MS)
    await expect(row.locator(".phase")).to_have_text("assess", timeout=WAIT_MS)
    assert await watcher.evaluate("window.notReloaded") and await board.evaluate("window.notReloaded")
    assert await watcher.locator("#connection").is_hidden()

    await watcher.route(re.compile(r".*/incidents/inc-[0-9a-f]+/view$"), lambda route: route.abort())
    notice = watcher.locator("#connection")
    await expect(notice).to_be_visible(timeout=WAIT_MS)
    await expect(notice).to_contain_text("Connection lost: what you see may be out of date")
    await shoot(watcher, DESKTOP["width"], "connection-lost")
    await watcher.unroute(re.compile(r".*/incidents/inc-[0-9a-f]+/view$"))
    await expect(notice).to_be_hidden(timeout=WAIT_MS)
    for page in (watcher, actor, board):
        await page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
async def test_the_pages_reached_by_a_link_and_the_sign_in_page_pass_axe(stack, chromium, viewport):
    from tests.e2e.test_approval_in_browser import _approval_link, _to_approval

    context = await chromium.new_context(viewport=viewport, bypass_csp=True)
    page = await context.new_page()
    check = Checked(viewport["width"])
    async with stack.async_client() as client:
        state = await _to_approval(client)
        approval = next(p for p in state["pending"] if p["kind"] == "approval")
        link = await _approval_link(client, state["id"], approval["people"][0], approval["version"])
    await page.goto(f"{stack.url}/login")
    await check(page, "sign in")
    await page.goto(f"{stack.url}{link}")
    await check(page, "approval by link")
    await shoot(page, viewport["width"], "approval-by-link")
    await page.get_by_role("button", name="Approve").click()
    await page.wait_for_load_state()
    await check(page, "result of a link")
    await page.goto(f"{stack.url}/a/{'x' * 43}")
    await check(page, "a forged link")
    await stack.sign_in(page)
    await page.goto(f"{stack.url}/incidents/inc-nope/view")
    await check(page, "no such incident")
    await context.close()


async def test_the_fact_sheet_and_an_answer_of_the_kit_are_changed_from_the_incident_page(stack, chromium):
    page = await signed_in_page(chromium, stack, PHONE)
    await page.goto(f"{stack.url}/")
    check = Checked(PHONE["width"])
    await declare(page, check, "customer_backlash", "Fact sheet and answers from the page")
    await acknowledged(page, check)
    await act_on(page, page.locator("#pending li.action-item[data-kind='assessment']"), "assessment")

    await page.get_by_text("Edit the fact sheet").click()
    await page.locator("#fact-sheet-remedy").fill("Everyone who paid the new price gets the difference back.")
    await page.get_by_role("button", name="Save the fact sheet").click()
    await expect(page.locator("#fact-sheet dd[data-field='remedy']")).to_have_text("Everyone who paid the new price gets the difference back.")
    await expect(page.locator("#fact-sheet dd[data-field='headline']")).to_have_text("We are looking into a problem")  # unchanged fields stay

    answer = page.locator("dd[data-answer='why_change']")
    await answer.get_by_text("Propose a new version").click()
    await answer.get_by_label("Answer for this incident").fill("Our costs rose; we are refunding the difference to everyone who paid it.")
    await answer.get_by_role("button", name="Send for approval").click()
    await expect(page.locator("#pending ul.actions")).to_have_attribute("data-kinds", re.compile("answer_approval"))
    await check(page, "incident with an answer proposal")
    while await page.locator("#pending li.action-item[data-kind='answer_approval']").count():
        await act_on(page, page.locator("#pending li.action-item[data-kind='answer_approval']").first, "answer_approval")
    await expect(page.locator("dd[data-answer='why_change']")).to_have_attribute("data-source", "incident")
    await expect(page.locator("dd[data-answer='why_change'] .answer-text")).to_contain_text("refunding the difference")
    assert "via API key" in await page.locator("#timeline").inner_text()
    await page.context.close()
