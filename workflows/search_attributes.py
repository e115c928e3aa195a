"""The custom search attributes that make incidents findable in the Temporal UI."""

from temporalio.common import SearchAttributeKey

CRISIS_SCENARIO = SearchAttributeKey.for_keyword("CrisisScenario")
CRISIS_SEVERITY = SearchAttributeKey.for_keyword("CrisisSeverity")
CRISIS_PHASE = SearchAttributeKey.for_keyword("CrisisPhase")
CRISIS_DRILL = SearchAttributeKey.for_bool("CrisisDrill")

ALL = [CRISIS_SCENARIO, CRISIS_SEVERITY, CRISIS_PHASE, CRISIS_DRILL]


def dev_server_flags() -> list[str]:
    """``--search-attribute Name=Type`` for ``temporal server start-dev``."""
    flags = []
    for key in ALL:
        kind = "Bool" if key is CRISIS_DRILL else "Keyword"
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags
