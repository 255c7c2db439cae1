"""/healthz answers while the process is up; /readyz checks the database and the queue and says
503 (problem+json) quickly when either is unreachable."""

from __future__ import annotations

import time

import pytest

from extension import create_app

CLOSED_PORT = 1  # nothing listens on tcpmux; a connection is refused at once


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_database_and_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["checks"] == {"database": "ok", "queue": "ok"}


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
        app.extensions["coachwire.queue"].shutdown()
        app.extensions["coachwire.db"].dispose()


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
