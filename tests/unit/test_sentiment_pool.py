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
        assert await scorer.score(items) == score_all(items)
    finally:
        scorer.close()
