"""/healthz answers while the process is up; /readyz checks the database and the queue and says
503 (problem+json) quickly when either is unreachable, and when the event pipeline stops
draining (due rows wait and no worker says it is alive, or the oldest due row is too old)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from extension import close_app, create_app

CLOSED_PORT = 1  # nothing listens on tcpmux; a connection is refused at once


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_database_and_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["checks"] == {"database": "ok", "queue": "ok", "pipeline": "ok"}
    assert response.json["pipeline"]["oldest_due_event_age_seconds"] is None


def _unreachable_database(tmp_path, database_url: str) -> str:
    if database_url.startswith("postgresql"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/coachwire"
    # The "file" is a directory: the parent exists, but SQLite can never open it.
    (tmp_path / "not-a-file.db").mkdir()
    return f"sqlite:///{tmp_path / 'not-a-file.db'}"


@pytest.fixture
def app_without(settings, tmp_path):
    """An app whose database or Redis is unreachable; always shut down afterwards."""
    made = []

    def build(part: str):
        if part == "database":
            changed = settings.with_overrides(
                database_url=_unreachable_database(tmp_path, settings.database_url))
        else:
            changed = settings.with_overrides(redis_url=f"redis://127.0.0.1:{CLOSED_PORT}/0")
        app = create_app(changed)
        made.append(app)
        return app

    yield build
    for app in made:
        close_app(app)


@pytest.mark.parametrize("part", ["database", "queue"])
def test_readyz_is_a_quick_503_problem_when_a_dependency_is_down(app_without, part):
    app = app_without(part)
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 503 and body["title"]
    assert body["checks"][part].startswith("error")
    other = "queue" if part == "database" else "database"
    assert body["checks"][other] == "ok"
    assert elapsed < 5, f"/readyz took {elapsed:.1f}s"
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_stays_200_while_the_database_is_down(app_without):
    assert app_without("database").test_client().get("/healthz").status_code == 200


def _waiting_row(db, tenant_id: str, seconds: int) -> int:
    """A `received` inbox row due since ``seconds`` ago (nobody drained it)."""
    from extension.platform.models.inbox import InboxEvent

    since = datetime.now(UTC) - timedelta(seconds=seconds)
    with db.session() as session:
        row = InboxEvent(tenant_id=tenant_id, delivery_id=f"d-{seconds}", type="conversation.ended",
                         payload={}, received_at=since, next_attempt_at=since)
        session.add(row)
        session.flush()
        return row.id


def _drained(db, row_id: int) -> None:
    from extension.platform.models.inbox import InboxEvent

    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.id == row_id).values(
            status="done", processed_at=datetime.now(UTC)))


def _beat(db, role: str = "worker") -> None:
    from extension.platform.worker import Heartbeat

    Heartbeat(role).beat(db)


def test_readyz_is_red_while_due_events_wait_and_no_worker_is_alive(client, db, tenant, settings):
    """With Redis only a worker process drains the inbox: rows waiting past the wait limit and
    no fresh worker heartbeat is a stopped pipeline; a fresh heartbeat turns it green."""
    if not settings.redis_url:
        pytest.skip("without Redis the web process runs the events itself")
    row = _waiting_row(db, tenant[0], 20)
    response = client.get("/readyz")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["checks"]["pipeline"].startswith("stalled")
    assert body["checks"]["database"] == body["checks"]["queue"] == "ok"
    assert body["pipeline"]["live_workers"] == 0
    assert body["pipeline"]["oldest_due_event_age_seconds"] >= 20
    _beat(db)
    assert client.get("/readyz").status_code == 200
    _drained(db, row)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["pipeline"]["oldest_due_event_age_seconds"] is None


def test_a_fresh_event_or_a_web_heartbeat_does_not_make_readyz_red(client, db, tenant, settings):
    _waiting_row(db, tenant[0], 1)  # within the wait limit: a worker is about to take it
    assert client.get("/readyz").status_code == 200
    _beat(db, role="embedded")  # a web process's embedded queue is no RQ worker
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["pipeline"]["live_workers"] == (0 if settings.redis_url else 1)


def test_readyz_is_red_when_the_oldest_due_event_is_past_the_backlog_limit(client, db, tenant, settings):
    _beat(db, role="worker" if settings.redis_url else "embedded")  # someone is alive, yet slow
    row = _waiting_row(db, tenant[0], 200)  # the default limit is 120 s
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["pipeline"].startswith("stalled: the oldest due event waits")
    assert response.json["pipeline"]["oldest_due_event_age_seconds"] >= 200
    _drained(db, row)
    assert client.get("/readyz").status_code == 200


def test_a_stale_heartbeat_counts_no_worker(client, db, settings):
    from extension.platform.models.ops import WorkerHeartbeat

    _beat(db)
    with db.session() as session:
        session.execute(update(WorkerHeartbeat).values(
            seen_at=datetime.now(UTC) - timedelta(seconds=settings.ready_stale_seconds + 1)))
    assert client.get("/readyz").json["pipeline"]["live_workers"] == 0
