"""domain.vader.Vader scores every text exactly as vaderSentiment's own analyzer does."""

import random

from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SPECIAL_CASES, SentimentIntensityAnalyzer

from domain.vader import Vader

STOCK = SentimentIntensityAnalyzer()
OURS = Vader()
FIXED = [
    "",
    "   ",
    "Northwind flat white this morning, great as ever",
    "  The coffee was GOOD, but the service was horrible!!!  ",
    "I don't think it's not bad at all",
    "At least it isn't the worst, kind of ok",
    "not the least bit good",
    "no good, no",
    "the shit was the bomb :) :-(",
    "Worst experience ever 😡 never again",
    "love it 😍😍",
    "sad💔face",
    "\tTabs\nand lines\r\n",
    "Kawa w Northwind dziś świetna, polecam",
    "VERY VERY GOOD!!?? Sort of great. Kind of terrible",
    "never so good, never this bad, without doubt great, without a doubt awful",
    "it isn't good, I can't say it wasn't nice, aint bad, never ever good",
]


def corpus(count: int) -> list[str]:
    rng = random.Random(22)
    words = [*list(STOCK.lexicon)[:3000:7], *BOOSTER_DICT, *NEGATE, *SPECIAL_CASES]
    words += "but BUT least at very kind of never so this without doubt isn't WASN'T Don't n't".split()
    words += "northwind coffee app queue the a is :) :( 😀 💔 🙂 !!! ? ... GREAT Not".split()
    texts = []
    for _ in range(count):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 14)))
        text = rng.choice(["", " ", "  "]) + text + rng.choice(["", "!", "!!", "?", " ", "\n"])
        texts.append(text)
    return texts


def test_scores_are_vaders_own():
    for text in FIXED + corpus(20_000):
        assert OURS.polarity_scores(text) == STOCK.polarity_scores(text), repr(text)
