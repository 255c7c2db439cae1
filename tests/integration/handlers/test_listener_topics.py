"""The listener subscribes only topics whose events the app routes, so a channel carries more
agents."""

from __future__ import annotations

import pytest

from extension.platform.models.people import Person
from handlers import listener_pool
from handlers.listener_pool import ListenerPool, shard, shard_count

EVALUATIONS = "v2.quality.evaluations"
AGENTS = 18


@pytest.fixture
def agents(app):
    from extension.platform import tenants

    with app.extensions["coachwire.db"].session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Topics", tenant_id="tpc",
                       api_base="https://api.example.test", login_base="https://login.example.test",
                       client_id="c", client_secret="s")
        session.add_all(Person(tenant_id="tpc", id=f"agent-{n:02d}", name=f"Agent {n}",
                               role="agent") for n in range(AGENTS))
    return [f"agent-{n:02d}" for n in range(AGENTS)]


def test_no_topic_is_subscribed_for_an_event_nothing_routes(app, agents):
    router = app.extensions["coachwire.router"]
    assert router.routes("evaluation.changed")  # the quality capability mirrors evaluations
    assert not router.routes("schedule.changed") and not router.routes("coaching.changed")
    topics = ListenerPool(app).topics_for("tpc")
    assert topics == [EVALUATIONS]  # no per-agent topic: nothing handles them today


def test_agents_per_channel_grow_with_the_topics_dropped(app, agents, monkeypatch):
    monkeypatch.setattr(listener_pool, "MAX_TOPICS_PER_CHANNEL", 10)
    app.extensions["coachwire.router"].add(lambda event, *args: None, "coaching.changed")
    topics = ListenerPool(app).topics_for("tpc")
    assert topics[0] == EVALUATIONS
    assert sorted(topics[1:]) == sorted(f"v2.users.{a}.wem.coaching.notification" for a in agents)
    # one topic per agent, not two: 19 topics fit 2 channels of 10 (37 would need 4)
    assert shard_count(topics, "tpc") == 2
    channels = [shard(topics, i) for i in range(2)]
    assert [len(c) for c in channels] == [10, 9]
    assert sum(t.startswith("v2.users.") for c in channels for t in c) == AGENTS


def test_a_keyed_route_counts_as_handled(app):
    app.extensions["coachwire.router"].add(lambda event, *args: None, "schedule.changed",
                                           status="published")
    assert app.extensions["coachwire.router"].routes("schedule.changed")
