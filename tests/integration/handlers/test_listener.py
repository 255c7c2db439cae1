"""The Notification API listener against the sandbox host on a loopback port, writing to the real
inbox (SQLite or PostgreSQL per DATABASE_URL). A few fast tests drive the loop with fakes where the
sandbox cannot produce the situation (a silent socket)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from connectors.errors import Transient
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.people import Person
from handlers.listener import ChannelListener, ListenerSettings
from handlers.listener_pool import ListenerPool, TenantAccess, genesys_notifications
from handlers.listener_sink import InboxSink
from sandbox.app import create_app as create_sandbox
from sandbox.state import Config
from tests.helpers import serving
from tests.unit.handlers.payloads import coaching_body, evaluation_body, notification

AGENT = "agent-7"
EVALUATIONS = "v2.quality.evaluations"
FAST = ListenerSettings(heartbeat_timeout=2.0, overlap_seconds=1.5, poll_seconds=0.05,
                        backoff_base=0.05, backoff_cap=0.4, refresh_topics_seconds=60)


def wait_for(predicate, *, timeout: float = 5.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def host():
    """The sandbox host, threaded (WebSockets need a real server); yields (base_url, state)."""
    sandbox = create_sandbox(seed=7, config=Config(heartbeat_seconds=0.2))
    with serving(sandbox) as base:
        yield base, sandbox.extensions["sandbox"]


@pytest.fixture
def host_tenant(app, host):
    """A tenant whose Genesys API and login are the sandbox, with one known agent."""
    from extension.platform import tenants

    base, _ = host
    with app.extensions["coachwire.db"].session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Sandbox", tenant_id="sbx",
                       api_base=base, login_base=base, client_id="sandbox-client",
                       client_secret="sandbox-secret")
        session.add(Person(tenant_id="sbx", id=AGENT, name="Ada Agent", role="agent"))
    return TenantAccess(id="sbx", api_base=base, login_base=base, client_id="sandbox-client",
                        client_secret="sandbox-secret")


@pytest.fixture
def start_listener(app, host, host_tenant):
    """Build and start a ChannelListener for the sandbox tenant; stopped after the test."""
    started: list[ChannelListener] = []
    _, state = host

    def start(**overrides) -> ChannelListener:
        stop = threading.Event()
        options = {"settings": FAST, "clock": state.now,
                   "topics": lambda: [EVALUATIONS, f"v2.users.{AGENT}.wem.coaching.notification"],
                   **overrides}
        listener = ChannelListener(
            "sbx/0", notifications=genesys_notifications(app, host_tenant),
            sink=InboxSink(app.extensions["coachwire.inbox"], "sbx", stop=stop), stop=stop,
            **options)
        started.append(listener.start())
        wait_for(lambda: listener.stats.connects >= 1, what="first subscription")
        return listener

    yield start
    for listener in started:
        listener.shutdown()


def publish(state, *messages: dict) -> int:
    return sum(state.hub.publish_message(m) for m in messages)


def evaluation(correlation: str | None = None) -> dict:
    return notification(EVALUATIONS, evaluation_body(id=f"ev-{uuid.uuid4().hex[:8]}"),
                        correlation=correlation or str(uuid.uuid4()))


def inbox_rows(db) -> list[InboxEvent]:
    with db.session() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def inbox_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(InboxEvent.id)))


def live_channels(state) -> list:
    with state.hub.lock:
        return [c for c in state.hub.channels.values() if c.sockets and c.topics]


def test_pool_subscribes_org_and_agent_topics_and_messages_land_in_the_inbox(app, db, host,
                                                                           host_tenant):
    base, state = host
    # a capability handling coaching changes: their per-agent topic is subscribed, while the
    # schedules topic (schedule.changed, routed nowhere) is not
    app.extensions["coachwire.router"].add(lambda event, *args: None, "coaching.changed")
    pool, stop = ListenerPool(app, settings=FAST), threading.Event()
    runner = threading.Thread(target=pool.run, args=(stop,), kwargs={"rescan_seconds": 30})
    runner.start()
    channel = wait_for(lambda: live_channels(state), what="a subscribed socket")[0]
    assert set(channel.topics) == {EVALUATIONS, f"v2.users.{AGENT}.wem.coaching.notification"}
    coaching = notification(f"v2.users.{AGENT}.wem.coaching.notification", coaching_body(),
                            correlation="corr-coach")
    answer = requests.post(f"{base}/sandbox/control/publish", timeout=5,
                           json={"messages": [evaluation("corr-eval"), coaching]})
    assert answer.json()["delivered"] == 2
    wait_for(lambda: inbox_count(db) == 2, what="two inbox rows")
    rows = {row.delivery_id: row for row in inbox_rows(db)}
    assert rows[f"corr-eval:{EVALUATIONS}"].type == "evaluation.changed"
    assert rows[f"corr-coach:v2.users.{AGENT}.wem.coaching.notification"].tenant_id == "sbx"
    stop.set()  # what SIGTERM does in `flask listener`
    runner.join(timeout=5)
    assert not runner.is_alive()
    wait_for(lambda: not live_channels(state), what="sockets closed on shutdown")


def test_heartbeats_are_observed_but_create_no_rows(db, host, start_listener):
    listener = start_listener()
    wait_for(lambda: listener.stats.heartbeats >= 3, what="three heartbeats")
    assert inbox_count(db) == 0
    assert listener.stats.accepted == 0


def test_a_dropped_socket_reconnects_to_the_same_channel_and_later_messages_arrive(
        db, host, start_listener):
    base, state = host
    listener = start_listener()
    publish(state, evaluation())
    wait_for(lambda: inbox_count(db) == 1, what="the first message")
    assert requests.post(f"{base}/sandbox/control/websockets/drop", timeout=5).json()["dropped"]
    wait_for(lambda: listener.stats.connects >= 2, what="a reconnect")
    assert publish(state, evaluation(), evaluation()) == 2
    wait_for(lambda: inbox_count(db) == 3, what="messages after the reconnect")
    assert (listener.stats.drops, listener.stats.channels) == (1, 1)


def test_a_channel_the_host_no_longer_knows_is_recreated_and_resubscribed(db, host,
                                                                          start_listener):
    base, state = host
    listener = start_listener()
    first = listener.stats.channels
    requests.post(f"{base}/sandbox/control/channels/expire", timeout=5)
    wait_for(lambda: listener.stats.channels == first + 1 and live_channels(state),
             what="a new channel")
    assert publish(state, evaluation()) == 1
    wait_for(lambda: inbox_count(db) == 1, what="a message on the new channel")


def test_an_expiring_channel_is_renewed_with_overlap_and_duplicates_are_stored_once(
        db, host, start_listener):
    _, state = host
    listener = start_listener()
    old_id = live_channels(state)[0].id
    state.fixed_now = datetime.now(UTC) + timedelta(hours=23, minutes=30)  # expires in 30 min
    both = wait_for(lambda: len(live_channels(state)) == 2, what="old and new channel live")
    assert both
    overlap = evaluation("corr-overlap")
    assert publish(state, overlap) == 2  # the same message reaches both sockets
    wait_for(lambda: listener.stats.renewals == 1, what="the renewal to finish")
    # The new socket's copy is read once the old socket is drained and closed.
    wait_for(lambda: listener.stats.duplicates >= 1, what="the overlap copy to be skipped")
    wait_for(lambda: [c.id for c in live_channels(state)] == [listener._channel.id],
             what="only the new channel live")
    assert listener._channel.id != old_id
    assert [r.delivery_id for r in inbox_rows(db)] == [f"corr-overlap:{EVALUATIONS}"]
    assert publish(state, evaluation()) == 1
    wait_for(lambda: inbox_count(db) == 2, what="a message on the renewed channel")


# -- the loop with fakes: situations the sandbox host does not produce --------------------------

class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class SilentSocket:
    """Never sends a frame, not even a heartbeat: a half-open TCP connection."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.closed = clock, False

    def recv(self, timeout=None):
        self.clock.t += timeout
        raise TimeoutError

    def close(self) -> None:
        self.closed = True


class FakeNotifications:
    def __init__(self, *, fail_creates: int = 0) -> None:
        self.ids = (f"ch-{n}" for n in itertools.count(1))
        self.created, self.subscribed, self.fail_creates = 0, [], fail_creates

    def create_channel(self) -> dict:
        if self.fail_creates:
            self.fail_creates -= 1
            raise Transient("host busy", status=503)
        self.created += 1
        expires = (datetime.now(UTC) + timedelta(hours=24)).isoformat()
        channel_id = next(self.ids)
        return {"id": channel_id, "connectUri": f"wss://host/{channel_id}", "expires": expires}

    def replace_subscriptions(self, channel_id, topics, *, ignore_errors=None):
        self.subscribed.append(channel_id)
        return [{"id": t, "state": "Permitted"} for t in topics]


def test_a_silent_socket_is_declared_dead_and_replaced():
    clock, sockets = FakeClock(), []
    listener = None

    def connect(uri):
        sockets.append(SilentSocket(clock))
        if len(sockets) == 2:
            listener.stop.set()
        return sockets[-1]

    notifications = FakeNotifications()
    listener = ChannelListener("fake", notifications=notifications, topics=lambda: [EVALUATIONS],
                               sink=lambda frame: None, connect=connect, settings=FAST,
                               monotonic=clock.monotonic, sleep=clock.sleep)
    listener.run()
    assert len(sockets) == 2 and all(s.closed for s in sockets)
    assert listener.stats.drops == 1
    assert notifications.created == 1 and notifications.subscribed == ["ch-1", "ch-1"]
    assert clock.t >= FAST.heartbeat_timeout


def test_reconnect_backoff_grows_with_jitter_and_is_capped():
    listener = ChannelListener("fake", notifications=FakeNotifications(), topics=list,
                               sink=lambda frame: None, settings=FAST)
    delays = [listener.backoff(n) for n in range(1, 30)]
    assert FAST.backoff_base / 2 <= delays[0] <= FAST.backoff_base
    assert all(FAST.backoff_cap / 2 <= d <= FAST.backoff_cap for d in delays[5:])
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jittered, not in lockstep


def test_a_failed_renewal_keeps_the_old_channel_and_retries():
    clock = FakeClock()
    notifications = FakeNotifications()
    listener = ChannelListener("fake", notifications=notifications, topics=lambda: [EVALUATIONS],
                               sink=lambda frame: None, connect=lambda uri: SilentSocket(clock),
                               settings=FAST, monotonic=clock.monotonic, sleep=clock.sleep,
                               clock=lambda: datetime.now(UTC) + timedelta(hours=23, minutes=30))
    live = listener._attach(listener._create())
    listener._live = live
    notifications.fail_creates = 1
    listener._renew()
    assert listener._live is live and listener.stats.renewals == 0
    clock.t = listener._next_renew_try
    assert listener._renew_due(live)
    listener._renew()
    assert listener.stats.renewals == 1 and listener._live.channel.id == "ch-2"
