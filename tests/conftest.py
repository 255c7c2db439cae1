"""Shared fixtures: real PostgreSQL and Redis when DATABASE_URL/REDIS_URL are set (CI), else the
embedded defaults (SQLite file, in-process queue). Every fixture cleans up after itself."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from extension import close_app, create_app
from extension.platform import config as config_module
from tests import tx_guard

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
BASE_DB_URL = os.environ.get("DATABASE_URL", "")
BASE_REDIS_URL = os.environ.get("REDIS_URL", "")
TEST_REDIS_DB = os.environ.get("COACHWIRE_TEST_REDIS_DB", "15")
# Each test session gets its own queue names and flag keys, so concurrent runs on one Redis
# never take (or flush) each other's jobs.
QUEUE_NAMESPACE = f"test-{uuid.uuid4().hex[:8]}-"
QUEUES = ("events", "effects", "default")


def _pg_admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")).replace("postgresql+psycopg", "postgresql")


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh database for this test session, migrated to head with Alembic."""
    from extension.platform.migrate import upgrade

    if BASE_DB_URL.startswith("postgresql"):
        import psycopg

        name = f"coachwire_test_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin_url(BASE_DB_URL)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _with_db(BASE_DB_URL, name)
        upgrade(url)
        yield url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'coachwire.db'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def redis_url():
    if not BASE_REDIS_URL:
        return None
    parts = urlsplit(BASE_REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))


@pytest.fixture
def settings(database_url, redis_url):
    return config_module.testing(database_url=database_url, redis_url=redis_url,
                                 queue_namespace=QUEUE_NAMESPACE)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    _clean(app)
    yield app
    _clean(app)
    close_app(app)


def _clean(app) -> None:
    from extension.platform import tenants
    from extension.platform.db import Base

    db = app.extensions["coachwire.db"]
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    tenants._cache.clear()
    dispatcher = app.extensions["coachwire.queue"]
    if hasattr(dispatcher, "redis"):
        _clean_redis(dispatcher)


def _clean_redis(dispatcher) -> None:
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry

    for name in QUEUES:
        queue = dispatcher.queue(name)
        queue.empty()
        for registry in (FailedJobRegistry(queue=queue), ScheduledJobRegistry(queue=queue)):
            for job_id in registry.get_job_ids():
                try:
                    registry.remove(job_id, delete_job=True)
                except ValueError:
                    # a job a worker's registry cleaning re-scheduled after its execution record
                    # expired: RQ cannot delete it, so drop the id and the job hash ourselves
                    registry.remove(job_id, delete_job=False)
                    dispatcher.redis.delete(f"rq:job:{job_id}")
    for key in dispatcher.redis.scan_iter(match=dispatcher.flag_key("*"), count=500):
        dispatcher.redis.delete(key)


@pytest.fixture(autouse=True)
def no_scheduler_left_running():
    """A test that starts a scheduler thread (a development-mode app's first request does) must
    stop it (``close_app``): a leftover one claims periodic leases in later tests' databases."""
    before = {t.ident for t in threading.enumerate() if t.name == "periodic"}
    yield
    left = [t for t in threading.enumerate()
            if t.name == "periodic" and t.ident not in before and t.is_alive()]
    for thread in left:
        thread.join(3)  # a stopped one finishes its tick
    assert not [t for t in left if t.is_alive()], "a scheduler thread outlived its test: close_app(app)"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["coachwire.db"]


@pytest.fixture
def run_jobs(app):
    """Run every queued job to completion with a real worker (RQ burst) or the embedded one."""

    def run(timeout: float = 30.0) -> None:
        dispatcher = app.extensions["coachwire.queue"]
        if hasattr(dispatcher, "redis"):
            from extension.platform.worker import run_worker

            run_worker(app, list(QUEUES), burst=True)
        else:
            assert dispatcher.wait_idle(timeout), "embedded jobs did not finish in time"

    return run


@pytest.fixture
def tenant(app):
    """A tenant pointing at a fake host; returns (tenant_id, webhook secret)."""
    from extension.platform import tenants

    box = app.extensions["coachwire.box"]
    with app.extensions["coachwire.db"].session() as session:
        created, secret = tenants.create(
            session, box, name="Acme", tenant_id="acme", api_base="https://api.mypurecloud.ie",
            login_base="https://login.mypurecloud.ie", client_id="cid", client_secret="csecret",
            timezone="Europe/London")
    return created.id, secret



# No connector call while a database write transaction is open (tests/tx_guard.py).
def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "host_call_in_transaction: allow a connector call while "
                                       "a database write transaction is open")


@pytest.fixture(autouse=True)
def no_host_call_in_a_write_transaction(request, monkeypatch):
    """Fails the test when a connector calls out while its thread holds a write transaction
    (also when the call happened in a job whose worker swallowed the error)."""
    if request.node.get_closest_marker("host_call_in_transaction"):
        yield
        return
    seen = tx_guard.install(monkeypatch)
    yield
    if seen:
        pytest.fail("host calls inside an open database write transaction: " + "; ".join(seen),
                    pytrace=False)
