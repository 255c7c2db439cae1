"""Margin of error and required sample size, against hand computation with printed table values.

scipy is not installed, so the independent reference is the standard two-sided critical values
printed in statistics tables (t_{0.975} and t_{0.995} by degrees of freedom, z = 1.960 and 2.576),
and the formulas written out longhand here.
"""

import math

import pytest

from extension.sampling.domain.selection import margin_of_error, parse_plan, required_sample, select
from extension.sampling.domain.stats import normal_quantile, t_quantile
from tests.unit.sampling.builders import MONTH_END, MONTH_START, plan, record

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262, 10: 2.228, 19: 2.093, 29: 2.045,
         30: 2.042, 31: 2.040, 60: 2.000, 120: 1.980}
T_995 = {1: 63.657, 4: 4.604, 9: 3.250, 29: 2.756, 120: 2.617}


@pytest.mark.parametrize(("df", "value"), sorted(T_975.items()))
def test_t_quantile_matches_the_95_percent_table(df, value):
    assert t_quantile(0.95, df) == pytest.approx(value, abs=6e-4)


@pytest.mark.parametrize(("df", "value"), sorted(T_995.items()))
def test_t_quantile_matches_the_99_percent_table(df, value):
    assert t_quantile(0.99, df) == pytest.approx(value, abs=6e-4)


def test_large_degrees_of_freedom_approach_the_normal_and_join_smoothly():
    assert normal_quantile(0.95) == pytest.approx(1.960, abs=5e-4)
    assert normal_quantile(0.99) == pytest.approx(2.576, abs=5e-4)
    assert t_quantile(0.95, 300) == pytest.approx(t_quantile(0.95, 301), abs=1e-4)
    assert t_quantile(0.95, 300) > t_quantile(0.95, 301) > t_quantile(0.95, 5_000) > normal_quantile(0.95)


def test_margin_of_error_worked_example():
    """Scores 70, 80, 90, 85, 75: mean 80, squared deviations 250, s^2 = 62.5, s = 7.9057.
    t(4) = 2.776; of N = 20 interactions, FPC = sqrt(15/19) = 0.88852.
    Margin = 2.776 * 7.9057 / sqrt(5) * 0.88852 = 8.721 points."""
    scores = [70, 80, 90, 85, 75]
    hand = 2.776 * math.sqrt(62.5) / math.sqrt(5) * math.sqrt(15 / 19)
    assert hand == pytest.approx(8.721, abs=1e-3)
    assert margin_of_error(scores, population=20) == pytest.approx(hand, rel=2e-4)


def test_fpc_vanishes_for_a_large_population_and_zeroes_a_census():
    scores = [70, 80, 90, 85, 75]
    without_fpc = 2.776 * math.sqrt(62.5) / math.sqrt(5)
    assert margin_of_error(scores, population=10**9) == pytest.approx(without_fpc, rel=2e-4)
    assert margin_of_error(scores, population=5) == 0.0


def test_fewer_than_two_scores_use_the_prior_sd_with_the_normal_quantile():
    # One score of 200 interactions, prior SD 15: 1.960 * 15 / 1 * sqrt(199/199) = 29.40.
    hand = 1.96 * 15 * math.sqrt(199 / 199)
    assert margin_of_error([88], population=200, prior_sd=15) == pytest.approx(hand, rel=2e-4)
    assert margin_of_error([88], population=200) == math.inf
    assert margin_of_error([], population=200, prior_sd=15) == math.inf


def test_more_scores_than_interactions_is_an_error():
    with pytest.raises(ValueError):
        margin_of_error([1, 2, 3], population=2)


def test_required_sample_worked_example():
    """SD 15, target +-5 at 95%, N = 200. Cochran: n0 = (1.96 * 15 / 5)^2 = 34.57,
    n = 34.57 / (1 + 33.57 / 200) = 29.6 -> 30. With t: at 30, 2.045 * 15/sqrt(30) * sqrt(170/199)
    = 5.18; at 31, 2.042 * ... = 5.07; at 32, 2.040 * 15/sqrt(32) * sqrt(168/199) = 4.97 <= 5."""
    def hand(n):
        return T_975[n - 1] * 15 / math.sqrt(n) * math.sqrt((200 - n) / 199)

    assert hand(31) > 5 >= hand(32)
    assert required_sample(15, population=200, margin=5) == 32


def test_required_sample_reaches_the_target_and_one_less_does_not():
    for sd, population, target in [(8, 50, 4), (12, 1_000, 3), (20, 400, 5), (5, 30, 1)]:
        n = required_sample(sd, population=population, margin=target)
        assert margin_of_error(_scores_with_sd(sd, n), population=population) <= target + 1e-9
        if 2 < n < population:
            assert margin_of_error(_scores_with_sd(sd, n - 1), population=population) > target


def _scores_with_sd(sd, n):
    """n scores around 70 whose sample standard deviation is exactly ``sd``."""
    signs = [(-1) ** i for i in range(n)]
    mean = sum(signs) / n
    spread = math.sqrt(sum((s - mean) ** 2 for s in signs) / (n - 1))
    return [70 + s * sd / spread for s in signs]


def test_required_sample_is_bounded_by_the_population():
    assert required_sample(30, population=12, margin=0.5) == 12
    assert required_sample(30, population=2, margin=5) == 2
    assert required_sample(0, population=500, margin=5) == 2
    with pytest.raises(ValueError):
        required_sample(10, population=100, margin=0)


def test_the_selection_reports_precision_per_agent():
    records = [record(i, agent_id="a1") for i in range(40)]
    records += [record(100 + i, agent_id="a2") for i in range(9)]
    doc = parse_plan(plan(min_per_agent=4, budget={"count": 0}, precision={"margin": 5, "prior_sd": 12}))
    selection = select(records, doc, seed=1, period_start=MONTH_START, period_end=MONTH_END)
    report = {line.agent_id: line for line in selection.precision({"a1": [70, 80, 90, 85, 75]}, plan=doc)}

    a1, a2 = report["a1"], report["a2"]
    assert (a1.population, a1.sampled, a1.scored, a1.sd_source) == (40, 5, 5, "observed")
    assert a1.margin == pytest.approx(2.776 * math.sqrt(62.5 / 5) * math.sqrt(35 / 39), rel=2e-4)
    assert a1.required == required_sample(math.sqrt(62.5), population=40, margin=5)
    assert a1.additional_needed == a1.required - 5 and not a1.meets_target
    assert (a2.sampled, a2.scored, a2.sd, a2.sd_source, a2.margin) == (4, 0, 12, "prior", math.inf)
    assert a2.projected_margin == pytest.approx(3.182 * 12 / 2 * math.sqrt(5 / 8), rel=2e-4)
