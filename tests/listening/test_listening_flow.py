"""Ingestion, detection, signals and incidents opened from the conversation, through the real API
app and a real worker on the time-skipping server."""

import asyncio
from datetime import datetime, timedelta

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from store import service
from tests.listening.streams import ANGRY, CALM, minutes_ago, post, stream
from workflows.listening import ListeningWorkflow, workflow_id


def spike_stream(start, first_number: int = 0) -> tuple[list[dict], object]:
    """30 calm minutes at 8 a minute, then 5 angry minutes at 120 a minute, then calm again."""
    spike_at = start + timedelta(minutes=30)
    mentions = (
        stream(start, 30, 8, CALM, first_number)
        + stream(spike_at, 5, 120, ANGRY, first_number + 10_000)
        + stream(spike_at + timedelta(minutes=5), 10, 8, CALM, first_number + 20_000)
    )
    return sorted(mentions, key=lambda item: item["created_at"]), spike_at


async def feed(listening, mentions: list[dict], batch: int = 500) -> None:
    for offset in range(0, len(mentions), batch):
        await listening.post(mentions[offset : offset + batch])


async def test_a_batch_is_stored_once_and_duplicates_are_counted(listening):
    start = minutes_ago(30)
    batch = [post(start + timedelta(seconds=i), "Northwind espresso", i) for i in range(100)]
    first = await listening.post(batch)
    assert first == {"received": 100, "stored": 100, "duplicates": 0, "topics": {"brand": 100}}
    again = await listening.post(batch[:50] + [post(start, "new Northwind post", 500), post(start, "new Northwind post", 500)])
    assert again == {"received": 52, "stored": 1, "duplicates": 51, "topics": {"brand": 1}}
    same_id_other_platform = await listening.post([post(start, "hello northwind", 1, platform="instagram")])
    assert same_id_other_platform["stored"] == 1
    wrapped = await listening.api.post("/mentions", json={"mentions": [post(start, "unrelated chatter", 900)]})
    assert wrapped.json() == {"received": 1, "stored": 1, "duplicates": 0, "topics": {}}
    mixed = await listening.post(
        [post(start, "rain again", 901), post(start, "Northwind app down", 902), post(start, "northwind", 903)]
    )
    assert mixed == {"received": 3, "stored": 3, "duplicates": 0, "topics": {"brand": 1, "ordering_app": 1}}
    assert await listening.stored() == 106


async def test_bad_batches_are_refused_whole_with_the_item_and_field_named(listening):
    start = minutes_ago(10)
    good = [post(start + timedelta(seconds=i), "Northwind", i) for i in range(10)]

    async def refused(body, status: int, *expected: str):
        response = await listening.api.post("/mentions", json=body)
        assert response.status_code == status, response.text
        for text in expected:
            assert text in response.json()["detail"], response.json()
        return response.json()["detail"]

    missing = [*good[:3], {key: value for key, value in good[3].items() if key != "author"}, *good[4:]]
    await refused(missing, 422, "mentions.3.author: Field required")
    bad_time = [*good[:7], {**good[7], "created_at": "yesterday"}, *good[8:]]
    await refused(bad_time, 422, "mentions.7.created_at")
    naive = [{**good[0], "created_at": "2026-11-30T10:00:00"}]
    await refused(naive, 422, "mentions.0.created_at", "timezone")
    future = [{**good[0], "created_at": (start + timedelta(days=2)).isoformat()}]
    await refused(future, 422, "mentions.0.created_at", "in the future")
    await refused([{**good[0], "topic": "weather"}], 422, "mentions.0.topic: unknown topic 'weather'")
    await refused([{**good[0], "url": "not a link"}], 422, "mentions.0.url")
    await refused([{**good[0], "reach": -5}], 422, "mentions.0.reach")
    await refused(
        [good[0], {**good[1], "text": "bad\x00byte"}],
        422,
        "mentions.1.text: must not contain control characters: U+0000 (NUL) at position 3",
    )
    await refused([good[0], "just a string"], 422, "mentions.1: Input should be a valid dictionary")
    await refused({"posts": []}, 422, "body: must be a JSON array")
    response = await listening.api.post("/mentions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"].startswith("body: not valid JSON")
    too_many = [post(start, "x", i) for i in range(5001)]
    await refused(too_many, 413, "at most 5,000")
    assert await listening.stored() == 0  # nothing of any refused batch was kept
    assert (await listening.post(good))["stored"] == 10


async def test_a_spike_opens_one_suggested_signal_that_a_person_confirms(listening):
    mentions, spike_at = spike_stream(minutes_ago(60))
    await feed(listening, mentions)
    signals = await listening.signals("suggested")
    assert len(signals) == 1, signals
    signal = signals[0]
    assert signal["topic"] == "brand" and signal["playbook"] == "customer_backlash"
    assert "volume" in signal["reasons"] and "negative_sentiment" in signal["reasons"]
    assert signal["bucket_start"] == spike_at.isoformat().replace("+00:00", "Z")
    evidence = signal["evidence"]
    assert evidence["count"] >= 20 and evidence["z_score"] >= 4 and evidence["negative_share"] > 0.6
    assert len(evidence["top_posts"]) == 5
    await feed(listening, stream(spike_at + timedelta(minutes=15), 5, 120, ANGRY, 40_000))  # the surge goes on: suppressed
    assert len(await listening.signals(until=2, timeout=2)) == 1

    confirm = {"person": "ewa.lewandowska", "headline": "Many of you are unhappy with our new loyalty terms"}
    refused = await listening.api.post(f"/signals/{signal['id']}/confirm", json={"person": "nobody", "headline": "A headline"})
    assert refused.status_code == 422 and "person: 'nobody'" in refused.json()["detail"]
    no_headline = await listening.api.post(f"/signals/{signal['id']}/confirm", json={"person": "ewa.lewandowska"})
    assert no_headline.status_code == 422 and "headline" in no_headline.text
    response = await listening.api.post(f"/signals/{signal['id']}/confirm", json=confirm)
    assert response.status_code == 200, response.text
    confirmed = response.json()
    incident = confirmed["incident"]
    assert confirmed["signal"]["status"] == "confirmed" and confirmed["signal"]["incident_id"] == incident["id"]
    assert incident["playbook"] == "customer_backlash"
    again = (await listening.api.post(f"/signals/{signal['id']}/confirm", json=confirm)).json()
    assert again["incident"]["id"] == incident["id"]  # one surge, one incident
    state = (await listening.api.get(f"/incidents/{incident['id']}")).json()
    assert state["detection"]["signal_id"] == signal["id"]
    assert state["detection"]["first_mention_at"] == signal["first_mention_at"]
    assert state["fact_sheet"]["headline"] == confirm["headline"]  # the public voice is the person's, not the detector's
    assert [v["author"] for v in state["fact_sheet_versions"]] == ["ewa.lewandowska"]
    late = await listening.api.post(f"/signals/{signal['id']}/dismiss", json={"person": "ewa.lewandowska"})
    assert late.status_code == 409


async def test_a_dismissed_signal_stays_dismissed(listening):
    mentions, _ = spike_stream(minutes_ago(50))
    await feed(listening, mentions)
    [signal] = await listening.signals("suggested")
    response = await listening.api.post(
        f"/signals/{signal['id']}/dismiss", json={"person": "maria.nowak", "reason": "a meme, not a crisis"}
    )
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert response.json()["note"] == "a meme, not a crisis"
    confirm = await listening.api.post(
        f"/signals/{signal['id']}/confirm", json={"person": "ewa.lewandowska", "headline": "A headline"}
    )
    assert confirm.status_code == 409
    assert (await listening.api.get("/signals/sig-nope")).status_code == 404


async def test_a_topic_that_declares_directly_opens_the_incident_itself(listening):
    start = minutes_ago(20)
    chatter = [post(start + timedelta(seconds=20 * i), "ordering app works fine", i) for i in range(30)]
    outage_at = start + timedelta(minutes=12)
    outage = [
        post(outage_at + timedelta(seconds=3 * i), "The Northwind app is down, checkout outage again", 1000 + i)
        for i in range(12)
    ]
    await feed(listening, sorted(chatter + outage, key=lambda item: item["created_at"]), batch=10)
    [signal] = await listening.signals("declared")
    assert signal["topic"] == "ordering_app" and signal["reasons"] == ["keyword:down"]
    state = (await listening.api.get(f"/incidents/{signal['incident_id']}")).json()
    assert state["playbook"] == "technical_outage" and state["severity"] == "SEV2"
    assert state["detection"]["topic"] == "ordering_app"


async def test_a_direct_declaration_names_the_topic_and_the_ingest_key_in_the_timeline_and_read_model(listening):
    made = (await listening.api.post("/apikeys", json={"name": "social-listener", "scopes": ["ingest"]})).json()
    start = minutes_ago(20)
    chatter = [post(start + timedelta(seconds=20 * i), "ordering app works fine", i) for i in range(30)]
    outage_at = start + timedelta(minutes=12)
    outage = [
        post(outage_at + timedelta(seconds=3 * i), "The Northwind app is down, checkout outage again", 1000 + i)
        for i in range(12)
    ]
    mentions = sorted(chatter + outage, key=lambda item: item["created_at"])
    for offset in range(0, len(mentions), 10):
        posted = await listening.api.post(
            "/mentions", json=mentions[offset : offset + 10], headers={"Authorization": f"Bearer {made['key']}"}
        )
        assert posted.status_code == 200, posted.text
    [signal] = await listening.signals("declared")
    state = (await listening.api.get(f"/incidents/{signal['incident_id']}")).json()
    declared = next(event for event in state["timeline"] if event["kind"] == "declared")
    assert declared["via"] == "topic ordering_app, mentions from API key social-listener"
    assert state["detection"]["ingested_by"] == ["social-listener"]

    async def projected():
        async with listening.sessions() as session:
            rows = await service.list_timeline(session, signal["incident_id"])
        return next((row.via for row in rows if row.kind == "declared"), None)

    for _ in range(100):
        if (via := await projected()) is not None:
            break
        await asyncio.sleep(0.1)
    assert via == "topic ordering_app, mentions from API key social-listener"


async def test_a_worker_restart_during_ingestion_loses_no_mention_and_no_detection(listening):
    # Workers without a workflow cache, so without a sticky queue: a task the server hands to a stopped
    # worker's sticky queue stays there on the time-skipping server (the real one moves it to the
    # normal queue after 5 s; the test server implements no ResetStickyTaskQueue either), and the
    # detector then never runs again, as in about one run in five with the cache.
    await listening.stop_worker()
    listening.settings = listening.settings.model_copy(update={"worker_max_cached_workflows": 0})
    listening.start_worker()
    mentions, spike_at = spike_stream(minutes_ago(60))
    # Up to the spike with the worker running: a part of the spike fed before the stop could be
    # judged (rightly) before the worker stops, as soon as its pass runs ahead of the shutdown.
    calm = sum(1 for mention in mentions if datetime.fromisoformat(mention["created_at"]) < spike_at)
    await feed(listening, mentions[:calm])
    await listening.stop_worker()
    await feed(listening, mentions[calm:])  # the spike arrives while no worker runs
    assert await listening.stored() == len(mentions)
    assert await listening.signals(until=1, timeout=1) == []
    listening.start_worker()
    [signal] = await listening.signals("suggested")
    assert signal["bucket_start"] == spike_at.isoformat().replace("+00:00", "Z")
    handle = listening.client.get_workflow_handle(workflow_id("brand"))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_the_incident_page_charts_the_conversation_and_each_statement(listening):
    from tests.driver import next_step

    mentions, spike_at = spike_stream(minutes_ago(60))
    await feed(listening, mentions)
    [signal] = await listening.signals("suggested")
    confirmed = (
        await listening.api.post(
            f"/signals/{signal['id']}/confirm", json={"person": "ewa.lewandowska", "headline": "Complaints about our new menu"}
        )
    ).json()
    incident = confirmed["incident"]["id"]

    page = (await listening.api.get(f"/incidents/{incident}/view")).text
    assert 'class="conversation-chart"' in page and "Reach so far" in page
    assert "after the surge's first mention" in page
    assert "No statement published yet" in page

    for _ in range(100):  # act on what `pending` asks until the first statement is published
        state = (await listening.api.get(f"/incidents/{incident}")).json()
        if any(s["status"] == "published" for s in state["statements"]):
            break
        step = next_step(state)
        if step is None:
            await asyncio.sleep(0.1)
            continue
        response = await listening.api.post(f"/incidents/{incident}/{step.path}", json=step.body)
        assert response.status_code == 200, response.text
    published_at = datetime.fromisoformat(next(s for s in state["statements"] if s["status"] == "published")["published_at"])
    calm = [
        post(published_at + timedelta(milliseconds=10 * i), "Thanks Northwind, good to know, great reply", 60_000 + i)
        for i in range(40)
    ]
    await listening.post(calm)
    await asyncio.sleep(0.5)  # the chart runs to now

    talk = (await listening.api.get(f"/incidents/{incident}/mentions")).json()
    assert talk["topics"] == ["brand"] and talk["mentions"] == len(mentions) + len(calm)
    assert 0 < talk["time_to_detect_seconds"] < talk["time_to_declare_seconds"]
    [effect] = talk["statements"]
    assert effect["negative_share_before"] > 0.5 > effect["negative_share_after"]
    assert not effect["after_complete"]
    page = (await listening.api.get(f"/incidents/{incident}/view")).text
    assert 'data-version="1"' in page and "calmer" in page and "so far" in page
    dashboard = (await listening.api.get("/")).text
    assert "Suggested incidents" not in dashboard  # the only signal is confirmed


async def test_the_detector_continues_as_new_and_keeps_its_place(listening):
    from workflows.listening import ListeningInput

    mentions, spike_at = spike_stream(minutes_ago(60))
    handle = await listening.client.start_workflow(
        ListeningWorkflow.run,
        ListeningInput(topic="brand", evaluations_per_run=1),
        id=workflow_id("brand"),
        task_queue=listening.settings.task_queue,
    )
    first_run = (await handle.describe()).run_id
    await feed(listening, mentions, batch=100)  # every evaluation ends its run: the next run starts from its state
    [signal] = await listening.signals("suggested")
    assert signal["bucket_start"] == spike_at.isoformat().replace("+00:00", "Z")
    latest = listening.client.get_workflow_handle(workflow_id("brand"))
    assert (await latest.describe()).run_id != first_run
    for _ in range(10):  # a query that lands while a run hands over to the next can time out: ask again
        try:
            state = await latest.query(ListeningWorkflow.detector, rpc_timeout=timedelta(seconds=3))
            break
        except RPCError:
            await asyncio.sleep(0.2)
    assert state.buckets_seen >= 20 and state.suppressed_until is not None  # one pass per run: the baseline travelled


async def test_resending_a_stored_batch_wakes_the_detector_again(listening):
    """What a sender does after a 503 (stored, but Temporal did not answer): the resent batch is all
    duplicates and still wakes it."""
    batch = [post(minutes_ago(5) + timedelta(seconds=i), "Northwind", 70_000 + i) for i in range(5)]
    await listening.post(batch)
    handle = listening.client.get_workflow_handle(workflow_id("brand"))
    await handle.terminate("as if the nudge had never reached it")
    receipt = await listening.post(batch)
    assert receipt["stored"] == 0 and receipt["duplicates"] == 5
    assert (await listening.client.get_workflow_handle(workflow_id("brand")).describe()).status == WorkflowExecutionStatus.RUNNING


async def test_a_batch_of_two_topics_wakes_both_detectors(listening):
    """The API nudges every topic a batch counts for at once; each detector then judges its own mentions."""
    start = minutes_ago(10)
    batch = [
        post(start + timedelta(seconds=i), "Northwind espresso" if i % 2 else "Northwind app checkout", 80_000 + i)
        for i in range(20)
    ]
    assert (await listening.post(batch))["topics"] == {"brand": 10, "ordering_app": 10}
    for topic in ("brand", "ordering_app"):
        handle = listening.client.get_workflow_handle(workflow_id(topic))
        for _ in range(100):
            state = await handle.query(ListeningWorkflow.detector)
            if state is not None and state.next_bucket is not None:
                break
            await asyncio.sleep(0.1)
        assert state.topic == topic and state.next_bucket is not None, state
