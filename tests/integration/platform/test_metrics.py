"""/metrics: counters and scrape-time gauges move by the right amounts after real webhook
deliveries, a drain, host calls and effect jobs; who may scrape it.

Counters are process-wide (every test's app shares them), so each test compares a scrape before
with a scrape after; the state gauges are read from this test's own database and queue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
import responses
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from connectors.errors import Transient
from extension import close_app
from extension.coaching import booking
from extension.coaching.models import Recognition
from extension.platform import hosts, logs
from extension.platform.models._types import utcnow
from extension.platform.models.inbox import InboxEvent
from tests.helpers import dumps, signed_headers, user_end

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before, after, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def deliver(client, tenant, events: list[dict], *, msg_id: str | None = None):
    tenant_id, secret = tenant
    body = dumps({"events": events})
    return client.post(f"/webhooks/{tenant_id}", data=body,
                       headers=signed_headers(secret, body, msg_id=msg_id))


def queue_depth(app, samples) -> float:
    dispatcher = app.extensions["coachwire.queue"]
    name = "events" if hasattr(dispatcher, "redis") else "embedded"
    return value(samples, "coachwire_queue_depth", queue=name)


def test_deliveries_and_a_drain_move_the_webhook_inbox_drain_and_queue_numbers(
        app, client, tenant, db, run_jobs):
    before = scrape(client)
    assert value(before, "coachwire_inbox_events", tenant="acme", status="received") == 0
    assert queue_depth(app, before) == 0

    first = deliver(client, tenant, [user_end("c-1", "agent-1"), user_end("c-2", "agent-1")],
                    msg_id="msg_first")
    assert first.status_code == 202
    assert deliver(client, tenant, [user_end("c-3", "agent-2")]).status_code == 202
    assert deliver(client, tenant, [user_end("c-1", "agent-1")], msg_id="msg_first").status_code == 200
    bad = client.post("/webhooks/acme", data=b'{"events": []}',
                      headers={"webhook-id": "msg_x", "webhook-timestamp": "1",
                               "webhook-signature": "v1,AAAA", "content-type": "application/json"})
    assert bad.status_code == 401
    assert client.post("/webhooks/nobody", data=b"{}").status_code == 404
    # the oldest waiting row was received two minutes ago
    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.delivery_id == "msg_first:0")
                        .values(received_at=utcnow() - timedelta(seconds=120)))

    waiting = scrape(client)
    assert delta(before, waiting, "coachwire_webhook_answers_total", tenant="acme", status="202") == 2
    assert delta(before, waiting, "coachwire_webhook_answers_total", tenant="acme", status="200") == 1
    assert delta(before, waiting, "coachwire_webhook_answers_total", tenant="acme", status="401") == 1
    assert delta(before, waiting, "coachwire_webhook_answers_total", tenant="unknown", status="404") == 1
    assert value(waiting, "coachwire_inbox_events", tenant="acme", status="received") == 3
    assert value(waiting, "coachwire_inbox_oldest_due_age_seconds", tenant="acme") >= 120
    assert queue_depth(app, waiting) == 1  # one drain job for the tenant, however many requests

    run_jobs()
    drained = scrape(client)
    assert delta(waiting, drained, "coachwire_events_drained_total", tenant="acme") == 3
    assert value(drained, "coachwire_inbox_events", tenant="acme", status="received") == 0
    assert (value(drained, "coachwire_inbox_events", tenant="acme", status="done")
            + value(drained, "coachwire_inbox_events", tenant="acme", status="ignored")) == 3
    assert value(drained, "coachwire_inbox_events", tenant="acme", status="failed") == 0
    assert value(drained, "coachwire_inbox_oldest_due_age_seconds", tenant="acme") == 0
    assert queue_depth(app, drained) == 0
    for source in ("database", "queue", "budget"):
        assert value(drained, "coachwire_metrics_source_up", source=source) == 1


def test_host_requests_429s_and_the_budget_share_per_tenant(app, client, tenant):
    hosts.forget()
    before = scrape(client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "t", "expires_in": 3600})
        me = f"{API}/api/v2/users/u-1"
        rsps.get(me, status=429, headers={"Retry-After": "0"}, json={"message": "slow down"})
        rsps.get(me, json={"id": "u-1"})
        rsps.get(f"{API}/api/v2/users/u-2", body=requests.ConnectionError("reset"))
        with app.app_context():
            client_ = _host_client(app)
            client_.transport._max_attempts = 2  # the 429, then the answer
            assert client_.users.get_user("u-1")["id"] == "u-1"
            client_.transport._max_attempts = 1
            with pytest.raises(Transient, match="ConnectionError"):
                client_.users.get_user("u-2")
            # spend most of the burst: the share in use is read from the same bucket
            client_.transport._bucket.take("genesys:acme", tokens=30)
    after = scrape(client)
    hosts.forget()
    assert delta(before, after, "coachwire_host_requests_total", tenant="acme", code="429") == 1
    assert delta(before, after, "coachwire_host_requests_total", tenant="acme", code="200") == 1
    assert delta(before, after, "coachwire_host_requests_total", tenant="acme", code="error") == 1
    # the token request is not under the tenant's API budget, so it is not counted as one
    assert sum(v - before.get(key, 0.0) for key, v in after.items()
               if key[0] == "coachwire_host_requests_total" and ("tenant", "acme") in key[1]) == 3
    assert value(after, "coachwire_host_budget_used_ratio", tenant="acme") > 0.2


def _recognition(db, key: str, *, tenant_id: str = "acme", status: str = "pending") -> int:
    with db.session() as session:
        row = Recognition(tenant_id=tenant_id, agent_id="agent-1", conversation_id=f"conv-{key}",
                          idempotency_key=key, status=status)
        session.add(row)
        session.flush()
        return row.id


def _host_client(app):
    """The tenant's cached host client, trying each call once (no backoff sleeps in tests)."""
    from extension.platform.models.tenants import Tenant

    with app.extensions["coachwire.db"].session() as session:
        row = session.get(Tenant, "acme")
    client = hosts.genesys_for(row)
    client.transport._max_attempts = 1
    return client


def test_recognitions_and_bookings_are_counted_by_tenant_and_outcome(app, client, tenant, db):
    from extension.platform import tenants

    hosts.forget()
    with db.session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Globex", tenant_id="globex",
                       api_base=API, login_base=LOGIN, client_id="cid", client_secret="csecret")
    sent, refused, flaky = (_recognition(db, key) for key in ("r-sent", "r-refused", "r-flaky"))
    theirs = _recognition(db, "r-globex", tenant_id="globex", status="sent")
    before = scrape(client)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "t", "expires_in": 3600})
        url = f"{API}/api/v2/employeeengagement/recognitions"
        rsps.post(url, json={"id": "host-r-1"})
        rsps.post(url, status=400, json={"message": "recipient is not in this organisation"})
        rsps.post(url, status=503, json={"message": "try later"})
        with app.app_context():
            _host_client(app)
            assert booking.send_recognition(sent) == "sent"
            assert booking.send_recognition(sent) == "skipped"  # already sent: nothing to do
            assert booking.send_recognition(refused) == "failed"
            # a transient failure is due again later (next_attempt_at), not raised
            assert booking.send_recognition(flaky) == "retrying"
            assert booking.send_recognition(theirs) == "skipped"  # the other tenant's, sent
            assert booking.book_appointment(999_999) == "skipped"  # no such appointment
    after = scrape(client)
    hosts.forget()
    for outcome, count in (("sent", 1), ("skipped", 1), ("failed", 1), ("retrying", 1)):
        assert delta(before, after, "coachwire_recognitions_total",
                     tenant="acme", outcome=outcome) == count, outcome
    assert delta(before, after, "coachwire_recognitions_total", tenant="globex", outcome="skipped") == 1
    assert delta(before, after, "coachwire_recognitions_total", tenant="globex", outcome="sent") == 0
    # a job that found no row cannot name a tenant
    assert delta(before, after, "coachwire_bookings_total", tenant="unknown", outcome="skipped") == 1
    assert logs.tenant() is None  # the tenant a job bound does not outlive it


def test_with_a_metrics_token_only_its_bearer_may_scrape(settings, tenant, app):
    from extension import create_app

    guarded_app = create_app(settings.with_overrides(metrics_token="scrape-me-please"))
    try:
        client = guarded_app.test_client()
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = client.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.mimetype == "application/problem+json"
            assert "METRICS_TOKEN" in refused.get_json()["detail"]
        allowed = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"},
                             environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert allowed.status_code == 200
        assert b"coachwire_inbox_events" in allowed.data
    finally:
        close_app(guarded_app)


def test_without_a_token_only_loopback_clients_may_scrape(client):
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403
    assert remote.mimetype == "application/problem+json"
    assert "METRICS_TOKEN" in json.loads(remote.data)["detail"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1


MULTIPROCESS_SCRIPT = """
import sys
from extension import create_app
from extension.platform import config

app = create_app(config.testing({"DATABASE_URL": sys.argv[1]}))
client = app.test_client()
for _ in range(int(sys.argv[2])):
    assert client.post("/webhooks/nobody", data=b"{}").status_code == 404
if sys.argv[3:] == ["scrape"]:
    print(client.get("/metrics").get_data(as_text=True))
app.extensions["coachwire.inbox"].close()
"""


def test_with_a_multiprocess_dir_any_process_scrapes_every_processs_counters(database_url, tmp_path):
    """As gunicorn's workers: two processes count answers; the second one's /metrics adds up both."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
           "PROMETHEUS_MULTIPROC_DIR": str(shared)}

    def process(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT, database_url, *args],
                              cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    process("3")
    samples = {}
    for family in text_string_to_metric_families(process("4", "scrape")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert value(samples, "coachwire_webhook_answers_total", tenant="unknown", status="404") == 7
    assert value(samples, "coachwire_metrics_source_up", source="database") == 1


def test_the_sidecar_answers_scrapes_for_a_host_without_the_web(settings, tenant, app):
    """`flask metrics serve` beside workers: the same numbers, the same rule on who may scrape."""
    from werkzeug.test import Client

    from extension import create_app
    from extension.platform import metrics

    assert "serve" in app.cli.commands["metrics"].commands
    guarded_app = create_app(settings.with_overrides(metrics_token="scrape-me-please"))
    try:
        sidecar = Client(metrics.sidecar(guarded_app))
        refused = sidecar.get("/metrics")
        assert refused.status_code == 401
        assert refused.mimetype == "application/problem+json"
        answer = sidecar.get("/", headers={"Authorization": "Bearer scrape-me-please"})
        assert answer.status_code == 200
        families = {f.name for f in text_string_to_metric_families(answer.get_data(as_text=True))}
        assert {"coachwire_inbox_events", "coachwire_queue_depth"} <= families
        open_sidecar = Client(metrics.sidecar(app))
        assert open_sidecar.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
        assert open_sidecar.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    finally:
        close_app(guarded_app)
