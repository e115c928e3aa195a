"""Extension point: mentions ingested per second.

crisisflow has no listening feature yet (nothing ingests social-media mentions or detects a
spike), so there is nothing honest to measure and this benchmark reports no figure. When the
feature lands, implement :func:`measure_mentions_per_second` against it (feed N mentions through
the ingestion endpoint or consumer on the loopback stack, time until all are stored or counted)
and return the rate; ``bench.__main__`` already prints and documents whatever it returns.
"""

NOT_MEASURED = "not measured: crisisflow has no listening feature yet (extension point: bench/mentions.py)"


async def measure_mentions_per_second(stack) -> float | None:
    """Mentions ingested per second on ``stack``, or None while there is no listening feature."""
    return None
