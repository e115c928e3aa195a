"""Listening: mentions ingested per second, and how soon a spike is detected, on the ``crisis dev`` stack.

Ingestion: a day of generated chatter (every post about a monitored topic, so every one is matched
and scored for sentiment: the costliest case; English and Polish; realistic reach) is posted to ``POST /mentions`` in batches
of 5,000 by one client, each batch sent as soon as the previous one is answered. The figure is
mentions stored ÷ the time from the first request to the last answer: validation, topic matching,
sentiment, the insert and the detectors' wake-up are all inside it, and the worker judging the new
mentions runs in the same process meanwhile. One untimed batch goes first (it starts the
sentiment processes).

Spike: afterwards the brand topic gets calm chatter (10 a minute) and then a surge (150 a minute,
starting mid-bucket), replayed in stream order as 10-second batches at a fixed speed-up over real
time. The figure is the stream time between the surge's first post and the newest post the
detector had seen when it fired (``signal.stream_time``), so it includes how far the stream got
while the worker was still judging; the wall time from posting the surge's first batch until the
signal was listed is given beside it.
"""

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from bench.stack import HEADERS

NOT_MEASURED = "not measured"
TOPIC = "brand"
BATCH = 5000

ABOUT = [
    "Northwind flat white this morning, {adj} as ever",
    "queue at Northwind on Main St is {adj} today",
    "@northwindcoffee the new oat latte is {adj}",
    "Northwind app says my order is ready, {adj}",
    "Kawa w Northwind dziś {pl}, polecam",
    "#northwind pumpkin spice is back and it is {adj}",
]
OTHER = [
    "Rain again, so a {adj} Northwind mocha it is",
    "Watching the match at Northwind tonight, {adj} so far",
    "Dziś w pracy {pl} dzień, a potem Northwind",
    "The Northwind app checkout was {adj} today",
    "Reading a {adj} book at #northwind",
]
ADJECTIVES = ["great", "fine", "ok", "slow", "lovely", "busy", "decent", "nice", "meh"]
POLISH = ["świetna", "dobra", "spokojny", "zwykła", "fajny"]
ANGRY = [
    "Northwind this is a disgrace, terrible service, never again",
    "Northwind staff were rude and the coffee was awful",
    "Worst experience ever at Northwind, I want a refund",
    "Northwind charged me twice, horrible",
]


@dataclass
class MentionsResult:
    mentions: int
    seconds: float
    batches: int
    slowest_batch_s: float
    spike_stream_s: float | None  # None: the spike was not detected
    spike_wall_s: float | None
    replay_speedup: float
    cpu_s: float = 0.0  # CPU used by crisis dev and its children (sentiment processes, Temporal) while the mentions went in
    cpu_split: dict[str, float] = field(default_factory=dict)  # the same, by process: API and worker, sentiment, Temporal

    @property
    def per_s(self) -> float:
        return self.mentions / self.seconds

    @property
    def cpu_ms_per_batch(self) -> float:
        """CPU per batch of 5,000: steadier than the rate on a shared machine, for A/B comparisons."""
        return self.cpu_s * 1000 / self.batches

    def cpu_ms_per_batch_by_process(self) -> dict[str, float]:
        return {kind: seconds * 1000 / self.batches for kind, seconds in self.cpu_split.items()}


def _post(rng: random.Random, number: int, at: datetime, text: str) -> dict:
    return {
        "platform": rng.choice(["x", "instagram", "facebook", "tiktok"]),
        "external_id": f"bench-{number}",
        "author": f"user{rng.randint(1, 50_000)}",
        "text": text,
        "url": f"https://social.example/p/{number}",
        "created_at": at.isoformat(),
        "reach": int(rng.paretovariate(1.2) * 100),
    }


def _chatter(rng: random.Random, count: int, start: datetime, end: datetime, first: int) -> list[dict]:
    step = (end - start) / count
    mentions = []
    for index in range(count):
        template = rng.choice(ABOUT if index % 2 == 0 else OTHER)
        text = template.format(adj=rng.choice(ADJECTIVES), pl=rng.choice(POLISH))
        mentions.append(_post(rng, first + index, start + step * index, text))
    return mentions


async def _ingest(
    api: httpx.AsyncClient, count: int, cpu: Callable[[], dict[str, float]]
) -> tuple[float, int, float, int, dict[str, float]]:
    rng = random.Random(6)
    end = datetime.now(timezone.utc) - timedelta(hours=6)
    warmup = _chatter(rng, BATCH, end - timedelta(hours=31), end - timedelta(hours=30), -BATCH)  # starts the sentiment processes
    (await api.post("/mentions", json=warmup)).raise_for_status()
    mentions = _chatter(rng, count, end - timedelta(hours=24), end, 0)
    bodies = [json.dumps(mentions[offset : offset + BATCH]).encode() for offset in range(0, count, BATCH)]
    stored, slowest = 0, 0.0
    cpu_before = cpu()
    began = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        response = await api.post("/mentions", content=body, headers={"Content-Type": "application/json"})
        response.raise_for_status()
        slowest = max(slowest, time.perf_counter() - sent)
        stored += response.json()["stored"]
    cpu_after = cpu()
    return (
        time.perf_counter() - began,
        len(bodies),
        slowest,
        stored,
        {kind: cpu_after[kind] - cpu_before[kind] for kind in cpu_after},
    )


async def _spike(api: httpx.AsyncClient, calm_minutes: int, speedup: float) -> tuple[float | None, float | None]:
    rng = random.Random(7)
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=calm_minutes + 12)
    spike_at = start + timedelta(minutes=calm_minutes, seconds=25)
    mentions, number = [], 10_000_000
    for minute in range(calm_minutes + 10):
        for _ in range(10):
            mentions.append(
                _post(
                    rng,
                    number,
                    start + timedelta(minutes=minute, seconds=rng.uniform(0, 60)),
                    rng.choice(ABOUT).format(adj=rng.choice(ADJECTIVES), pl=rng.choice(POLISH)),
                )
            )
            number += 1
    for second in range(10 * 60):
        for _ in range(rng.choice([2, 2, 3, 3, 3])):  # about 150 a minute
            mentions.append(_post(rng, number, spike_at + timedelta(seconds=second + rng.random()), rng.choice(ANGRY)))
            number += 1
    mentions.sort(key=lambda item: item["created_at"])
    times = [datetime.fromisoformat(item["created_at"]) for item in mentions]
    known = {signal["id"] for signal in (await api.get("/signals", params={"topic": TOPIC})).json()}

    step = timedelta(seconds=10)
    replay_began, stream_began = time.perf_counter(), start
    surge_posted: float | None = None
    cursor = start
    index = 0
    while index < len(mentions):
        cursor += step
        batch = []
        while index < len(mentions) and times[index] < cursor:
            batch.append(mentions[index])
            index += 1
        due = replay_began + (cursor - stream_began).total_seconds() / speedup
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if batch:
            (await api.post("/mentions", json=batch)).raise_for_status()
        if surge_posted is None and cursor > spike_at:
            surge_posted = time.perf_counter()
        if surge_posted is not None:
            found = [s for s in (await api.get("/signals", params={"topic": TOPIC})).json() if s["id"] not in known]
            if found:
                detected = datetime.fromisoformat(found[-1]["stream_time"].replace("Z", "+00:00"))
                return (detected - spike_at).total_seconds(), time.perf_counter() - surge_posted
    return None, None


async def measure_mentions(stack, count: int, calm_minutes: int, speedup: float) -> MentionsResult:
    async with httpx.AsyncClient(base_url=stack.url, timeout=120, headers=HEADERS) as api:
        seconds, batches, slowest, stored, cpu_split = await _ingest(api, count, stack.cpu_by_process)
        stream_s, wall_s = await _spike(api, calm_minutes, speedup)
    return MentionsResult(stored, seconds, batches, slowest, stream_s, wall_s, speedup, sum(cpu_split.values()), cpu_split)
