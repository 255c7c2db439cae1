"""WFM's asynchronous answers (Processing, downloadUrl) against the sandbox host: read, waited
for within a bound, then a transient error; never taken for an empty schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.errors import Transient
from connectors.genesys import GenesysClient
from extension.coaching import wfm_data
from sandbox.app import create_app as create_sandbox
from sandbox.state import Config
from tests.helpers import serving

NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)


@pytest.fixture
def host(request):
    app = create_sandbox(seed=7, now=NOW, config=Config(**getattr(request, "param", {})))
    waits: list[float] = []
    with serving(app) as base:
        client = GenesysClient(api_base=base, login_base=base, client_id="sandbox-client",
                               client_secret="sandbox-secret", tenant_key="wfm-async",
                               sleep=waits.append)
        yield client, app.extensions["sandbox"].world, base, waits


def _expected(world, agent_id, start, end):
    return {a.start for s in world.shifts_of(agent_id) for a in s.activities if start <= a.start < end}


def _found(picture, start, end):
    return {a["start"] for a in picture.activities if start <= a["start"] < end}


def test_processing_answers_are_asked_again_and_give_the_schedule(host):
    client, world, base, waits = host
    agent, start, end = world.agents[0].id, NOW, NOW + timedelta(days=3)
    requests.post(f"{base}/sandbox/control/wfm", json={"processing": 2}, timeout=5)
    picture = wfm_data.gather(client, agent_id=agent, start=start, end=end, with_staffing=False)
    assert _found(picture, start, end) == _expected(world, agent, start, end) != set()
    assert waits == [1.0, 2.0]


def test_a_result_still_processing_after_the_wait_is_a_transient_error(host):
    client, world, base, waits = host
    requests.post(f"{base}/sandbox/control/wfm", json={"processing": 50}, timeout=5)
    with pytest.raises(Transient):
        wfm_data.gather(client, agent_id=world.agents[0].id, start=NOW,
                        end=NOW + timedelta(days=1), with_staffing=False)
    assert waits == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("host", [{"wfm_async_rate": 0.7}], indirect=True)
def test_seeded_async_answers_give_the_same_schedule_as_inline_ones(host):
    client, world, _, _ = host
    start, end = NOW, NOW + timedelta(days=9)
    for agent in [a.id for a in world.agents[:3]]:
        picture = wfm_data.gather(client, agent_id=agent, start=start, end=end,
                                  with_staffing=False)
        assert _found(picture, start, end) == _expected(world, agent, start, end) != set()
