"""VADER (``vaderSentiment`` 3.3.2, MIT licence) with two of its costs cut, giving the same scores.

VADER is pure Python and most of the CPU a batch of mentions costs (bench/findings.md). Two of its
steps did far more work than their answer needs, and are replaced here by code copied from
vaderSentiment with only that changed (tests/unit/test_vader.py compares every score with the
package's own analyzer):

- ``polarity_scores`` first rebuilt the text one character at a time, replacing each emoji by its
  description: about an eighth of its time, and for almost every mention a copy of the same text.
  One set operation at C speed tells whether any character is an emoji; when none is, the rest
  runs on the text as that pass would have left it (stripped).
- ``_negation_check`` asked ``negated([word])`` whether one word negates, which lowercases it and
  walks the list of 60 negations: a set lookup and a substring test answer the same.
"""

from vaderSentiment.vaderSentiment import BOOSTER_DICT, N_SCALAR, NEGATE, SentimentIntensityAnalyzer, SentiText

_NEGATIONS = frozenset(NEGATE)


def _negates(word: str) -> bool:
    """``vaderSentiment.negated([word])`` for a word already in lower case."""
    return word in _NEGATIONS or "n't" in word


class Vader(SentimentIntensityAnalyzer):
    def __init__(self) -> None:
        super().__init__()
        # the pass looks characters up one by one, so only single-character keys can ever match
        self._emoji_characters = frozenset(key for key in self.emojis if len(key) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_characters.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        sentitext = SentiText(text)
        sentiments: list[float] = []
        words_and_emoticons = sentitext.words_and_emoticons
        for i, item in enumerate(words_and_emoticons):
            valence = 0
            if item.lower() in BOOSTER_DICT:
                sentiments.append(valence)
                continue
            if i < len(words_and_emoticons) - 1 and item.lower() == "kind" and words_and_emoticons[i + 1].lower() == "of":
                sentiments.append(valence)
                continue
            sentiments = self.sentiment_valence(valence, sentitext, item, i, sentiments)
        sentiments = self._but_check(words_and_emoticons, sentiments)
        return self.score_valence(sentiments, text)

    @staticmethod
    def _negation_check(valence, words_and_emoticons, start_i, i):
        lower = [str(w).lower() for w in words_and_emoticons]
        if start_i == 0:
            if _negates(lower[i - (start_i + 1)]):  # 1 word preceding lexicon word (w/o stopwords)
                valence = valence * N_SCALAR
        if start_i == 1:
            if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
                pass  # "without doubt" keeps the valence
            elif _negates(lower[i - (start_i + 1)]):  # 2 words preceding the lexicon word position
                valence = valence * N_SCALAR
        if start_i == 2:
            if (
                lower[i - 3] == "never"
                and (lower[i - 2] == "so" or lower[i - 2] == "this")
                or (lower[i - 1] == "so" or lower[i - 1] == "this")
            ):
                valence = valence * 1.25
            elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                pass
            elif _negates(lower[i - (start_i + 1)]):  # 3 words preceding the lexicon word position
                valence = valence * N_SCALAR
        return valence
