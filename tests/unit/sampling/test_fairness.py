"""No agent is sampled disproportionately by chance: the rounding's guarantees, checked."""

from collections import Counter

import numpy as np
import pytest

from extension.sampling.domain.alloc import grouped_counts, systematic_positions
from extension.sampling.domain.selection import parse_plan, select
from tests.unit.sampling.builders import MONTH_END, MONTH_START, month, random_only

SEEDS = 150


class FixedOffset:
    """Stands in for the generator so every offset can be enumerated (exact expectations)."""

    def __init__(self, fraction):
        self.fraction = fraction

    def random(self, size):
        return np.full(size, self.fraction)


def test_systematic_rounding_is_exactly_unbiased_and_within_one():
    sizes = np.array([7, 1, 13, 2, 2, 40, 5])
    total, population = 9, int(sizes.sum())
    expected = total * sizes / population
    tally = np.zeros(len(sizes))
    for offset in range(population):  # every equally likely integer offset in [0, N)
        counts = grouped_counts(sizes, group=np.zeros(len(sizes), dtype=np.int64), totals=np.array([total]),
                                rng=FixedOffset((offset + 0.5) / population))
        assert counts.sum() == total
        assert np.all((counts == np.floor(expected)) | (counts == np.ceil(expected)))
        tally += counts
    assert tally / population == pytest.approx(expected, abs=1e-12)


def test_grouped_rounding_gives_each_group_its_own_total():
    sizes = np.array([3, 5, 2, 10, 10])
    group = np.array([0, 0, 0, 1, 1])
    counts = grouped_counts(sizes, group=group, totals=np.array([4, 3]), rng=np.random.default_rng(1))
    assert counts[:3].sum() == 4 and counts[3:].sum() == 3
    assert set(counts[3:]) <= {1, 2}


def test_systematic_positions_are_distinct_evenly_spaced_and_each_row_equally_likely():
    seen = Counter()
    rng = np.random.default_rng(3)
    for _ in range(4_000):
        positions = systematic_positions(np.array([0]), sizes=np.array([10]), counts=np.array([3]), rng=rng)
        assert len(set(positions.tolist())) == 3 and np.all(np.diff(positions) >= 3)
        seen.update(positions.tolist())
    shares = np.array([seen[i] for i in range(10)]) / 4_000
    assert shares == pytest.approx(np.full(10, 0.3), abs=0.03)


@pytest.fixture(scope="module")
def selections():
    """Random-only selections of one month over many seeds (uneven agent volumes)."""
    data = month(size=12_000, agents=40, seed=8)
    doc = parse_plan(random_only(rate=0.02))
    runs = [select(data, doc, seed=seed, period_start=MONTH_START, period_end=MONTH_END)
            for seed in range(SEEDS)]
    return data, runs


def test_no_agent_ever_exceeds_the_cap_or_falls_below_the_floor(selections):
    _, runs = selections
    for selection in runs:
        for allocation in selection.agents.values():
            assert allocation.random <= allocation.random_cap
            assert allocation.random >= np.floor(allocation.random_expected + 1e-9)


def test_each_agents_expected_share_of_random_picks_matches_their_volume_share(selections):
    data, runs = selections
    agents, volume = np.unique(data["agent_id"], return_counts=True)
    volume_share = volume / volume.sum()
    picks = np.array([[run.agents[a].random for a in agents.tolist()] for run in runs])
    observed_share = picks.mean(axis=0) / runs[0].counts["random"]
    # Per seed a count is floor or ceil of its share (variance <= 1/4), so the mean over SEEDS
    # seeds has a standard error of at most 0.5 / sqrt(SEEDS) picks.
    tolerance = 5 * 0.5 / np.sqrt(SEEDS) / runs[0].counts["random"]
    assert np.max(np.abs(observed_share - volume_share)) < tolerance


def test_every_stratum_gets_its_proportional_share_within_one(selections):
    data, runs = selections
    columns = (data["agent_id"].tolist(), data["channel"].tolist(), data["queue_id"].tolist())
    key = list(zip(*columns, strict=True))
    sizes = Counter(key)
    total = runs[0].counts["random"]
    picked = Counter(key[row] for row in runs[0].rows.tolist())
    for stratum, size in sizes.items():
        share = total * size / len(key)
        assert np.floor(share) <= picked[stratum] <= np.ceil(share)


def test_random_picks_are_spread_over_the_month(selections):
    data, runs = selections
    days = (data["ended_at"][np.concatenate([r.rows for r in runs])] - np.datetime64("2025-06-01")) \
        // np.timedelta64(1, "D")
    per_day = np.bincount(days.astype(int), minlength=30)
    assert per_day.min() > 0.6 * per_day.mean()
