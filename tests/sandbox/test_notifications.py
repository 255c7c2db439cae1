"""Notification channels over a real server: heartbeats, pushed events, drops and expiry."""

import json

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.sandbox.conftest import BASIC

TOPIC = "v2.users.{}.wem.coaching.notification"


@pytest.fixture
def session(live):
    base, _app = live
    token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": BASIC}, timeout=5).json()["access_token"]
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def _channel(base, session, topics):
    channel = session.post(f"{base}/api/v2/notifications/channels", timeout=5).json()
    put = session.put(f"{base}/api/v2/notifications/channels/{channel['id']}/subscriptions",
                      json=[{"id": t} for t in topics], timeout=5)
    assert put.status_code == 200, put.text
    return channel


def _next(ws, timeout=3.0):
    return json.loads(ws.recv(timeout=timeout))


def _frames_until(ws, wanted, *, count=1, seconds=20.0):
    """Frames read until `count` of them satisfy `wanted` (heartbeats interleave freely, and
    under load several may arrive before the event)."""
    import time

    frames, deadline = [], time.monotonic() + seconds
    while sum(1 for f in frames if wanted(f)) < count and time.monotonic() < deadline:
        frames.append(_next(ws, timeout=max(0.1, deadline - time.monotonic())))
    return frames


def test_channel_uri_points_at_this_host_and_expires_in_a_day(live, session):
    base, _ = live
    channel = _channel(base, session, [])
    assert channel["connectUri"] == f"ws://{base[7:]}/channels/{channel['id']}"
    assert channel["expires"].endswith("Z")


def test_heartbeats_arrive_when_idle(live, session):
    base, _ = live
    channel = _channel(base, session, [])
    with connect(channel["connectUri"]) as ws:
        frame = _next(ws)
    assert frame == {"topicName": "channel.metadata",
                     "eventBody": {"message": "WebSocket Heartbeat"}}


def test_subscribed_events_are_pushed_and_others_are_not(live, session):
    base, app = live
    agent = app.extensions["sandbox"].world.agents[0]
    channel = _channel(base, session, [TOPIC.format(agent.id)])
    with connect(channel["connectUri"]) as ws:
        _next(ws)  # a heartbeat: the server has registered this socket, so nothing is missed
        session.post(f"{base}/api/v2/coaching/appointments", timeout=5, json={
            "name": "c", "description": "d", "dateStart": "2030-01-01T09:00:00Z",
            "lengthInMinutes": 15, "attendeeIds": [agent.id]})
        frames = _frames_until(ws, lambda f: f["topicName"] != "channel.metadata")
    pushed = [f for f in frames if f["topicName"] == TOPIC.format(agent.id)]
    assert pushed and pushed[0]["eventBody"]["actionType"] == "Create"
    assert pushed[0]["version"] == "2" and pushed[0]["metadata"]["CorrelationId"]
    assert all(f["topicName"] in (TOPIC.format(agent.id), "channel.metadata") for f in frames)


def test_generated_conversations_are_pushed_to_subscribers(live, session):
    base, _ = live
    channel = _channel(base, session, ["v2.detail.events.conversation.*.user.end"])
    with connect(channel["connectUri"]) as ws:
        _next(ws)  # a heartbeat: the server has registered this socket, so nothing is missed
        requests.post(f"{base}/sandbox/control/generate", json={"count": 2, "rate": 50},
                      timeout=5)
        frames = _frames_until(ws, lambda f: f["topicName"].endswith(".user.end"), count=2)
    ends = [f for f in frames if f["topicName"].endswith(".user.end")]
    assert len(ends) == 2


def test_drop_control_closes_the_socket_and_a_reconnect_works(live, session):
    base, _ = live
    channel = _channel(base, session, [])
    with connect(channel["connectUri"]) as ws:
        _next(ws)
        requests.post(f"{base}/sandbox/control/websockets/drop", json={}, timeout=5)
        with pytest.raises(ConnectionClosed):
            for _ in range(5):
                ws.recv(timeout=5)
    with connect(channel["connectUri"]) as again:
        assert _next(again)["topicName"] == "channel.metadata"


def test_an_expired_channel_is_closed_and_cannot_be_reused(live, session):
    base, _ = live
    channel = _channel(base, session, [])
    requests.post(f"{base}/sandbox/control/channels/expire", json={}, timeout=5)
    with connect(channel["connectUri"]) as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    listed = session.get(f"{base}/api/v2/notifications/channels", timeout=5).json()
    assert channel["id"] not in [c["id"] for c in listed["entities"]]


def test_unknown_topics_are_refused_unless_errors_are_ignored(live, session):
    base, _ = live
    channel = session.post(f"{base}/api/v2/notifications/channels", timeout=5).json()
    url = f"{base}/api/v2/notifications/channels/{channel['id']}/subscriptions"
    assert session.post(url, json=[{"id": "v2.nonsense"}], timeout=5).status_code == 400
    lenient = session.post(f"{url}?ignoreErrors=true", json=[{"id": "v2.nonsense"}], timeout=5)
    assert lenient.json()["entities"][0]["state"] == "Rejected"
