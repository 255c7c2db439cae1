"""The suite-wide guard (tests/tx_guard.py): a connector call made while the calling thread holds
an open database write transaction fails the test; before and after that transaction it passes."""

from __future__ import annotations

import pytest
import responses

from connectors.http import Transport
from extension.platform.models.tenants import Tenant
from tests import tx_guard


@pytest.mark.host_call_in_transaction  # the autouse guard is off: this test installs its own
def test_a_host_call_inside_a_write_transaction_fails_and_is_recorded(db, monkeypatch):
    seen = tx_guard.install(monkeypatch)
    transport = Transport("https://api.example")
    with responses.RequestsMock() as mock:
        mock.get("https://api.example/ping", json={"ok": True})
        assert transport.request("GET", "/ping") == {"ok": True}
        with db.session() as session:
            session.add(Tenant(id="guarded", name="Guarded", api_base="https://api.example",
                               login_base="https://login.example", timezone="UTC"))
            session.flush()
            with pytest.raises(pytest.fail.Exception, match="inside an open database write"):
                transport.request("GET", "/ping")
        assert transport.request("GET", "/ping") == {"ok": True}  # committed: allowed again
    assert seen == ["GET https://api.example/ping"]
    assert tx_guard.open_write_transactions() == 0


def test_on_sqlite_every_session_takes_the_write_lock_at_begin(db):
    """A deferred SQLite transaction that reads, then writes, must upgrade its read lock
    mid-transaction, which fails at once ("database is locked", no busy wait) when another
    writer got there first; the drain did exactly that. Every transaction therefore begins
    IMMEDIATE, so lock waits happen at BEGIN, under busy_timeout."""
    from sqlalchemy import event, select

    if db.is_postgres:
        pytest.skip("PostgreSQL has no database-wide write lock")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session() as session:
            session.scalars(select(Tenant.id)).all()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements[0] == "BEGIN IMMEDIATE"


@pytest.mark.host_call_in_transaction  # the autouse guard is off: this test installs its own
def test_a_webhook_post_or_an_smtp_connection_inside_a_write_transaction_fails(db, monkeypatch):
    """Webhooks (connectors/webhooks.py) and mail (connectors/mail.py) do not go through the
    transport; the guard covers them too."""
    from connectors.mail import SmtpSettings, send_mail
    from connectors.webhooks import post_signed
    from extension.platform.tenants import new_webhook_secret
    from tests.smtp_sink import SmtpSink

    seen = tx_guard.install(monkeypatch)
    sink = SmtpSink()
    smtp = SmtpSettings(host="127.0.0.1", port=sink.port, sender="cw@example.test", starttls=False)
    secret = new_webhook_secret()
    try:
        with responses.RequestsMock() as mock:
            mock.post("https://hooks.example/in")
            with db.session() as session:
                session.add(Tenant(id="guarded", name="Guarded", api_base="https://api.example",
                                   login_base="https://login.example", timezone="UTC"))
                session.flush()
                with pytest.raises(pytest.fail.Exception, match="inside an open database write"):
                    post_signed("https://hooks.example/in", secret, msg_id="m1", payload={})
                with pytest.raises(pytest.fail.Exception, match="inside an open database write"):
                    send_mail(smtp, to=["a@example.test"], subject="s", text="t")
            post_signed("https://hooks.example/in", secret, msg_id="m2", payload={})  # committed
            send_mail(smtp, to=["a@example.test"], subject="s", text="t")
    finally:
        sink.shutdown()
        sink.server_close()
    assert seen == ["POST https://hooks.example/in", f"SMTP 127.0.0.1:{sink.port}"]
    assert len(sink.messages) == 1
