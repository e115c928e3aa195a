"""The benchmark's percentiles (bench/stats.py): numpy's default, linear between closest ranks."""

import pytest

from bench.stats import percentile, summarize


def test_percentiles_of_one_to_a_hundred():
    samples = list(range(1, 101))
    assert percentile(samples, 0) == 1
    assert percentile(samples, 100) == 100
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 95) == pytest.approx(95.05)
    assert percentile(samples, 99) == pytest.approx(99.01)


def test_order_does_not_matter_and_the_input_is_left_alone():
    samples = [30.0, 10.0, 20.0, 40.0]
    assert percentile(samples, 50) == pytest.approx(25.0)
    assert percentile(samples, 25) == pytest.approx(17.5)
    assert samples == [30.0, 10.0, 20.0, 40.0]


def test_a_single_sample_is_every_percentile():
    assert percentile([7.5], 0) == percentile([7.5], 50) == percentile([7.5], 99) == 7.5


@pytest.mark.parametrize("q", [-1, 100.5])
def test_a_percentile_outside_0_to_100_is_refused(q):
    with pytest.raises(ValueError):
        percentile([1, 2, 3], q)


def test_no_samples_is_refused():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        summarize([])


def test_summary():
    summary = summarize([float(v) for v in range(1, 101)])
    assert summary.n == 100
    assert summary.p50 == pytest.approx(50.5)
    assert summary.p95 == pytest.approx(95.05)
    assert summary.p99 == pytest.approx(99.01)
    assert summary.max == 100
    assert summary.mean == pytest.approx(50.5)
