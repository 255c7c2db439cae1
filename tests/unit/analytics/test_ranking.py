"""Quartile labels, inquiry impact, focus metric and team comparison against pandas."""

import random
from datetime import UTC, datetime

import pandas as pd
import pytest

from extension.analytics.domain.kpi_ranking import (
    GOOD,
    GREAT,
    NEEDS_WORK,
    compare_with_team,
    focus_metric,
    kpis_by_inquiry,
    peer_kpis_by_inquiry,
    quartile_labels,
    quartile_labels_by,
    top_bottom_inquiries,
)
from tests.unit.analytics import reference
from tests.unit.analytics.generate import AGENTS, CLONES, NO_INTERACTIONS

TOL = 1e-9


def labels(values, lower=True):
    return quartile_labels(dict(enumerate(values)), lower_is_better=lower)


# ---- quartile edges, stated by example -------------------------------------------------------


def test_four_distinct_agents_get_one_great_two_good_one_needs_work():
    assert labels([10, 20, 30, 40]) == {0: GREAT, 1: GOOD, 2: GOOD, 3: NEEDS_WORK}


def test_higher_is_better_reverses_the_order():
    assert labels([10, 20, 30, 40], lower=False) == {0: NEEDS_WORK, 1: GOOD, 2: GOOD, 3: GREAT}


def test_a_single_agent_and_an_all_equal_field_are_good():
    assert labels([42]) == {0: GOOD}
    assert labels([7, 7, 7, 7, 7]) == dict.fromkeys(range(5), GOOD)


def test_two_agents_best_is_great_and_the_other_good():
    # with n=2 the second agent has 1 of 2 (50 %) better: not the bottom quarter (>= 75 %)
    assert labels([1, 2]) == {0: GREAT, 1: GOOD}


def test_three_agents():
    assert labels([1, 2, 3]) == {0: GREAT, 1: GOOD, 2: GOOD}


def test_five_agents_give_the_benefit_of_the_doubt_at_fractional_edges():
    assert labels([1, 2, 3, 4, 5]) == {0: GREAT, 1: GREAT, 2: GOOD, 3: GOOD, 4: NEEDS_WORK}


def test_a_tie_straddling_the_top_edge_shares_great():
    # 8 agents: Great needs fewer than 2 better; the three tied at 2 have 1 better
    values = [1, 2, 2, 2, 5, 6, 7, 8]
    result = labels(values)
    assert [result[i] for i in range(8)] == [GREAT, GREAT, GREAT, GREAT, GOOD, GOOD, NEEDS_WORK, NEEDS_WORK]


def test_a_tie_straddling_the_bottom_edge_shares_good():
    # 8 agents: Needs work needs 6 or more better; the tie at 6 has only 5 better
    values = [1, 2, 3, 4, 5, 6, 6, 8]
    result = labels(values)
    assert [result[i] for i in range(8)] == [GREAT, GREAT, GOOD, GOOD, GOOD, GOOD, GOOD, NEEDS_WORK]


def test_agents_without_a_value_get_no_label():
    assert quartile_labels({"a": 1.0, "b": None, "c": 3.0}) == {"a": GREAT, "c": GOOD}


@pytest.mark.parametrize("seed", range(200))
def test_labels_match_pandas_rank_on_small_tie_heavy_fields(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 13)
    values = {f"x{i}": float(rng.randint(1, 5)) for i in range(n)}
    lower = rng.random() < 0.5
    expected = reference.labels(pd.Series(values, dtype=float), lower=lower)
    assert quartile_labels(values, lower_is_better=lower) == expected


# ---- on the generated tenant ----------------------------------------------------------------


@pytest.mark.parametrize("metric", ["aes", "aht_s", "transfer_rate", "fcr_rate", "csat", "qa", "nps"])
def test_labels_per_inquiry_and_channel_match_pandas(records, metric):
    ours = quartile_labels_by(records, metric=metric)
    assert ours == reference.quartile_labels_by(records, metric=metric)
    for clone, original in CLONES.items():  # exact ties everywhere: always the same label
        for cell_labels in ours.values():
            assert cell_labels.get(clone) == cell_labels.get(original)


@pytest.mark.parametrize("agent", [a for a in AGENTS if a != NO_INTERACTIONS])
def test_top_and_bottom_inquiries_match_pandas(records, df, agent):
    mine = [r for r in records if r["agent_id"] == agent]
    peers = [r for r in records if r["agent_id"] != agent]
    ours = top_bottom_inquiries(mine, peers, n=3)
    top, bottom = reference.top_bottom(df, agent, n=3)
    assert [r["inquiry"] for r in ours["top"]] == [i for i, _ in top]
    assert [r["inquiry"] for r in ours["bottom"]] == [i for i, _ in bottom]
    for row, (_, impact) in zip(ours["top"] + ours["bottom"], top + bottom, strict=True):
        assert abs(row["impact"] - impact) <= TOL


def test_an_agent_with_no_interactions_has_no_top_or_bottom_inquiries(records):
    assert top_bottom_inquiries([], records) == {"top": [], "bottom": []}


def _r(agent, inquiry, channel, handle_s, p=1.0):
    predicted = channel != "email"
    return {
        "agent_id": agent,
        "inquiry": inquiry,
        "channel": channel,
        "t_handle_ms": handle_s * 1000,
        "p_satisfaction": p if predicted else None,
        "p_resolution": 1.0 if predicted else None,
        "ended_at": datetime(2025, 3, 3, tzinfo=UTC),
    }


def test_impact_is_volume_weighted_per_channel_and_email_is_compared_with_email():
    mine = (
        [_r("me", "billing", "voice", 200)] * 3
        + [_r("me", "tech", "voice", 400)]
        + [_r("me", "tech", "email", 100)]
    )
    peers = [_r("p", "billing", "voice", 300), _r("p", "tech", "voice", 300), _r("p", "tech", "email", 300)]
    result = top_bottom_inquiries(mine, peers, n=3)
    # billing: (200-300)*3/5 = -60; tech: (400-300)*1/5 + (100-300)*1/5 = -20
    assert [(r["inquiry"], r["impact"]) for r in result["top"]] == [("billing", -60.0), ("tech", -20.0)]
    assert result["top"][1]["fallback"] == "aht"
    assert result["bottom"] == []


def test_focus_metric_matches_pandas(records, df):
    for agent in ("a00", "a05", "a17", "a38"):
        mine = [r for r in records if r["agent_id"] == agent]
        peers = [r for r in records if r["agent_id"] != agent]
        ours = focus_metric(kpis_by_inquiry(mine), peer_kpis_by_inquiry(peers))
        expected = reference.focus(df, agent)
        assert {i: (f and f["metric"]) for i, f in ours.items()} == expected


def test_focus_is_the_largest_standardized_gap_in_the_worse_direction():
    agent = {"billing": {"aht_s": 400.0, "csat": 2.0, "qa": 90.0}}
    peers = {
        "billing": [{"aht_s": 300.0, "csat": 4.0, "qa": 80.0}, {"aht_s": 340.0, "csat": 4.4, "qa": 70.0}]
    }
    result = focus_metric(agent, peers, metrics=("aht_s", "csat", "qa"))
    # aht: (400-320)/20 = 4; csat: (4.2-2)/0.2 = 11; qa is better than peers
    assert result["billing"]["metric"] == "csat"
    assert result["billing"]["gap"] == pytest.approx(11)


def test_no_focus_when_better_everywhere_or_peers_do_not_vary():
    peers = {"x": [{"aht_s": 300.0}, {"aht_s": 300.0}]}
    assert focus_metric({"x": {"aht_s": 900.0}}, peers, metrics=("aht_s",)) == {"x": None}
    assert focus_metric(
        {"x": {"aht_s": 1.0}}, {"x": [{"aht_s": 2.0}, {"aht_s": 4.0}]}, metrics=("aht_s",)
    ) == {"x": None}


def test_team_comparison_matches_pandas(records, df):
    team = [r for r in records if r["team_id"] == "t1"]
    ours = compare_with_team("a00", team)
    per_agent = {a: reference.summary(g) for a, g in df[df["team_id"] == "t1"].groupby("agent_id")}
    for metric, got in ours.items():
        values = pd.Series({a: s[metric] for a, s in per_agent.items()}, dtype=float).dropna()
        ordered = values.sort_values(ascending=reference.LOWER_IS_BETTER[metric], kind="stable")
        best = ordered[ordered == ordered.iloc[0]].index.min()
        assert abs(got["team_average"] - values.mean()) <= TOL
        assert got["top_agent"] == best
        assert abs(got["agent"] - per_agent["a00"][metric]) <= TOL
