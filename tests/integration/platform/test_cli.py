"""`flask tenants ...` and `flask events replay` driven through the CLI runner, checked by their
effect on real signed webhooks, on the stored secrets and on the audit chain."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from extension import close_app, create_app
from extension.analytics.models.interactions import Interaction
from extension.platform import audit, tenants
from extension.platform.models.audit import AuditEntry
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.tenants import Tenant
from tests.helpers import dumps, sentiment, signed_headers

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
CREATE = ["tenants", "create", "--name", "Acme", "--region", "mypurecloud.ie",
          "--client-id", "cid", "--client-secret", "csecret", "--timezone", "Europe/London"]


def flask(app, *args: str, ok: bool = True):
    result = app.test_cli_runner().invoke(args=list(args))
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def create(app, tenant_id: str = "acme") -> str:
    """Create a tenant through the CLI; returns its webhook secret."""
    out = json.loads(flask(app, *CREATE, "--id", tenant_id, "--json-output").output)
    assert out["id"] == tenant_id
    return out["webhook_secret"]


def deliver(client, tenant_id: str, *, secret: str | None = None, api_key: str | None = None,
            conversation_id: str | None = None) -> int:
    body = dumps(sentiment(conversation_id or f"c-{uuid.uuid4().hex[:8]}", -20))
    headers = signed_headers(secret, body) if secret else {"content-type": "application/json"}
    if api_key:
        headers["x-api-key"] = api_key
    return client.post(f"/webhooks/{tenant_id}", data=body, headers=headers).status_code


def counts(db) -> tuple[int, int]:
    with db.session() as session:
        return (session.scalar(select(func.count()).select_from(Tenant)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def actions(db, tenant_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.id)))


def chain_ok(db, tenant_id: str) -> bool:
    with db.session() as session:
        return audit.verify_chain(session, tenant_id) is None


def test_create_prints_the_id_and_a_webhook_secret_that_authenticates(app, client, db):
    result = flask(app, *CREATE, "--id", "acme")
    assert "tenant acme created" in result.output
    assert "/webhooks/acme" in result.output
    secret = SECRET.search(result.output).group()
    assert deliver(client, "acme", secret=secret) == 202
    assert actions(db, "acme") == ["tenant.created"]
    with db.session() as session:
        tenant = session.get(Tenant, "acme")
        assert (tenant.api_base, tenant.login_base, tenant.timezone) == (
            "https://api.mypurecloud.ie", "https://login.mypurecloud.ie", "Europe/London")
        assert app.extensions["coachwire.box"].open(tenant.client_secret_enc) == "csecret"
        assert "csecret" not in tenant.client_secret_enc


def test_create_without_an_id_generates_one(app):
    out = json.loads(flask(app, *CREATE, "--json-output").output)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", out["id"])
    assert SECRET.fullmatch(out["webhook_secret"])


@pytest.mark.parametrize("extra,field", [
    (["--id", "acme2", "--timezone", "Mars/Olympus"], "timezone"),
    (["--id", "Not A Slug!"], "id"),
    (["--id", "x"], "id"),
    (["--id", "acme"], "id"),  # duplicate of the tenant made first
])
def test_create_rejects_bad_input_naming_the_field_and_creates_nothing(app, client, db, extra,
                                                                       field):
    secret = create(app, "acme")
    before = counts(db)
    result = flask(app, *CREATE, *extra, ok=False)
    assert result.exit_code != 0
    assert re.search(rf"Invalid value for '?(--)?{field}\b", result.output), result.output
    assert "Traceback" not in result.output
    assert counts(db) == before
    assert deliver(client, "acme", secret=secret) == 202  # the original is untouched


def test_create_rejects_malformed_calendar_config_naming_the_option(app, db):
    result = flask(app, *CREATE, "--id", "acme", "--calendar", "graph",
                   "--calendar-config", "{not json", ok=False)
    assert result.exit_code != 0
    assert "calendar-config" in result.output, result.output + repr(result.exception)
    assert counts(db) == (0, 0)


def test_list_shows_every_tenant_with_its_status(app):
    create(app, "acme")
    create(app, "globex")
    flask(app, "tenants", "disable", "globex")
    lines = flask(app, "tenants", "list").output.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["acme", "active"], ["globex", "disabled"]]


def test_commands_on_an_unknown_tenant_fail_cleanly(app):
    for command in ("rotate-secret", "add-api-key", "disable", "enable"):
        result = flask(app, "tenants", command, "nobody", ok=False)
        assert result.exit_code != 0 and "no tenant 'nobody'" in result.output


def test_rotate_secret_keeps_the_previous_secret_for_one_rotation(app, client, db):
    first = create(app)
    second = SECRET.search(flask(app, "tenants", "rotate-secret", "acme").output).group()
    assert second != first
    assert deliver(client, "acme", secret=second) == 202
    assert deliver(client, "acme", secret=first) == 202  # grace period for senders

    third = SECRET.search(flask(app, "tenants", "rotate-secret", "acme").output).group()
    assert deliver(client, "acme", secret=third) == 202
    assert deliver(client, "acme", secret=second) == 202
    assert deliver(client, "acme", secret=first) == 401  # only one previous secret is kept
    assert actions(db, "acme").count("tenant.secret_rotated") == 2


def test_rotate_secret_with_drop_previous_rejects_the_old_secret_at_once(app, client, db):
    old = create(app)
    assert deliver(client, "acme", secret=old) == 202
    new = SECRET.search(flask(app, "tenants", "rotate-secret", "acme",
                              "--drop-previous").output).group()
    assert deliver(client, "acme", secret=new) == 202
    assert deliver(client, "acme", secret=old) == 401
    with db.session() as session:
        row = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "tenant.secret_rotated")).one()
    assert row.details == {"kept_previous": False}


def test_add_api_key_authenticates_webhooks_by_key(app, client):
    create(app)
    assert deliver(client, "acme", api_key="cwk_guess") == 401
    key = flask(app, "tenants", "add-api-key", "acme").output.split("new API key: ")[1].strip()
    assert deliver(client, "acme", api_key=key) == 202
    second = flask(app, "tenants", "add-api-key", "acme").output.split(": ")[1].strip()
    assert deliver(client, "acme", api_key=second) == 202
    assert deliver(client, "acme", api_key=key) == 202  # adding a key does not revoke the others


def test_disabled_tenant_gets_403_until_enabled(app, client, db):
    secret = create(app)
    flask(app, "tenants", "disable", "acme")
    assert deliver(client, "acme", secret=secret) == 403
    flask(app, "tenants", "enable", "acme")
    assert deliver(client, "acme", secret=secret) == 202
    assert actions(db, "acme")[-2:] == ["tenant.disabled", "tenant.active"]


def _app_with_keys(settings, keys: tuple[str, ...]):
    return create_app(settings.with_overrides(data_keys=keys))


def _close(app) -> None:
    close_app(app)


def test_reseal_moves_secrets_to_the_newest_key_so_the_old_one_can_be_retired(app, settings, db):
    old_keys = settings.data_keys
    secret = create(app)
    flask(app, "tenants", "add-api-key", "acme")
    flask(app, "tenants", "create", "--name", "Cal", "--id", "cal", "--api-base",
          "http://127.0.0.1:5050", "--calendar", "graph", "--calendar-config",
          json.dumps({"tenant_id": "contoso", "client_secret": "graph-secret"}))
    new = Fernet.generate_key().decode()
    only_new = _app_with_keys(settings, (new,))
    rotated = _app_with_keys(settings, (new, *old_keys))
    try:
        with db.session() as session:
            sealed = session.get(Tenant, "acme").inbound_secrets_enc
        with pytest.raises(ValueError):  # before the reseal the new key alone opens nothing
            only_new.extensions["coachwire.box"].open(sealed)

        from extension.analytics import fcr
        from extension.analytics.models.delivery import AlertSettings

        with rotated.app_context(), db.session() as session:  # the FCR customer-key secret
            customer_key = fcr.key_for(session, "acme", "+15550100", create=True)
            session.add(AlertSettings(tenant_id="acme", rules=[], cooldown_hours=72, email_enabled=False,
                                      webhook_secret_enc=rotated.extensions["coachwire.box"].seal("whsec_x")))
        fcr._secrets.clear()
        result = flask(rotated, "tenants", "reseal")
        # acme: OAuth secret, inbound secrets, API keys, FCR secret, alert webhook secret;
        # cal: inbound secrets, API keys, calendar
        assert "re-encrypted 8 secrets" in result.output

        box = only_new.extensions["coachwire.box"]
        with db.session() as session:
            acme, cal = session.get(Tenant, "acme"), session.get(Tenant, "cal")
            assert box.open(acme.client_secret_enc) == "csecret"
            assert box.open(acme.inbound_secrets_enc) == [secret]
            assert len(box.open(acme.api_keys_enc)) == 1
            assert box.open(cal.calendar_config_enc)["client_secret"] == "graph-secret"
            assert box.open(session.get(AlertSettings, "acme").webhook_secret_enc) == "whsec_x"
        with only_new.app_context(), db.session() as session:  # same customer, same key
            assert fcr.key_for(session, "acme", "+15550100", create=False) == customer_key
        tenants._cache.clear()
        assert deliver(only_new.test_client(), "acme", secret=secret) == 202
        assert "tenant.resealed" in actions(db, "acme") and "tenant.resealed" in actions(db, "cal")
    finally:
        tenants._cache.clear()
        _close(only_new)
        _close(rotated)


def test_events_replay_reprocesses_a_dead_lettered_event(app, client, db, run_jobs, monkeypatch):
    from extension.coaching import interactions
    from handlers import jobs

    secret = create(app)
    real = interactions.apply_sentiment

    def broken(context, data):
        raise RuntimeError("scoring service down")

    monkeypatch.setattr(jobs, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(interactions, "apply_sentiment", broken)
    assert deliver(client, "acme", secret=secret, conversation_id="c-dead") == 202
    run_jobs()
    with db.session() as session:
        row = session.scalars(select(InboxEvent)).one()
        assert (row.status, row.attempts) == ("failed", 1)
        assert "scoring service down" in row.last_error
        assert session.get(Interaction, ("acme", "c-dead")) is None

    monkeypatch.setattr(interactions, "apply_sentiment", real)
    assert "replayed 0 event(s)" in flask(app, "events", "replay", "--failed", "--tenant",
                                          "other").output
    assert "replayed 1 event(s)" in flask(app, "events", "replay", "--failed").output
    run_jobs()
    with db.session() as session:
        row = session.scalars(select(InboxEvent)).one()
        assert (row.status, row.attempts, row.last_error) == ("done", 0, None)
        assert session.get(Interaction, ("acme", "c-dead")).customer_sentiment == pytest.approx(-0.2)
    assert "events.replayed" in actions(db, "acme")


def test_events_replay_needs_an_id_or_failed(app):
    result = flask(app, "events", "replay", ok=False)
    assert result.exit_code != 0 and "--failed" in result.output


def test_every_state_change_is_audited_on_an_intact_chain(app, settings, db):
    create(app)
    steps = [("rotate-secret", "acme"), ("add-api-key", "acme"), ("disable", "acme"),
             ("enable", "acme")]
    for step in steps:
        flask(app, "tenants", *step)
    rotated = _app_with_keys(settings, (Fernet.generate_key().decode(), *settings.data_keys))
    try:
        flask(rotated, "tenants", "reseal")
        # the reseal row is signed with the new key: an app holding both keys verifies it all
        assert chain_ok(rotated.extensions["coachwire.db"], "acme")
    finally:
        _close(rotated)
    assert actions(db, "acme") == ["tenant.created", "tenant.secret_rotated",
                                   "tenant.api_key_added", "tenant.disabled", "tenant.active",
                                   "tenant.resealed"]
    assert not chain_ok(db, "acme")  # without the newer key its row cannot be checked
