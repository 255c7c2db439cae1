"""The webhook receiver: authenticated, durable before 2xx, idempotent, and strict on bad input."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extension.platform.models.inbox import InboxEvent
from tests.helpers import dumps, sentiment, signed_headers, transcript, user_end


def inbox_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(InboxEvent.id)))


def post(client, tenant_id, body: bytes, headers):
    return client.post(f"/webhooks/{tenant_id}", data=body, headers=headers)


def test_signed_event_is_stored_before_the_answer(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps(user_end("c-1", "agent-1"))
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="msg-1"))
    assert response.status_code == 202
    assert response.json == {"accepted": 1, "duplicates": 0}
    with db.session() as session:
        row = session.scalars(select(InboxEvent)).one()
    assert (row.tenant_id, row.delivery_id, row.type) == ("acme", "msg-1", "conversation.ended")
    assert row.payload["data"]["agent_id"] == "agent-1"


def test_redelivery_is_acknowledged_and_not_stored_twice(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps(sentiment("c-2", -80))
    headers = signed_headers(secret, body, msg_id="msg-dup")
    assert post(client, tenant_id, body, headers).status_code == 202
    again = post(client, tenant_id, body, signed_headers(secret, body, msg_id="msg-dup"))
    assert again.status_code == 200
    assert again.json == {"accepted": 0, "duplicates": 1}
    assert inbox_count(db) == 1


def test_batch_is_stored_in_one_request(client, db, tenant):
    tenant_id, secret = tenant
    events = [sentiment(f"c-{i}", 10) for i in range(300)]
    body = dumps({"events": events})
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 202
    assert response.json["accepted"] == 300
    assert inbox_count(db) == 300


@pytest.mark.parametrize("case", ["tampered-body", "tampered-signature", "stale", "future",
                                  "wrong-secret", "no-signature", "garbage-signature"])
def test_bad_signatures_get_401_and_store_nothing(client, db, tenant, case):
    tenant_id, secret = tenant
    body = dumps(user_end("c-9", "agent-9"))
    now = datetime.now(UTC)
    headers = signed_headers(secret, body)
    if case == "tampered-body":
        body = body.replace(b"agent-9", b"agent-8")
    elif case == "tampered-signature":
        sig = headers["webhook-signature"]
        headers["webhook-signature"] = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    elif case == "stale":
        headers = signed_headers(secret, body, timestamp=now - timedelta(minutes=6))
    elif case == "future":
        headers = signed_headers(secret, body, timestamp=now + timedelta(minutes=6))
    elif case == "wrong-secret":
        other = "whsec_" + base64.b64encode(uuid.uuid4().bytes).decode()
        headers = signed_headers(other, body)
    elif case == "no-signature":
        headers.pop("webhook-signature")
    elif case == "garbage-signature":
        headers["webhook-signature"] = "v1,@@@not-base64 v9"
    response = post(client, tenant_id, body, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert b"agent-9" not in response.data
    assert inbox_count(db) == 0


def test_unknown_tenant_is_404(client, db, tenant):
    _, secret = tenant
    body = dumps(user_end("c-1", "a-1"))
    response = post(client, "nobody", body, signed_headers(secret, body))
    assert response.status_code == 404
    assert response.json["title"] == "Unknown Tenant"
    assert inbox_count(db) == 0


def test_disabled_tenant_is_403(app, client, db, tenant):
    from extension.platform import tenants
    from extension.platform.models.tenants import Tenant

    tenant_id, secret = tenant
    with db.session() as session:
        tenants.set_status(session, session.get(Tenant, tenant_id), "disabled")
    body = dumps(user_end("c-1", "a-1"))
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 403
    assert inbox_count(db) == 0


def test_oversize_body_is_413(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps({"events": [sentiment("c", 1)], "pad": "x" * (1024 * 1024)})
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert inbox_count(db) == 0


def test_invalid_json_is_400(client, db, tenant):
    tenant_id, secret = tenant
    body = b'{"topicName": "v2.quality.evaluations", '
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 400
    assert inbox_count(db) == 0


def test_json_that_is_not_an_event_is_422_with_the_failing_path(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps({"events": [sentiment("c-1", 5), {"hello": "world"}]})
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 422
    assert any(error["path"].startswith("/events/1") for error in response.json["errors"])
    assert inbox_count(db) == 0


def test_batch_over_500_is_rejected_whole(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps({"events": [sentiment(f"c-{i}", 1) for i in range(501)]})
    response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code in (413, 422)
    assert inbox_count(db) == 0


def test_api_key_scheme(app, client, db, tenant):
    from extension.platform import tenants
    from extension.platform.models.tenants import Tenant

    tenant_id, _ = tenant
    with db.session() as session:
        key = tenants.add_api_key(session, app.extensions["coachwire.box"],
                                  session.get(Tenant, tenant_id))
    body = dumps({"version": "0", "id": "eb-1", "detail-type": "v2.quality.evaluations",
                  "source": "aws.partner/genesys.com/cloud/org/x", "time": "2026-11-20T10:00:00Z",
                  "detail": sentiment("c-77", -50)})
    ok = post(client, tenant_id, body, {"x-api-key": key, "content-type": "application/json"})
    assert ok.status_code == 202, ok.json
    bad = post(client, tenant_id, body, {"authorization": "Bearer nope"})
    assert bad.status_code == 401
    with db.session() as session:
        row = session.scalars(select(InboxEvent)).one()
    assert row.delivery_id == "eb-1"


def test_rotated_secret_keeps_the_previous_one_valid(app, client, db, tenant):
    from extension.platform import tenants
    from extension.platform.models.tenants import Tenant

    tenant_id, old_secret = tenant
    with db.session() as session:
        new_secret = tenants.rotate_secret(session, app.extensions["coachwire.box"],
                                           session.get(Tenant, tenant_id))
    for index, secret in enumerate((old_secret, new_secret)):
        body = dumps(sentiment(f"c-rot-{index}", 3))
        assert post(client, tenant_id, body, signed_headers(secret, body)).status_code == 202


def test_stored_rows_keep_every_field_and_the_batch_order(client, db, tenant):
    """PostgreSQL takes a group as one JSON parameter, SQLite as bound rows: both must store
    the same columns, with aware timestamps, payloads byte-for-byte, and ids in arrival order."""
    tenant_id, secret = tenant
    events = [sentiment(f"c-{i}", 10 * i - 40) for i in range(6)]
    tricky = 'quote " backslash \\ emoji \U0001F600 \u00e9'
    events[2] = transcript("c-2", [("customer", tricky)])
    body = dumps({"events": events})
    before = datetime.now(UTC)
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="batch-1"))
    after = datetime.now(UTC)
    assert response.status_code == 202 and response.json == {"accepted": 6, "duplicates": 0}
    with db.session() as session:
        rows = session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
    assert [row.subject for row in rows] == [f"c-{i}" for i in range(6)]
    for row in rows:
        assert row.tenant_id == tenant_id  # (status moves on: the queue drains at once)
        assert row.payload["delivery_id"] == row.delivery_id
        assert row.payload["type"] == row.type and row.payload["subject"] == row.subject
        assert row.source_topic == row.payload["source_topic"]
        occurred = row.payload["occurred_at"]
        assert row.occurred_at == (occurred and datetime.fromisoformat(occurred))
        assert occurred is None or row.occurred_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= row.received_at <= after + timedelta(seconds=1)
    assert rows[2].payload["data"]["phrases"][0]["text"] == tricky
    assert len({row.delivery_id for row in rows}) == 6
    assert rows[2].occurred_at is not None  # the transcript carries an eventTime


def test_transcript_text_is_redacted_before_the_inbox_stores_it(client, db, tenant):
    tenant_id, secret = tenant
    said = "My card is 4111 1111 1111 1111, mail me at jo.smith@example.com or call 020 7946 0958"
    body = dumps(transcript("c-pii", [("customer", said), ("agent", "Order 12345678 is on its way")]))
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="pii-1"))
    assert response.status_code == 202
    with db.session() as session:
        row = session.scalars(select(InboxEvent).where(InboxEvent.delivery_id == "pii-1")).one()
    texts = [phrase["text"] for phrase in row.payload["data"]["phrases"]]
    stored = " ".join(texts)
    for secret_part in ("4111", "jo.smith", "7946"):
        assert secret_part not in stored
    assert "[CARD]" in texts[0] and "[EMAIL]" in texts[0]
    assert texts[1] == "Order 12345678 is on its way"  # an order number is not PII


@pytest.mark.parametrize("poison", ["nul \u0000 byte", "lone \ud800 surrogate"])
def test_text_that_no_database_can_store_is_422_and_stores_nothing(client, db, tenant, poison):
    """PostgreSQL's jsonb refuses U+0000 and unpaired surrogates. Accepted, such an event would
    fail the whole group commit it joined, other senders' requests with it; so it is refused
    on its own, with the path of the field, and nothing is stored."""
    tenant_id, secret = tenant
    events = [sentiment("c-ok", 10), transcript("c-bad", [("customer", poison)])]
    body = dumps({"events": events})
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="poison-1"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert any(error["path"].startswith("/events/1/") for error in response.json["errors"])
    assert inbox_count(db) == 0
    fine = dumps(sentiment("c-after", 10))
    after = post(client, tenant_id, fine, signed_headers(secret, fine, msg_id="poison-2"))
    assert after.status_code == 202


def test_an_event_nested_too_deeply_is_422_naming_the_path_and_stores_nothing(client, db, tenant):
    """An event nested ~950 levels (well under 1 MiB) was accepted, then could not be decoded
    again in the worker and blocked its tenant's drain for good. The receiver bounds nesting
    (MAX_DEPTH levels): the sender gets a 422 naming where, nothing is stored, and the same
    tenant's next event is accepted. (300 levels here: the test client's own stack is deeper
    than a server's, so 950 already trips RecursionError (400) in it.)"""
    tenant_id, secret = tenant
    deep: object = "bottom"
    for _ in range(300):
        deep = {"x": deep}
    event = user_end("c-deep", "agent-1")
    event["eventBody"]["extra"] = deep
    body = dumps({"events": [sentiment("c-ok", 10), event]})
    assert len(body) < 1024 * 1024
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="deep-1"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    [error] = response.json["errors"]
    assert error["path"].startswith("/events/1/eventBody/extra/x/x")
    assert "nested deeper than 64" in error["message"]
    assert inbox_count(db) == 0
    fine = dumps(sentiment("c-after", 10))
    after = post(client, tenant_id, fine, signed_headers(secret, fine, msg_id="deep-2"))
    assert after.status_code == 202


def test_a_bad_signature_is_decided_before_any_database_work(app, client, db, tenant):
    """Authentication comes first: once the tenant's settings are cached, a request with a bad
    signature runs no SQL statement at all (no inbox write, no lookup), and stores nothing."""
    from sqlalchemy import event as sa_event

    tenant_id, secret = tenant
    good = dumps(sentiment("c-warm", 10))
    assert post(client, tenant_id, good, signed_headers(secret, good)).status_code == 202
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    body = dumps(sentiment("c-forged", 10))
    headers = signed_headers(secret, body)
    headers["webhook-signature"] = "v1," + "A" * 44
    sa_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = post(client, tenant_id, body, headers)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", seen)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert statements == []
    assert inbox_count(db) == 1


def test_a_number_too_large_for_a_float_is_400_and_stores_nothing(client, db, tenant):
    """json reads 1e400 as infinity: a score was silently clipped to +1 and a duration crashed
    the mapping (500). It is refused as invalid JSON, like NaN and Infinity."""
    tenant_id, secret = tenant
    body = dumps(sentiment("c-big", 10)).replace(b'"sentimentOverallScore": 10',
                                                 b'"sentimentOverallScore": 1e400')
    assert b"1e400" in body
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="big-1"))
    assert response.status_code == 400
    assert inbox_count(db) == 0


# The receiver answers in front of Flask (handlers/webhooks.py): the edges of that layer.


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_problem_with_allow_header(client, db, tenant, method):
    tenant_id, secret = tenant
    body = dumps(user_end("c-1", "agent-1"))
    response = client.open(f"/webhooks/{tenant_id}", method=method, data=body,
                           headers=signed_headers(secret, body))
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.headers["Allow"] == "POST"
    assert response.json["status"] == 405
    assert inbox_count(db) == 0


@pytest.mark.parametrize("path", ["/webhooks/", "/webhooks/acme/extra", "/webhooks"])
def test_paths_beside_the_receiver_are_left_to_flask(client, db, tenant, path):
    _, secret = tenant
    body = dumps(user_end("c-1", "agent-1"))
    response = client.post(path, data=body, headers=signed_headers(secret, body))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert inbox_count(db) == 0


def test_other_routes_still_reach_flask(client):
    response = client.get("/healthz")
    assert response.status_code == 200


def test_unexpected_error_is_a_500_problem_and_logged(app, client, db, tenant, monkeypatch, caplog):
    tenant_id, secret = tenant

    def broken(tenant_id, events):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.extensions["coachwire.inbox"], "accept", broken)
    body = dumps(user_end("c-1", "agent-1"))
    with caplog.at_level("ERROR", logger="coachwire.webhooks"):
        response = post(client, tenant_id, body, signed_headers(secret, body))
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "disk on fire" not in response.get_data(as_text=True)  # no internals in the answer
    assert any("disk on fire" in (record.exc_text or "") for record in caplog.records)
    assert inbox_count(db) == 0


class _EndlessBody(io.RawIOBase):
    """A chunked sender that never stops; counts what the server read."""

    def __init__(self, start: bytes) -> None:
        self.start, self.served = start, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.served > 64 * 1024 * 1024:  # the unbounded read the limit must prevent
            raise AssertionError("the receiver read past any sane limit")
        chunk = (self.start if self.served == 0 else b"x" * 65536)[:len(buffer)]
        buffer[:len(chunk)] = chunk
        self.served += len(chunk)
        return len(chunk)


def test_chunked_body_over_the_limit_is_413_and_the_read_is_bounded(app, client, db, tenant):
    """A chunked body has no Content-Length to check first: the read itself must stop."""
    tenant_id, secret = tenant
    stream = _EndlessBody(b'{"events": [], "pad": "')
    response = client.post(f"/webhooks/{tenant_id}",
                           headers={**signed_headers(secret, b"{}"), "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input": io.BufferedReader(stream),
                                              "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert stream.served <= app.config["MAX_CONTENT_LENGTH"] + 2 * 65536
    assert inbox_count(db) == 0


def test_chunked_body_within_the_limit_is_accepted(client, db, tenant):
    tenant_id, secret = tenant
    body = dumps(user_end("c-9", "agent-9"))
    response = client.post(f"/webhooks/{tenant_id}", input_stream=io.BytesIO(body),
                           headers={**signed_headers(secret, body), "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 202
    assert inbox_count(db) == 1


@pytest.mark.parametrize("failure", ["postgres-down", "writer-timeout", "pool-timeout"])
def test_an_unavailable_store_is_503_with_retry_after_and_stores_nothing(app, client, db, tenant,
                                                                         monkeypatch, failure):
    import psycopg
    import sqlalchemy.exc

    tenant_id, secret = tenant
    errors = {"postgres-down": psycopg.OperationalError("server closed the connection unexpectedly"),
              "writer-timeout": TimeoutError("the inbox writer did not answer in time"),
              "pool-timeout": sqlalchemy.exc.TimeoutError("QueuePool limit reached")}

    def unavailable(tenant_id, events):
        raise errors[failure]

    monkeypatch.setattr(app.extensions["coachwire.inbox"], "accept", unavailable)
    body = dumps(user_end("c-1", "agent-1"))
    response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="m-503"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"].isdigit()
    assert inbox_count(db) == 0
    monkeypatch.undo()
    again = post(client, tenant_id, body, signed_headers(secret, body, msg_id="m-503"))
    assert again.status_code == 202 and inbox_count(db) == 1  # the sender's retry is stored once


def test_a_database_locked_past_the_writers_wait_is_503_and_the_retry_is_stored(app, client, db, tenant):
    """SQLite: another process holds the write lock (a long worker transaction). The receiver
    answers within its own lock wait, before a sender's 10 s read timeout, instead of a 500."""
    import sqlite3
    import time

    if not db.engine.url.drivername.startswith("sqlite"):
        pytest.skip("PostgreSQL has no database-wide write lock")
    tenant_id, secret = tenant
    warm = dumps(user_end("c-8", "agent-1"))  # steady traffic: the tenant's config is cached
    assert post(client, tenant_id, warm, signed_headers(secret, warm)).status_code == 202
    body = dumps(user_end("c-9", "agent-1"))
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = post(client, tenant_id, body, signed_headers(secret, body, msg_id="m-lock"))
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert waited < 8
    assert inbox_count(db) == 1
    again = post(client, tenant_id, body, signed_headers(secret, body, msg_id="m-lock"))
    assert again.status_code == 202 and inbox_count(db) == 2
