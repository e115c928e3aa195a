"""Topics matched and sentiment scored in worker processes give what the API process would."""

import asyncio
import gc
from concurrent.futures.process import BrokenProcessPool

from api.mentions import let_go
from api.sentiment_pool import SentimentScorer, topics_and_scores
from domain.listening import Topic, TopicMatcher
from tests.pool_processes import kill_one_pool_process, pool_processes

TOPICS = [
    Topic(id="ordering_app", name="App", terms=["northwind app", "checkout*"], playbook="technical_outage"),
    Topic(id="brand", name="Brand", terms=["northwind", "#northwind"], playbook="customer_backlash"),
]


async def test_the_sentiment_pool_matches_and_scores_like_the_api_process():
    items = [
        ("Northwind is a disgrace, awful service", "en", None),
        ("The Northwind app checkouts fail again", "en", None),
        ("Świetna kawa w #Northwind, polecam", "pl", None),
        ("hola northwind", "es", None),
        ("lovely weather today", None, None),  # no topic: not scored
        ("lovely weather today", None, "brand"),  # the topic it names counts, whatever its text
    ] * 100
    matcher = TopicMatcher(TOPICS)
    scorer = SentimentScorer(2)
    try:
        parts = [
            scorer.submit(matcher, items[offset : offset + 150]) for offset in range(0, len(items), 150)
        ]  # in flight together
        in_processes = [found for part in parts for found in await part]
    finally:
        scorer.close()
    assert in_processes == topics_and_scores(matcher, items)
    assert in_processes[:6] == [
        ("brand", in_processes[0][1]),
        ("ordering_app", in_processes[1][1]),
        ("brand", in_processes[2][1]),
        ("brand", None),
        (None, None),
        ("brand", in_processes[5][1]),
    ]
    assert in_processes[0][1] < 0 < in_processes[2][1] and in_processes[5][1] is not None


def test_a_matcher_from_terms_matches_as_the_catalogs_does():
    matcher = TopicMatcher(TOPICS)
    copy = TopicMatcher.from_terms(matcher.terms)
    texts = ["northwind app down", "Checkout broken", "#northwind", "nothing here", "northwindcoffee", "the checkouts"]
    assert [copy.topic_for(text) for text in texts] == [matcher.topic_for(text) for text in texts]
    assert [matcher.topic_for(text) for text in texts] == ["ordering_app", "ordering_app", "brand", None, None, "ordering_app"]


def test_only_batches_worth_sending_go_to_the_processes():
    assert SentimentScorer(2).in_processes(5000) and not SentimentScorer(2).in_processes(100)
    assert not SentimentScorer(0).in_processes(5000)


async def test_a_pool_that_lost_a_process_is_replaced_for_the_next_part():
    items = [("Northwind is a disgrace, awful service", "en", None), ("Świetna kawa w #Northwind", "pl", None)] * 200
    matcher = TopicMatcher(TOPICS)
    scorer = SentimentScorer(2)
    try:
        assert await scorer.submit(matcher, items) == topics_and_scores(matcher, items)
        await kill_one_pool_process()
        lost = 0
        while True:  # a part may still go to the old pool before its own thread notices the death: that part is lost
            try:
                scored = await scorer.submit(matcher, items)
                break
            except BrokenProcessPool:
                lost += 1
                assert lost == 1, "a second part went to the broken pool"
        assert scored == topics_and_scores(matcher, items)
        assert await scorer.submit(matcher, items) == scored
    finally:
        scorer.close()
    assert not pool_processes()


async def test_a_batch_answered_without_its_scores_leaves_no_failed_part_unread():
    """A lost process fails every part it held; the 503 must not leave asyncio logging each as an
    exception never retrieved, nor a part still being scored running on for nothing."""
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
    try:
        unread = loop.create_future()
        unread.set_exception(BrokenProcessPool("a process died"))
        del unread
        gc.collect()
        assert reported == ["Future exception was never retrieved"]  # what it would log
        reported.clear()
        failed, pending, scored = loop.create_future(), loop.create_future(), loop.create_future()
        failed.set_exception(BrokenProcessPool("a process died"))
        scored.set_result([])
        let_go([failed, pending, scored])
        assert pending.cancelled() and scored.result() == []
        del failed, pending, scored
        gc.collect()
        assert reported == []
    finally:
        loop.set_exception_handler(previous)
