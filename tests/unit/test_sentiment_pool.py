"""Sentiment scored in worker processes gives what the API process would."""

from api.sentiment_pool import SentimentScorer, score_all


async def test_the_sentiment_pool_scores_like_the_api_process():
    items = [
        ("Northwind is a disgrace, awful service", "en"),
        ("Świetna kawa, polecam", "pl"),
        ("hola", "es"),
        ("lovely", None),
    ] * 150
    scorer = SentimentScorer(2)
    try:
        parts = [scorer.submit(items[offset : offset + 250]) for offset in range(0, len(items), 250)]  # in flight together
        assert [score for part in parts for score in await part] == score_all(items)
    finally:
        scorer.close()


def test_only_batches_worth_sending_go_to_the_processes():
    assert SentimentScorer(2).in_processes(5000) and not SentimentScorer(2).in_processes(100)
    assert not SentimentScorer(0).in_processes(5000)
