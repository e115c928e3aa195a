"""Synthetic mentions for the listening tests: calm and angry chatter about the brand."""

import random
from datetime import datetime, timedelta, timezone


def post(at: datetime, text: str, number: int, platform: str = "x", reach: int | None = None, **extra) -> dict:
    return {
        "platform": platform,
        "external_id": f"{platform}-{number}",
        "author": f"user{number % 97}",
        "text": text,
        "url": f"https://{platform}.example/status/{number}",
        "created_at": at.isoformat(),
        "reach": reach if reach is not None else 50 + number % 1000,
        **extra,
    }


CALM = [
    "Morning flat white from Northwind, lovely",
    "Northwind queue is long today",
    "Trying the new Northwind oat latte",
    "northwind coffee is fine I guess",
    "Meeting a friend at Northwind later",
]
ANGRY = [
    "Northwind, this is a disgrace. Terrible service, never again",
    "Northwind? awful, I want a refund",
    "Northwind staff were rude and the coffee was awful",
    "Worst experience ever at Northwind, horrible",
]


def stream(start: datetime, minutes: int, per_minute: int, texts: list[str], first_number: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed + first_number)
    found = []
    number = first_number
    for minute in range(minutes):
        for _ in range(per_minute):
            at = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59.9))
            found.append(post(at, rng.choice(texts), number))
            number += 1
    return sorted(found, key=lambda item: item["created_at"])


def minutes_ago(minutes: float) -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=minutes)
