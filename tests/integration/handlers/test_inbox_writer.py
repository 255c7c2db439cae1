"""The inbox writer under concurrent requests, a lost database connection, and shutdown."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from extension.platform import tenants
from extension.platform.models.inbox import InboxEvent
from handlers.events import DomainEvent
from handlers.inbox import NOTIFY_INTERVAL, PG_APPLICATION, InboxWriter


def event(delivery_id: str) -> DomainEvent:
    return DomainEvent(delivery_id=delivery_id, type="sentiment.scored", subject="c-1",
                       occurred_at=datetime.now(UTC), source_topic="t", data={"score": 1})


@pytest.fixture
def two_tenants(app):
    with app.extensions["coachwire.db"].session() as session:
        for tenant_id in ("acme", "globex"):
            tenants.create(session, app.extensions["coachwire.box"], name=tenant_id,
                           tenant_id=tenant_id, api_base="https://api.mypurecloud.ie",
                           login_base="https://login.mypurecloud.ie", client_id="c",
                           client_secret="s")
    return "acme", "globex"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[set[str]] = []
        self.lock = threading.Lock()

    def __call__(self, tenant_ids) -> None:
        with self.lock:
            self.calls.append(set(tenant_ids))


def test_concurrent_requests_are_each_stored_once_and_every_tenant_is_notified(db, two_tenants):
    recorder = Recorder()
    writer = InboxWriter(db, on_committed=recorder)
    results: dict[tuple[int, int], object] = {}
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            for i in range(40):
                tenant_id = two_tenants[(n + i) % 2]
                ids = [f"d-{n}-{i}", f"d-{n}-{i}-b"]
                if i % 10 == 3:  # another client's delivery: the same event sent twice
                    ids.append(f"d-{(n + 1) % 12}-{i}")
                results[(n, i)] = (tenant_id, writer.accept(tenant_id, [event(d) for d in ids]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started
    writer.close()
    assert not errors
    with db.session() as session:
        stored = session.execute(select(InboxEvent.tenant_id, InboxEvent.delivery_id)).all()
    assert len(stored) == len(set(stored))
    accepted = sum(result.accepted for _, result in results.values())
    assert accepted == len(stored)
    all_ids = [i for _, result in results.values() for i in result.ids]
    assert len(all_ids) == len(set(all_ids)) == len(stored)
    # Each of the 12 x 40 requests was answered, and its own two new ids were new.
    assert len(results) == 480
    assert all(result.accepted >= 2 or (result.accepted + result.duplicates) >= 2
               for _, result in results.values())
    # Coalesced: at most one notification per interval, plus the first and the final flush.
    assert len(recorder.calls) <= elapsed / NOTIFY_INTERVAL + 2
    assert set().union(*recorder.calls) == {"acme", "globex"}


def test_the_last_commit_is_notified_without_further_traffic(db, two_tenants):
    recorder = Recorder()
    writer = InboxWriter(db, on_committed=recorder, notify_interval=0.2)
    try:
        writer.accept("acme", [event("first")])  # sent at once
        writer.accept("globex", [event("second")])  # gathered: due 0.2 s after the first
        assert recorder.calls == [{"acme"}]
        deadline = time.monotonic() + 5
        while len(recorder.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recorder.calls == [{"acme"}, {"globex"}]
    finally:
        writer.close()


def test_a_lost_connection_is_replaced_and_the_group_still_stored(db, two_tenants):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the writer's own connection exists on PostgreSQL only")
    writer = InboxWriter(db, on_committed=Recorder())
    try:
        assert writer.accept("acme", [event("before")]).accepted == 1
        backend = writer._pg.info.backend_pid  # this writer's own session, not other tests'
        with db.engine.begin() as conn:
            killed = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid = :pid AND application_name = :app"),
                {"pid": backend, "app": PG_APPLICATION}).scalar()
        assert killed is True
        result = writer.accept("acme", [event("after")])
        assert (result.accepted, result.duplicates) == (1, 0)
        replaced = writer._pg.info.backend_pid
        assert replaced != backend
    finally:
        writer.close()
    with db.session() as session:
        assert session.scalar(select(func.count(InboxEvent.id))) == 2
    with db.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                            {"pid": replaced}).scalar()
    assert left == 0  # close() released the writer's connection


def test_a_closed_writer_starts_again_on_the_next_request(db, two_tenants):
    writer = InboxWriter(db, on_committed=Recorder())
    assert writer.accept("acme", [event("one")]).accepted == 1
    writer.close()
    assert writer.accept("acme", [event("two")]).accepted == 1
    writer.close()
    with db.session() as session:
        assert session.scalar(select(func.count(InboxEvent.id))) == 2
