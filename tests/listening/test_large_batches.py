"""A full batch of 5,000 with the sentiment processes running: the API validates it in parts and
hands each part to the processes as soon as it is valid, so a late bad item must still refuse the
whole batch by its own index, and what is stored must be what scoring in the API process gives."""

from datetime import timedelta

from sqlalchemy import select

from api.mentions import SCORING_LOST
from domain.sentiment import is_negative, score
from store.models import MentionRow
from tests.listening.streams import minutes_ago, post
from tests.pool_processes import kill_one_pool_process

TEXTS = [
    "Northwind is a disgrace, awful service",
    "Northwind flat white, lovely",
    "Kawa w Northwind świetna, polecam",
    "rain again",
]


def full_batch(first: int = 0) -> list[dict]:
    start = minutes_ago(30)
    return [post(start + timedelta(milliseconds=index), TEXTS[index % len(TEXTS)], index) for index in range(first, first + 5000)]


async def test_a_bad_item_late_in_a_full_batch_is_named_and_nothing_is_stored(listening_in_processes):
    api = listening_in_processes.api
    batch = full_batch()
    broken = [*batch]
    broken[4321] = {**batch[4321], "text": "bad\x00byte"}
    broken[4999] = {key: value for key, value in batch[4999].items() if key != "author"}
    response = await api.post("/mentions", json=broken)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "mentions.4321.text: must not contain control characters: U+0000 (NUL) at position 3 (and 1 more problem(s))"
    )
    late = [*batch[:-1], {**batch[-1], "created_at": (minutes_ago(0) + timedelta(days=1)).isoformat()}]
    response = await api.post("/mentions", json=late)
    assert response.status_code == 422 and response.json()["detail"].startswith("mentions.4999.created_at: ")
    assert "in the future" in response.json()["detail"]
    assert await listening_in_processes.stored() == 0


async def test_a_full_batch_is_stored_with_the_scores_the_api_process_gives(listening_in_processes):
    batch = full_batch()
    receipt = await listening_in_processes.post(batch)
    assert receipt == {"received": 5000, "stored": 5000, "duplicates": 0, "topics": {"brand": 3750}}
    async with listening_in_processes.sessions() as session:
        stored = {row.external_id: row for row in (await session.execute(select(MentionRow))).scalars()}
    for item in batch:
        row = stored[item["external_id"]]
        expected = score(item["text"], None) if row.topic is not None else None
        assert (row.sentiment, row.negative) == (expected, is_negative(expected)), item


async def test_a_sentiment_process_killed_loses_at_most_the_batch_it_was_scoring(listening_in_processes):
    """The out-of-memory killer takes a sentiment process: the batch it was scoring, if any, is refused
    with 503 and nothing of it stored, and every batch after it is scored by a new pool."""
    api = listening_in_processes.api
    assert (await api.post("/mentions", json=full_batch())).status_code == 200
    await kill_one_pool_process()
    refused = []
    for first in (5000, 10000, 15000):
        response = await api.post("/mentions", json=full_batch(first))
        if response.status_code == 503:
            assert response.json()["detail"] == SCORING_LOST and response.headers["Retry-After"] == "5"
            refused.append(first)
        else:
            assert response.status_code == 200 and response.json()["stored"] == 5000
    assert refused in ([], [5000])
    assert await listening_in_processes.stored() == 5000 * (4 - len(refused))
    for first in refused:  # sent again, as the 503 asks
        assert (await api.post("/mentions", json=full_batch(first))).json()["stored"] == 5000
    assert await listening_in_processes.stored() == 20000
