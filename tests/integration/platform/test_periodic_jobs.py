"""Every periodic job can be scheduled on both queue back ends and runs to completion, once per
tick however many processes tick, and its last run is recorded.

The scheduler thread enqueues each (function, interval) of extension.platform.worker.periodic_jobs; a
plain function instead of a @job one once killed that thread in the embedded queue, silently
stopping every sweep."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import responses

from extension import close_app
from extension.platform.worker import RUNNERS, _schedule_loop, job_name, periodic_jobs


def test_every_periodic_job_is_a_queue_job_with_a_distinct_name(app):
    jobs = periodic_jobs(app)
    assert all(hasattr(func, "spec") for func, _ in jobs), [job_name(f) for f, _ in jobs]
    names = [job_name(func) for func, _ in jobs]
    assert len(names) == len(set(names))


@pytest.fixture
def empty_host(tenant):
    """The tenant's host answers the directory sync (people, groups, queues) with empty lists."""
    from extension.platform import hosts

    hosts.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post("https://login.mypurecloud.ie/oauth/token", json={"access_token": "t", "expires_in": 3600})
        for path in ("users", "groups", "routing/queues"):
            rsps.get(f"https://api.mypurecloud.ie/api/v2/{path}", json={"entities": [], "pageCount": 1})
        yield rsps
    hosts.forget()


def test_the_scheduler_enqueues_each_job_and_each_one_runs(app, tenant, empty_host, run_jobs, monkeypatch,
                                                           caplog):
    dispatcher = app.extensions["coachwire.queue"]
    enqueued: list[str] = []
    real_enqueue = dispatcher.enqueue

    def recording(func, *args, job_id=None):
        real_enqueue(func, *args, job_id=job_id)
        enqueued.append(args[0] if func in RUNNERS.values() else job_name(func))

    monkeypatch.setattr(dispatcher, "enqueue", recording)
    want = {job_name(func) for func, _ in periodic_jobs(app)}
    stop = threading.Event()
    thread = threading.Thread(target=_schedule_loop, args=(app, stop), daemon=True)
    with caplog.at_level(logging.ERROR):
        thread.start()
        deadline = time.monotonic() + 10
        while not want <= set(enqueued) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert thread.is_alive()  # a scheduling error must not end the loop
        stop.set()
        thread.join(timeout=5)
        run_jobs()
    assert want <= set(enqueued), sorted(want - set(enqueued))
    assert not [r for r in caplog.records if "failed" in r.getMessage() or "could not" in r.getMessage()]
    if hasattr(dispatcher, "redis"):
        from rq.registry import FailedJobRegistry

        for name in ("events", "effects", "default"):
            assert FailedJobRegistry(queue=dispatcher.queue(name)).get_job_ids() == [], name


class Recorder:
    """A dispatcher stand-in for one process: what its ticks enqueued (nothing runs)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def enqueue(self, func, *args, job_id=None) -> None:
        assert func in RUNNERS.values()
        self.names.append(args[0])


def test_each_job_runs_once_per_tick_however_many_processes_tick(app, settings):
    """Four processes (apps with their own engines) tick at once, twice per slot: every job is
    claimed by exactly one of them per slot, on SQLite and PostgreSQL alike."""
    from datetime import UTC, datetime, timedelta

    from extension import create_app
    from extension.platform.worker import ensure_leases, tick

    others = [create_app(settings) for _ in range(3)]
    apps = [app, *others]
    try:
        ensure_leases(app.extensions["coachwire.db"], periodic_jobs(app))
        names = sorted(job_name(func) for func, _ in periodic_jobs(app))
        start = datetime.now(UTC)
        longest = max(every for _, every in periodic_jobs(app))
        for now in (start, start + timedelta(seconds=longest)):
            recorders = [Recorder() for _ in apps]
            barrier = threading.Barrier(len(apps))

            def run(index: int, at: datetime, recorder: Recorder, gate: threading.Barrier) -> None:
                gate.wait()
                for _ in range(2):
                    tick(apps[index], recorder, now=at)

            threads = [threading.Thread(target=run, args=(i, now, recorders[i], barrier))
                       for i in range(len(apps))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(n for r in recorders for n in r.names) == names
    finally:
        for other in others:
            close_app(other)


def test_a_tick_that_cannot_enqueue_gives_the_slot_back(app):
    from extension.platform.worker import ensure_leases, tick

    class Down:
        def enqueue(self, func, *args, job_id=None):
            raise ConnectionError("Redis is away")

    ensure_leases(app.extensions["coachwire.db"], periodic_jobs(app))
    assert tick(app, Down()) == []
    recorder = Recorder()
    tick(app, recorder)
    assert sorted(recorder.names) == sorted(job_name(f) for f, _ in periodic_jobs(app))


FAIL_MESSAGE = "the host said no"


def always_fails() -> None:
    raise RuntimeError(FAIL_MESSAGE)


def test_each_run_records_when_it_ran_its_outcome_and_next_due(app, tenant, empty_host, run_jobs,
                                                               monkeypatch):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from extension.platform.models.ops import PeriodicLease
    from extension.platform.queue import job
    from extension.platform.worker import ensure_leases, tick

    failing = job(queue="default", retries=0)(always_fails)
    monkeypatch.setitem(app.extensions, "coachwire.periodic", [*periodic_jobs(app), (failing, 60)])
    db = app.extensions["coachwire.db"]
    ensure_leases(db, periodic_jobs(app))
    before = datetime.now(UTC)
    tick(app)
    run_jobs()
    with db.session() as session:
        leases = {row.name: row for row in session.scalars(select(PeriodicLease))}
    bad = leases.pop(job_name(failing))
    assert bad.last_outcome == "error" and FAIL_MESSAGE in (bad.last_error or "")
    assert leases and all(row.last_outcome == "ok" for row in leases.values()), {
        n: (r.last_outcome, r.last_error) for n, r in leases.items()}
    for row in leases.values():
        assert row.last_started_at >= before and row.last_finished_at >= row.last_started_at
        assert row.due_at > before
    body = app.test_client().get("/readyz").json
    shown = {entry["name"]: entry for entry in body["periodic"]}
    assert shown[job_name(failing)]["last_outcome"] == "error"
    assert all(shown[name]["last_outcome"] == "ok" for name in leases)
    out = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert out.exit_code == 0, out.output
    assert job_name(failing) in out.output and "error" in out.output


def test_a_web_process_starts_its_scheduler_with_its_first_request(settings):
    """`flask run` and gunicorn without Redis: the web process ticks the periodic jobs."""
    from sqlalchemy import func, select

    from extension import create_app
    from extension.platform.models.ops import PeriodicLease

    web = create_app(settings.with_overrides(env="development", redis_url=None))
    try:
        web.test_client().get("/healthz")
        state = web.extensions.get("coachwire.scheduler", {})
        assert state.get("pid") is not None, "no scheduler thread was started"
        db = web.extensions["coachwire.db"]
        want = len(periodic_jobs(web))
        deadline = time.monotonic() + 20
        claimed = 0
        while time.monotonic() < deadline and claimed < want:
            with db.session() as session:
                claimed = session.scalar(select(func.count()).select_from(PeriodicLease).where(
                    PeriodicLease.claimed_at.is_not(None)))
            time.sleep(0.2)
        assert claimed == want
    finally:
        close_app(web)
    assert not web.extensions["coachwire.scheduler"], "close_app left the scheduler running"


def test_a_periodic_job_keeps_its_own_queue(app):
    """The inbox sweep runs on `events`, not behind `default` work."""
    from extension.platform.worker import ensure_leases, tick

    queues: dict[str, str] = {}

    class Queues:
        def enqueue(self, func, *args, job_id=None):
            queues[args[0]] = func.spec.queue

    ensure_leases(app.extensions["coachwire.db"], periodic_jobs(app))
    tick(app, Queues())
    assert queues == {job_name(func): func.spec.queue for func, _ in periodic_jobs(app)}
    assert queues["handlers.jobs.sweep"] == "events"


def test_after_a_redis_outage_the_inbox_sweep_is_due_at_once(app):
    """Events stored while Redis was away (or queued drains a restarted Redis forgot) wait for
    the inbox sweep; a worker that got Redis back brings the `events` queue's periodic jobs
    forward instead of leaving them to their interval."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from extension.platform.models.ops import PeriodicLease
    from extension.platform.worker import _sweep_soon, ensure_leases, tick

    db = app.extensions["coachwire.db"]
    ensure_leases(db, periodic_jobs(app))
    tick(app, Recorder())  # every job ran: all due later
    now = datetime.now(UTC)
    assert _sweep_soon(app, db)
    with db.session() as session:
        due = {row.name: row.due_at <= datetime.now(UTC) for row in session.scalars(select(PeriodicLease))}
    events = {job_name(f) for f, _ in periodic_jobs(app) if f.spec.queue == "events"}
    assert events == {"handlers.jobs.sweep"}
    assert {name for name, is_due in due.items() if is_due} == events, now
    assert tick(app, Recorder()) == ["handlers.jobs.sweep"]


def test_registering_a_plain_function_as_a_periodic_job_fails_at_start(app):
    """A plain function used to be accepted and then failed every tick, starving the jobs
    after it (and, once, stopped a worker): refuse it where it is registered."""
    from extension.platform.worker import add_periodic

    def plain() -> None:
        return None

    with pytest.raises(TypeError, match="not a @job"):
        add_periodic(app, plain, 60)
