"""A word diff for people: what changed between two statement texts, as runs of kept, added and
removed words (whitespace kept with the word before it), for the pages to highlight."""

import difflib
import re

WORD = re.compile(r"\S+\s*|\s+")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``[("same" | "added" | "removed", text), ...]`` turning ``before`` into ``after``; adjacent
    runs of one kind are joined. Empty when ``before`` is empty (nothing to compare against)."""
    if not before:
        return []
    old, new = WORD.findall(before), WORD.findall(after)
    runs: list[tuple[str, str]] = []

    def add(kind: str, words: list[str]) -> None:
        if not words:
            return
        text = "".join(words)
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + text)
        else:
            runs.append((kind, text))

    matcher = difflib.SequenceMatcher(a=[w.strip() for w in old], b=[w.strip() for w in new], autojunk=False)
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "equal":
            add("same", new[b1:b2])
        else:
            add("removed", old[a1:a2])
            add("added", new[b1:b2])
    return runs
