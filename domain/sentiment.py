"""How negative a mention is: VADER for English, a small lexicon for Polish.

Scores run from -1 (very negative) to 1; a mention is negative at -0.05 or below, VADER's own
threshold. Languages with no lexicon get no score (``None``) and are left out of negative shares
rather than counted as neutral.
"""

import re
from functools import lru_cache

NEGATIVE_AT = -0.05
_POLISH_LETTERS = re.compile(r"[ąćęłńśźż]", re.IGNORECASE)

# Polish words and stems people use when angry at a brand, weighted like VADER's -4…4 valence.
# Stems match any ending (Polish inflects heavily: "oszust", "oszustwo", "oszuści" …).
_POLISH_NEGATIVE = {
    "afera": -2.5,
    "awari": -2.0,
    "bojkot": -3.0,
    "beznadziej": -2.5,
    "żenad": -2.5,
    "żenujące": -2.5,
    "skandal": -3.0,
    "oszust": -3.0,
    "oszuk": -3.0,
    "kradzież": -3.0,
    "ukradl": -3.0,
    "ukradli": -3.0,
    "złodzie": -3.0,
    "hańb": -3.0,
    "wstyd": -2.5,
    "fatalny": -2.5,
    "fatalnie": -2.5,
    "okropn": -2.5,
    "tragedi": -2.5,
    "tragiczn": -2.5,
    "dramat": -2.0,
    "kiepsk": -2.0,
    "słab": -1.5,
    "zły": -2.0,
    "zła": -2.0,
    "złe": -2.0,
    "źle": -2.0,
    "gorzej": -2.0,
    "najgorsz": -3.0,
    "nie działa": -2.0,
    "zepsu": -2.0,
    "zhakowan": -2.5,
    "włam": -2.5,
    "wyciek": -2.5,
    "kłam": -2.5,
    "fake": -2.0,
    "ściem": -2.0,
    "rozczarowan": -2.0,
    "nigdy więcej": -3.0,
    "rezygnuj": -2.0,
    "zwrot pieniędzy": -1.5,
    "reklamacj": -1.5,
    "obrzydliw": -3.0,
    "toksyczn": -2.5,
    "rasist": -3.5,
    "seksist": -3.5,
    "obraźliw": -3.0,
    "wkurz": -2.5,
    "masakr": -2.5,
    "porażk": -2.5,
    "bubel": -2.5,
    "syf": -3.0,
    "chłam": -3.0,
    "zatru": -3.0,
}
_POLISH_POSITIVE = {
    "dziękuj": 2.0,
    "dzięki": 1.5,
    "super": 2.5,
    "świetn": 3.0,
    "wspaniał": 3.0,
    "polecam": 2.5,
    "dobry": 2.0,
    "dobra": 2.0,
    "dobrze": 1.5,
    "najlepsz": 3.0,
    "brawo": 2.5,
    "pyszn": 2.5,
    "smaczn": 2.0,
    "kocham": 3.0,
    "uwielbiam": 3.0,
    "profesjonaln": 2.0,
    "szybko": 1.0,
    "zadowolon": 2.5,
    "fajn": 2.0,
}


@lru_cache(maxsize=1)
def _vader():
    from domain.vader import Vader  # the lexicon loads here, in a process that scores

    return Vader()


def guess_language(text: str) -> str:
    """Polish when the text has Polish letters, English otherwise: good enough to pick a lexicon
    when the listening tool sent no language."""
    return "pl" if _POLISH_LETTERS.search(text) else "en"


_POLISH_WORD = re.compile(r"[\wąćęłńóśźż]+")
_POLISH_NEGATIVE_STEMS = tuple((stem, valence) for stem, valence in _POLISH_NEGATIVE.items() if " " not in stem)


@lru_cache(maxsize=65536)
def _polish_valence(word: str) -> float | None:
    """The first negative stem the word starts with, else the first positive one (a word's valence
    depends on the word alone, and people repeat words: each is looked up once)."""
    valence = next((v for stem, v in _POLISH_NEGATIVE_STEMS if word.startswith(stem)), None)
    if valence is None:
        valence = next((v for stem, v in _POLISH_POSITIVE.items() if word.startswith(stem)), None)
    return valence


def polish_score(text: str) -> float:
    """Sum of the lexicon's valences (a word after a negator flips), squashed to -1…1 like VADER's compound."""
    lowered = " " + text.lower() + " "
    total = 0.0
    for phrase in ("nie działa", "nigdy więcej", "zwrot pieniędzy"):
        if phrase in lowered:
            total += _POLISH_NEGATIVE[phrase]
            lowered = lowered.replace(phrase, " ")
    words = _POLISH_WORD.findall(lowered)
    for position, word in enumerate(words):
        valence = _polish_valence(word)
        if valence is None:
            continue
        if position > 0 and words[position - 1] in ("nie", "nigdy", "bez"):
            valence = -0.75 * valence
        total += valence
    return total / (total * total + 15) ** 0.5  # VADER's normalisation, alpha = 15


def score(text: str, language: str | None) -> float | None:
    """-1…1, or None for a language we have no lexicon for."""
    language = (language or guess_language(text)).lower().split("-")[0]
    if language == "en":
        return _vader().polarity_scores(text)["compound"]
    if language == "pl":
        return polish_score(text)
    return None


def is_negative(value: float | None) -> bool:
    return value is not None and value <= NEGATIVE_AT
