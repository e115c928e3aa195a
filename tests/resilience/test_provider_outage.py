"""A provider outage while the crisis team is paged: Twilio refuses connections and SendGrid
answers 503 for a while. Each failed try is in the ledger, the escalation climbs on time all the
same (level 2's page is tried while level 1's is still being retried), and once the providers are
back every page is delivered, once, and each person gets their messages in the order the workflow
sent them."""

import time

import pytest

from tests.e2e.stack import until
from tests.resilience.helpers import DECLARATION, assert_no_sms_twice, paged, paging_stack, settled, sqlite_url

pytestmark = pytest.mark.e2e
OUTAGE_S = 6


def test_pages_are_delivered_in_order_once_the_providers_are_back(tmp_path, quick_playbooks, providers):
    stack = paging_stack(tmp_path / "data", providers, quick_playbooks)
    database = sqlite_url(stack)
    stack.start()
    try:
        with stack.client() as http:
            providers.twilio.stop()
            providers.sendgrid.fail(times=1000, status=503)
            incident = http.post("/incidents", json=DECLARATION).json()["id"]
            until(lambda: len(providers.sendgrid.requests) >= 2, what="the page tried again during the outage")
            time.sleep(OUTAGE_S)
            assert not providers.sendgrid.accepted and not paged(http, incident, "ewa.lewandowska")
            tried = {r.json["personalizations"][0]["to"][0]["email"] for r in providers.sendgrid.requests}
            assert providers.email["james.whitfield"] in tried  # level 2, after level 1's wait, not after the outage
            providers.twilio.start()
            providers.sendgrid.clear_faults()

            until(lambda: paged(http, incident, "ewa.lewandowska"), seconds=60, what="level 1 paged once the providers are back")
            until(lambda: providers.sms_to("james.whitfield"), seconds=60, what="level 2 paged")
            assert http.post(f"/incidents/{incident}/acknowledge", json={"person": "james.whitfield"}).status_code == 200
            until(lambda: len(providers.emails_to("ewa.lewandowska")) == 2, what="level 1 told who took it")
            model = settled(database, http, incident, providers)

        ewa_sms, ewa_email = providers.sms_to("ewa.lewandowska"), providers.emails_to("ewa.lewandowska")
        assert len(ewa_sms) == 2 and "Reply ACK" in ewa_sms[0] and "james.whitfield took it" in ewa_sms[1], ewa_sms
        assert len(ewa_email) == 2 and ewa_email[1].startswith("Taken:"), ewa_email
        # james.whitfield is level 2 and, as an executive sponsor, level 3: when level 2's wait ends
        # before the retried page reaches him and he acknowledges (its wait began when the page was
        # first tried, in the outage), level 3 pages him too. Each page reaches him once.
        james_sms = providers.sms_to("james.whitfield")
        assert 1 <= len(james_sms) <= 2 and len(set(james_sms)) == len(james_sms), james_sms
        assert all("paged as incident_commander. Reply ACK" in text for text in james_sms), james_sms
        paged_by_email = providers.emails_to("james.whitfield").count("SEV2 crisis: Checkout down")
        assert paged_by_email == len(james_sms), providers.emails_to("james.whitfield")  # his briefings have their own subjects
        assert_no_sms_twice(providers, model)

        first_page = [row for row in model.ledger if row.person_id == "ewa.lewandowska" and row.kind == "page"]
        for channel in ("sms", "email"):
            attempts = [row for row in first_page if row.channel == channel]
            assert len(attempts) >= 2 and [row.status for row in attempts[:-1]] == ["failed"] * (len(attempts) - 1), attempts
            assert all(row.error.startswith("transient:") for row in attempts[:-1])
            assert attempts[-1].status == "sent" and len({row.ledger_key for row in attempts}) == 1
    finally:
        assert stack.stop() == 0
