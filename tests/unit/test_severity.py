import pytest

from domain.severity import Level, Severity, severity_from_matrix

L, M, H, X = Level.LOW, Level.MEDIUM, Level.HIGH, Level.EXTREME

# impact (rows) × reach (columns), written out so the whole grid is visible at a glance.
GRID = {
    L: {L: Severity.SEV4, M: Severity.SEV4, H: Severity.SEV3, X: Severity.SEV1},
    M: {L: Severity.SEV4, M: Severity.SEV3, H: Severity.SEV2, X: Severity.SEV1},
    H: {L: Severity.SEV3, M: Severity.SEV2, H: Severity.SEV2, X: Severity.SEV1},
    X: {L: Severity.SEV1, M: Severity.SEV1, H: Severity.SEV1, X: Severity.SEV1},
}


@pytest.mark.parametrize(
    ("impact", "reach", "expected"),
    [(impact, reach, expected) for impact, row in GRID.items() for reach, expected in row.items()],
)
def test_severity_from_matrix(impact, reach, expected):
    assert severity_from_matrix(impact, reach) is expected


@pytest.mark.parametrize("other", list(Level))
def test_extreme_in_either_dimension_is_sev1(other):
    assert severity_from_matrix(Level.EXTREME, other) is Severity.SEV1
    assert severity_from_matrix(other, Level.EXTREME) is Severity.SEV1


@pytest.mark.parametrize("impact", list(Level))
@pytest.mark.parametrize("reach", list(Level))
def test_matrix_is_symmetric(impact, reach):
    assert severity_from_matrix(impact, reach) is severity_from_matrix(reach, impact)
