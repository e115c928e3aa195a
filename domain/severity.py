"""Severity levels and the matrix that turns an assessment of impact and reach into one."""

from enum import StrEnum


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class Level(StrEnum):
    """How bad one dimension of an assessment is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    EXTREME = "extreme"


_SCORE = {Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3, Level.EXTREME: 4}


def severity_from_matrix(impact: Level, reach: Level) -> Severity:
    """Impact on reputation or customers × how far it has spread.

    Either dimension at its extreme makes the incident SEV1: a hacked account posting to millions,
    or a small story that accuses the company of harming people, both need the whole team now.
    Otherwise the product of the two scores picks the level (1–16 → SEV4…SEV2).
    """
    if Level.EXTREME in (impact, reach):
        return Severity.SEV1
    score = _SCORE[impact] * _SCORE[reach]
    if score >= 6:
        return Severity.SEV2
    if score >= 3:
        return Severity.SEV3
    return Severity.SEV4
