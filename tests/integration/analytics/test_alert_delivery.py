"""Alert delivery end to end: settings over HTTP, raising with cool-down, email to the supervisor
through a real SMTP sink, Standard Webhooks-signed POSTs (faked with `responses`), a retry after
a 500 that does not deliver twice, and the inbox's acknowledge/close."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from extension.analytics import alert_delivery
from extension.analytics.api import schemas
from extension.analytics.cli import analytics_cli
from extension.analytics.domain.alerts import Alert, alert_key
from extension.analytics.models.delivery import AlertDelivery, AlertSettings
from extension.analytics.models.facts import PerformanceAlert
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from tests.factories import person
from tests.integration.analytics.conftest import NAMES, PEOPLE
from tests.smtp_sink import SmtpSink

HOOK = "https://hooks.example.com/coachwire"
TEAM_RULE = {"rule_id": "aht-high", "metric": "aht_s", "op": ">", "value": 0, "subject": "team"}
NOW = datetime(2025, 4, 14, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sink():
    server = SmtpSink()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(settings, sink):
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False,
                                   smtp_from="alerts@coachwire.example")


@pytest.fixture
def people(db, tenant):
    with db.session() as session:
        for row in PEOPLE:
            session.merge(person("acme", row, name=NAMES[row[0]]))
    with db.session() as session:
        for supervisor in session.scalars(select(Person).where(Person.role == "supervisor")):
            supervisor.email = f"{supervisor.id}@acme.example"
    return "acme"


@pytest.fixture
def hook():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _configure(client, token_for, **body) -> dict:
    response = client.put("/api/v1/alert-settings", headers=token_for("adm", "admin"), json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _deliveries(db, **where) -> list[AlertDelivery]:
    with db.session() as session:
        query = select(AlertDelivery).filter_by(**where).order_by(AlertDelivery.id)
        return list(session.scalars(query))


def _verified(secret: str, call) -> dict:
    """The webhook body, after checking its Standard Webhooks signature with the library."""
    headers = {k.lower(): v for k, v in call.request.headers.items()}
    return Webhook(secret).verify(call.request.body, headers)


def test_new_alerts_reach_the_inbox_the_supervisor_by_email_and_the_signed_webhook_once(
        app, client, db, loaded, people, other_tenant, token_for, sink, hook, run_jobs):
    hook.add(responses.POST, HOOK, status=204)
    secret = _configure(client, token_for, rules=[TEAM_RULE], webhook_url=HOOK)["webhook_secret"]
    assert secret.startswith("whsec_")
    app.cli.add_command(analytics_cli)
    runner, before = app.test_cli_runner(), len(sink.messages)
    first = runner.invoke(args=["analytics", "raise-alerts", "acme", "--as-of", "2025-04-13"])
    assert first.exit_code == 0, first.output
    run_jobs()

    team_keys = {alert_key(rule_id="aht-high", subject=("team", t), metric="aht_s")
                 for t in ("t1", "t2", "t3", "t4")}
    supervisor = token_for("sup-t1", "supervisor")
    inbox = client.get("/api/v1/alerts", headers=supervisor, query_string={"limit": 1000}).get_json()
    assert not schemas.AlertsPage().validate(inbox)
    mine = [item for item in inbox["items"] if item["key"] in team_keys]
    assert [item["subject_id"] for item in mine] == ["t1"]  # a supervisor's inbox holds their teams only
    detail = client.get(f"/api/v1/alerts/{mine[0]['key']}", headers=supervisor).get_json()
    assert not schemas.AlertInboxItem().validate(detail)
    assert {d["channel"]: d["status"] for d in detail["deliveries"]} == {
        "panel": "sent", "email": "sent", "webhook": "sent"}
    t2_key = alert_key(rule_id="aht-high", subject=("team", "t2"), metric="aht_s")
    assert client.get(f"/api/v1/alerts/{t2_key}", headers=supervisor).status_code == 404
    other = token_for("adm", "admin", tenant_id=other_tenant)
    assert client.get(f"/api/v1/alerts/{t2_key}", headers=other).status_code == 404
    assert client.get("/api/v1/alerts", headers=other).get_json()["items"] == []

    mails = sink.messages[before:]
    team_mail = [m for m in mails if "aht_s for team t1" in m]
    assert len(team_mail) == 1 and "To: sup-t1@acme.example" in team_mail[0]
    payloads = [_verified(secret, call) for call in hook.calls]
    team_hooks = [p for p in payloads if p["data"]["key"] in team_keys]
    assert sorted(p["data"]["subject_id"] for p in team_hooks) == ["t1", "t2", "t3", "t4"]
    ids = [call.request.headers["webhook-id"] for call in hook.calls]
    assert len(ids) == len(set(ids)) == len(_deliveries(db, channel="webhook"))
    assert all(d.status == "sent" and d.attempts == 1 for d in _deliveries(db) if d.channel != "panel")

    calls, mails_sent = len(hook.calls), len(sink.messages)
    again = runner.invoke(args=["analytics", "raise-alerts", "acme", "--as-of", "2025-04-13"])
    assert again.exit_code == 0 and again.output.startswith("0 raised")  # all within the cool-down
    run_jobs()
    assert len(hook.calls) == calls and len(sink.messages) == mails_sent


def _one_alert(db, *, now=NOW, value=700.0) -> str:
    subject = ("agent", "a01")
    alert = Alert(key=alert_key(rule_id="aht-high", subject=subject, metric="aht_s"), kind="threshold",
                  subject=subject, metric="aht_s", value=value, message=f"aht_s {value:g} > 600")
    with db.session() as session:
        result = alert_delivery.raise_alerts(session, tenant_id="acme", found=[alert], now=now)
    return alert.key if result["raised"] else ""


def test_a_webhook_500_is_retried_and_the_alert_is_delivered_exactly_once(
        app, client, db, people, token_for, hook, run_jobs):
    hook.add(responses.POST, HOOK, status=500)
    hook.add(responses.POST, HOOK, status=200)
    secret = _configure(client, token_for, webhook_url=HOOK, email_enabled=False)["webhook_secret"]
    key = _one_alert(db)
    with app.app_context():
        assert alert_delivery.dispatch("acme") == 1
    run_jobs()  # the first call fails; RQ schedules the retry, the embedded queue runs it
    (delivery,) = _deliveries(db, channel="webhook")
    with app.app_context():
        alert_delivery.deliver_alert(delivery.id)  # the retry (a no-op if it already ran)
        assert alert_delivery.deliver_alert(delivery.id) == "skipped"
        assert alert_delivery.dispatch("acme") == 0
    run_jobs()
    assert [c.response.status_code for c in hook.calls] == [500, 200]
    assert len({c.request.headers["webhook-id"] for c in hook.calls}) == 1
    assert _verified(secret, hook.calls[1])["data"]["key"] == key
    (delivery,) = _deliveries(db, channel="webhook")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, None)
    assert delivery.idempotency_key == hook.calls[1].request.headers["webhook-id"]
    assert _deliveries(db, channel="email") == []  # email is switched off
    with db.session() as session:
        sent = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "alert.delivery_sent"))
    assert sent == 1


def test_a_re_raise_within_the_cool_down_is_not_delivered_but_one_after_it_is(app, db, people):
    with db.session() as session:
        session.add(AlertSettings(tenant_id="acme", rules=[], cooldown_hours=24, email_enabled=True))
    assert _one_alert(db)
    assert _one_alert(db, now=NOW + timedelta(hours=23), value=800.0) == ""
    with db.session() as session:
        key = alert_key(rule_id="aht-high", subject=("agent", "a01"), metric="aht_s")
        stored = session.get(PerformanceAlert, ("acme", key))
        assert stored.value == 800.0 and stored.raised_at == NOW
    assert len(_deliveries(db, channel="email")) == 1
    assert _one_alert(db, now=NOW + timedelta(hours=25))
    emails = _deliveries(db, channel="email")
    assert len(emails) == 2 and emails[0].raise_id != emails[1].raise_id
    assert all(e.recipient == "sup-t2@acme.example" for e in emails)  # a01 is on team t2


def test_an_email_reaches_the_sink_and_a_supervisor_without_address_is_skipped(app, db, people, sink,
                                                                                run_jobs):
    before = len(sink.messages)
    _one_alert(db)
    with app.app_context():
        alert_delivery.dispatch("acme")
    run_jobs()
    (email,) = _deliveries(db, channel="email")
    assert email.status == "sent"
    assert any("To: sup-t2@acme.example" in m and "aht_s 700 > 600" in m for m in sink.messages[before:])
    with db.session() as session:
        session.get(Person, ("acme", "sup-t2")).email = None
    _one_alert(db, now=NOW + timedelta(days=10))
    latest = _deliveries(db, channel="email")[-1]
    assert (latest.status, latest.last_error) == ("skipped", "the supervisor has no email address")


def test_acknowledge_and_close_are_audited_scoped_and_refuse_wrong_states(client, db, people, other_tenant,
                                                                          token_for):
    key = _one_alert(db)
    url = f"/api/v1/alerts/{key}/acknowledge"
    assert client.post(url, headers=token_for("adm", "admin", tenant_id=other_tenant)).status_code == 404
    assert client.post(url, headers=token_for("sup-t1", "supervisor")).status_code == 404  # not their team
    assert client.post(url, headers=token_for("a01", "agent")).status_code == 403
    response = client.post(url, headers=token_for("sup-t2", "supervisor"), json={"note": "on it"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "acknowledged"
    assert response.get_json()["acknowledged_by"] == "sup-t2"
    assert client.post(url, headers=token_for("sup-t2", "supervisor")).status_code == 409
    bad = client.post(f"/api/v1/alerts/{key}/close", headers=token_for("sup-t2", "supervisor"),
                      json={"note": "x" * 501})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "note"
    closed = client.post(f"/api/v1/alerts/{key}/close", headers=token_for("sup-t2", "supervisor"))
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    listing = client.get("/api/v1/alerts?status=closed", headers=token_for("sup-t2", "supervisor")).get_json()
    assert [item["key"] for item in listing["items"]] == [key]
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == key)
                                  .order_by(AuditEntry.id)).all()
    assert actions == ["alert.raised", "alert.acknowledged", "alert.closed"]


def test_settings_reject_bad_input_by_field_and_change_nothing(client, db, people, token_for):
    admin = token_for("adm", "admin")
    _configure(client, token_for, rules=[TEAM_RULE], cooldown_hours=12)
    cases = [({"webhook_url": "http://plain.example/x"}, "webhook_url"),
             ({"webhook_url": "https://169.254.169.254/latest/meta-data"}, "webhook_url"),
             ({"webhook_url": "https://localhost:8443/hook"}, "webhook_url"),
             ({"webhook_url": "https://2130706433/hook"}, "webhook_url"),
             ({"webhook_url": "https://127.1/hook"}, "webhook_url"),
             ({"webhook_url": "https://0x7f000001/hook"}, "webhook_url"),
             ({"webhook_url": "https://[::1]/hook"}, "webhook_url"),
             ({"webhook_url": "https://[::ffff:127.0.0.1]/hook"}, "webhook_url"),
             ({"rules": [{**TEAM_RULE, "metric": "speed"}]}, "rules.0.metric"),
             ({"rules": [TEAM_RULE, TEAM_RULE]}, "rules"),
             ({"cooldown_hours": 0}, "cooldown_hours"),
             ({"email_enabled": "yes"}, "email_enabled")]
    for body, field in cases:
        response = client.put("/api/v1/alert-settings", headers=admin, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.get_json()["errors"]], response.get_json()
    assert client.put("/api/v1/alert-settings", headers=admin, data="rules").status_code == 415
    assert client.put("/api/v1/alert-settings", headers=token_for("sup-t1", "supervisor"),
                      json={"email_enabled": False}).status_code == 403
    view = client.get("/api/v1/alert-settings", headers=admin).get_json()
    assert view == {"rules": [TEAM_RULE | {"value": 0.0}], "cooldown_hours": 12, "email_enabled": True,
                    "webhook_url": None, "webhook_secret_set": False}


def test_the_webhook_secret_is_encrypted_at_rest_and_never_shown_again(app, client, db, people, token_for):
    secret = _configure(client, token_for, webhook_url=HOOK)["webhook_secret"]
    with db.session() as session:
        stored = session.get(AlertSettings, "acme")
    assert secret not in stored.webhook_secret_enc
    assert app.extensions["coachwire.box"].open(stored.webhook_secret_enc) == secret
    view = client.get("/api/v1/alert-settings", headers=token_for("adm", "admin")).get_json()
    assert "webhook_secret" not in view and view["webhook_secret_set"] is True
    rotated = _configure(client, token_for, rotate_secret=True)["webhook_secret"]
    assert rotated != secret
    with db.session() as session:
        details = session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "alerts.settings_updated")).all()
    assert len(details) == 2 and secret not in json.dumps(details) and rotated not in json.dumps(details)


def test_the_hourly_job_raises_every_active_tenants_alerts_and_queues_their_deliveries(
        app, client, db, loaded, people, other_tenant, token_for, hook, run_jobs):
    from datetime import date

    from extension.platform.worker import job_name, periodic_jobs

    assert alert_delivery.evaluate_all in [func for func, _ in periodic_jobs(app)]
    hook.add(responses.POST, HOOK, status=204)
    _configure(client, token_for, rules=[TEAM_RULE], webhook_url=HOOK, email_enabled=False)
    with app.app_context():
        raised = alert_delivery.evaluate_all(as_of=date(2025, 4, 13))
    assert raised == {"acme": 4, "globex": 0}  # globex has no facts and no rules
    run_jobs()
    webhooks = _deliveries(db, channel="webhook")
    assert len(webhooks) == 4 and all(d.status == "sent" for d in webhooks)
    assert len(hook.calls) == 4
    with app.app_context():
        assert alert_delivery.evaluate_all(as_of=date(2025, 4, 13)) == {"acme": 0, "globex": 0}
    names = [job_name(func) for func, _ in periodic_jobs(app)]
    assert len(names) == len(set(names))  # two modules' "sweep" must not share a slot


def test_a_stored_url_to_an_internal_address_fails_without_any_connection(app, db, people):
    """A URL saved before the address checks (here 127.1, i.e. 127.0.0.1) is refused when the
    delivery connects: the job fails for good and nothing reaches the listening port."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        with db.session() as session:
            session.add(AlertSettings(tenant_id="acme", rules=[], cooldown_hours=24, email_enabled=False,
                                      webhook_url=f"https://127.1:{port}/hook",
                                      webhook_secret_enc=app.extensions["coachwire.box"].seal("whsec_MTIz")))
        assert _one_alert(db)
        (delivery,) = _deliveries(db, channel="webhook")
        with app.app_context():
            assert alert_delivery.deliver_alert(delivery.id) == "failed"
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection was ever made
    finally:
        listener.close()
    (delivery,) = _deliveries(db, channel="webhook")
    assert delivery.status == "failed" and "refused" in delivery.last_error
