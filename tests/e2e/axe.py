"""axe-core (npm, pinned in the Makefile) injected into a Playwright page: the accessibility check
of issue #18. The pages' CSP allows no inline script, so the library is added by Playwright's
``add_script_tag(content=...)`` through a CDP bypass of the CSP for the checking browser only."""

from pathlib import Path

from tests.e2e.stack import PROJECT

AXE = PROJECT / "tests" / ".node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: `make axe` installs axe-core (npm)")
    return Path(AXE).read_text()


async def violations(page) -> list[str]:
    """The serious and critical violations on the page as it stands, in words (rule, nodes, help)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source())
    found = await page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
        }));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}" for v in found if v["impact"] in BLOCKING]


async def page_facts(page) -> dict:
    """What #18 asks of every page beyond axe: one h1, no sideways scrolling, the smallest text."""
    return await page.evaluate("""() => {
        const sizes = Array.from(document.querySelectorAll('main *'))
            .filter(e => e.offsetParent !== null && e.childNodes.length &&
                Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => parseFloat(getComputedStyle(e).fontSize));
        const page = document.documentElement;
        return {h1: document.querySelectorAll('h1').length, sideways: page.scrollWidth > page.clientWidth,
                smallest_text: Math.min(...sizes), placeholders: document.querySelectorAll('[placeholder]').length};
    }""")
