"""select: determinism, the period, already-sampled work, targets, minimums and explanations."""

from datetime import timedelta

import numpy as np
import pytest

from extension.sampling.domain.selection import COMPONENTS, parse_plan, select
from tests.unit.sampling.builders import MONTH_END, MONTH_START, month, plan, random_only, record

PLAN = parse_plan(plan())


@pytest.fixture(scope="module")
def data():
    return month(size=20_000, agents=120, seed=11)


def run(interactions, doc=PLAN, *, seed=5, **kwargs):
    return select(interactions, doc, seed=seed, period_start=MONTH_START, period_end=MONTH_END, **kwargs)


def test_the_same_seed_gives_the_same_selection(data):
    first, second = run(data, seed=42), run(data, seed=42)
    assert first.picks == second.picks
    assert first.agents == second.agents


def test_another_seed_gives_another_selection(data):
    assert {p.conversation_id for p in run(data, seed=1).picks} != {p.conversation_id for p in
                                                                     run(data, seed=2).picks}


def test_string_seeds_are_stable(data):
    assert run(data, seed="tenant-7:2025-06").picks == run(data, seed="tenant-7:2025-06").picks


def test_records_and_columns_select_the_same_interactions(data):
    size = 2_000
    columns = {name: values[:size] for name, values in data.items()}
    records = [{name: columns[name][i].item() if name != "ended_at" else
                columns[name][i].astype("datetime64[us]").item() for name in columns} for i in range(size)]
    assert run(records).picks == run(columns).picks


def test_every_active_agent_gets_the_minimum(data):
    selection = run(data)
    assert len(selection.agents) == len(np.unique(data["agent_id"]))
    for allocation in selection.agents.values():
        assert allocation.total >= PLAN.min_per_agent or allocation.shortfall > 0
        assert allocation.total + allocation.shortfall >= PLAN.min_per_agent


def test_an_agent_with_too_few_interactions_gets_all_of_them_and_a_shortfall():
    records = [record(1, agent_id="busy")] + [record(2 + i, agent_id="busy") for i in range(30)]
    records += [record(100, agent_id="new"), record(101, agent_id="new")]
    selection = run(records, plan(min_per_agent=4, budget={"count": 0}))
    assert selection.agents["new"].fairness == 2 and selection.agents["new"].shortfall == 2
    assert selection.agents["busy"].total == 4 and selection.agents["busy"].shortfall == 0


def test_fairness_top_ups_are_spread_over_the_agents_channels():
    records = [record(i, channel="voice") for i in range(30)] + [record(100 + i, channel="chat")
                                                                for i in range(10)]
    selection = run(records, random_only(rate=0.0001, minimum=8))
    channels = sorted(p.reasons[1] for p in selection.picks)
    assert channels == ["stratum:channel=chat"] * 2 + ["stratum:channel=voice"] * 6


def test_only_interactions_ending_in_the_period_count():
    inside = [record(i) for i in range(10)]
    before = [record(50, ended_at=MONTH_START - timedelta(seconds=1), agent_id="gone")]
    at_end = [record(51, ended_at=MONTH_END, agent_id="gone")]
    selection = run(inside + before + at_end, random_only(rate=1.0))
    assert {p.conversation_id for p in selection.picks} == {f"c{i}" for i in range(10)}
    assert set(selection.agents) == {"a1"}


def test_a_window_longer_than_the_plans_period_is_refused():
    with pytest.raises(ValueError, match="longer than one week"):
        select([record(1)], plan(period="week"), seed=1, period_start=MONTH_START, period_end=MONTH_END)
    with pytest.raises(ValueError, match="before"):
        select([record(1)], PLAN, seed=1, period_start=MONTH_END, period_end=MONTH_START)


def test_already_sampled_interactions_are_not_picked_again_and_count_toward_the_minimum():
    records = [record(i) for i in range(20)]
    selection = run(records, random_only(rate=0.0001, minimum=4), already_sampled={"c0", "c1", "c2"})
    assert {"c0", "c1", "c2"}.isdisjoint(p.conversation_id for p in selection.picks)
    assert selection.agents["a1"].already_sampled == 3
    assert selection.agents["a1"].fairness == 1 and selection.agents["a1"].total == 4


def test_agents_on_a_coaching_plan_get_targeted_picks(data):
    coached = frozenset({int(data["agent_id"][0]), int(data["agent_id"][1]), 99_999})  # one unknown
    selection = run(data, coaching_agents=coached)
    targeted = [p for p in selection.picks if p.component == "targeted"]
    assert {p.agent_id for p in targeted} == coached - {99_999}
    assert len(targeted) == PLAN.targeted_per_agent * 2
    assert all(p.reasons == ("target:coaching_plan",) for p in targeted)


def test_every_pick_says_why(data):
    selection = run(data, coaching_agents=frozenset({int(data["agent_id"][0])}))
    prefix = {"risk": "risk:", "random": "stratum:agent_id|channel=", "targeted": "target:",
              "fairness": "fairness:minimum"}
    assert {p.component for p in selection.picks} == set(COMPONENTS)
    for pick in selection.picks:
        assert pick.reasons and pick.reasons[0].startswith(prefix[pick.component])


def test_picks_are_unique_and_match_their_rows(data):
    selection = run(data)
    ids = [p.conversation_id for p in selection.picks]
    assert len(ids) == len(set(ids))
    assert list(data["conversation_id"][selection.rows]) == ids
    assert list(data["agent_id"][selection.rows]) == [p.agent_id for p in selection.picks]


def test_budget_and_mix(data):
    selection = run(data)
    assert selection.budget == round(0.02 * len(data["agent_id"]))
    assert selection.counts["risk"] == round(0.4 * selection.budget)
    assert selection.counts["risk"] + selection.counts["random"] == selection.budget


def test_string_ids_that_sort_like_the_integers_give_the_same_selection(data):
    """Codes follow the sorted labels, so the id type does not change what is picked."""
    as_text = {**data, "agent_id": np.char.add("agent-", np.char.zfill(data["agent_id"].astype(str), 5)),
               "queue_id": np.char.zfill(data["queue_id"].astype(str), 3)}
    by_int, by_text = run(data), run(as_text)
    assert [p.conversation_id for p in by_int.picks] == [p.conversation_id for p in by_text.picks]
    assert [p.agent_id for p in by_text.picks][:2] == [f"agent-{p.agent_id:05d}" for p in by_int.picks][:2]


def test_an_empty_period_selects_nothing():
    assert run([]).counts == {"risk": 0, "random": 0, "targeted": 0, "fairness": 0}
    late = run([record(1, ended_at=MONTH_END)])
    assert late.picks == () and late.agents == {}


def test_already_sampled_ids_of_another_type_match_nothing(data):
    selection = run(data, already_sampled={"7", 3})
    assert sum(a.already_sampled for a in selection.agents.values()) == 1
    assert 3 not in {p.conversation_id for p in selection.picks}
