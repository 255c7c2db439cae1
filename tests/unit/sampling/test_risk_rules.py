"""Risk rules: a worked example for each, the handle-time band per inquiry, ranking and the cap."""

from datetime import timedelta

import numpy as np
import pytest

from extension.sampling.domain.frame import to_frame
from extension.sampling.domain.risk import inquiry_fences
from extension.sampling.domain.selection import parse_plan, select
from tests.unit.sampling.builders import MONTH_END, MONTH_START, month, plan, record

MINUTE = 60_000


def risk_plan(*rules, count=100, max_per_agent=None):
    """Only the risk component, a budget big enough for every candidate, no top-ups."""
    risk = {"rules": list(rules)}
    if max_per_agent:
        risk["max_per_agent"] = max_per_agent
    return plan(mix={"risk": 1.0, "random": 0.0}, budget={"count": count}, min_per_agent=0,
                targeted={"per_agent": 0}, risk=risk)


def risk_picks(records, doc, **kwargs):
    selection = select(records, doc, seed=1, period_start=MONTH_START, period_end=MONTH_END, **kwargs)
    return {p.conversation_id: p.reasons for p in selection.picks if p.component == "risk"}


@pytest.mark.parametrize(
    ("rule", "fires", "quiet"),
    [
        ({"id": "negative_sentiment"}, {"customer_sentiment": -0.3}, {"customer_sentiment": -0.29}),
        ({"id": "negative_sentiment", "threshold": 0.0}, {"customer_sentiment": -0.01},
         {"customer_sentiment": None}),
        ({"id": "falling_sentiment"}, {"sentiment_trend": -0.5}, {"sentiment_trend": -0.1}),
        ({"id": "escalation"}, {"escalation": True}, {"escalation": None}),
        ({"id": "compliance_miss"}, {"compliance_miss": True}, {"compliance_miss": False}),
        ({"id": "transfer"}, {"transferred": True}, {"transferred": False}),
        ({"id": "repeat_contact"}, {"repeat_contact": True}, {"repeat_contact": False}),
        ({"id": "low_csat"}, {"csat": 2}, {"csat": 3}),
        ({"id": "low_csat"}, {"csat": 1}, {"csat": None}),  # no survey is not a bad survey
    ],
)
def test_each_rule_fires_on_its_worked_example_and_not_on_the_near_miss(rule, fires, quiet):
    records = [record(1, **fires), record(2, **quiet), record(3)]
    assert risk_picks(records, risk_plan(rule)) == {"c1": (f"risk:{rule['id']}",)}


def handle_time_records():
    """One inquiry, 22 handle times: 1, 10..29 and 60 minutes.

    numpy-style linear quartiles over the sorted values: Q1 at position 0.25*21 = 5.25 -> 14.25,
    Q3 at 15.75 -> 24.75, IQR 10.5. With k = 1.5 the fences are -1.5 and 40.5 (60 is long, 1 is
    not short); with k = 0.5 they are 9 and 30 (1 is short, 10 is not)."""
    minutes = [1, *range(10, 30), 60]
    return [record(m, conversation_id=f"m{m}", t_handle_ms=m * MINUTE) for m in minutes]


def test_long_handle_time_is_judged_against_the_inquirys_fences():
    picks = risk_picks(handle_time_records(), risk_plan({"id": "long_handle_time"}))
    assert picks == {"m60": ("risk:long_handle_time",)}


def test_short_handle_time_with_a_tighter_fence():
    picks = risk_picks(handle_time_records(), risk_plan({"id": "short_handle_time", "iqr_k": 0.5}))
    assert picks == {"m1": ("risk:short_handle_time",)}


def test_handle_time_fences_are_per_inquiry():
    # 60 minutes is an outlier for billing but typical for a technical fault.
    faults = [record(100 + i, conversation_id=f"f{i}", inquiry="fault", t_handle_ms=(50 + i) * MINUTE)
              for i in range(21)]
    picks = risk_picks(handle_time_records() + faults, risk_plan({"id": "long_handle_time"}))
    assert picks == {"m60": ("risk:long_handle_time",)}


def test_small_inquiries_get_no_band():
    records = handle_time_records()
    doc = risk_plan({"id": "long_handle_time", "min_inquiry_size": 23})
    assert risk_picks(records, doc) == {}


def test_fences_match_numpy_percentiles_per_inquiry():
    data = month(size=5_000, agents=20, seed=4, inquiries=7)
    frame = to_frame(data)
    low, high = inquiry_fences(frame, in_period=np.ones(frame.size, dtype=bool), k=1.5, min_size=20)
    for code, inquiry in enumerate(frame.labels["inquiry"]):
        values = data["t_handle_ms"][data["inquiry"] == inquiry]
        q1, q3 = np.percentile(values, [25, 75])
        assert (low[code], high[code]) == pytest.approx((q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)))


def test_every_fired_rule_is_listed_in_plan_order():
    records = [record(1, escalation=True, transferred=True, csat=1), record(2)]
    doc = risk_plan({"id": "low_csat"}, {"id": "transfer"}, {"id": "escalation"})
    assert risk_picks(records, doc) == {"c1": ("risk:low_csat", "risk:transfer", "risk:escalation")}


def test_higher_weighted_score_wins_when_candidates_exceed_the_quota():
    records = [record(1, transferred=True), record(2, compliance_miss=True),
               record(3, transferred=True, repeat_contact=True)]
    doc = risk_plan({"id": "transfer"}, {"id": "repeat_contact"}, {"id": "compliance_miss", "weight": 5},
                    count=2)
    assert set(risk_picks(records, doc)) == {"c2", "c3"}  # scores 5 and 2 beat 1


def test_cap_per_agent_spreads_the_risk_quota_over_agents():
    records = [record(i, agent_id="a1", escalation=True) for i in range(5)]
    records += [record(10 + i, agent_id="a2", escalation=True) for i in range(2)]
    picks = risk_picks(records, risk_plan({"id": "escalation"}, count=4, max_per_agent=2))
    agents = sorted(r["agent_id"] for r in records if r["conversation_id"] in picks)
    assert agents == ["a1", "a1", "a2", "a2"]


def test_unspent_risk_quota_passes_to_random():
    records = [record(i, ended_at=MONTH_START + timedelta(hours=i)) for i in range(50)]
    records[0]["escalation"] = True
    doc = plan(mix={"risk": 0.5, "random": 0.5}, budget={"count": 10}, min_per_agent=0,
               risk={"rules": [{"id": "escalation"}]})
    selection = select(records, parse_plan(doc), seed=3, period_start=MONTH_START, period_end=MONTH_END)
    assert selection.counts["risk"] == 1 and selection.counts["random"] == 9
    assert selection.risk_candidates == 1
