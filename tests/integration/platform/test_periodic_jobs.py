"""Every periodic job can be scheduled on both queue back ends and runs to completion.

The scheduler thread enqueues each (function, interval) of extension.platform.worker.periodic_jobs; a
plain function instead of a @job one once killed that thread in the embedded queue, silently
stopping every sweep."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import responses

from extension.platform.worker import _schedule_loop, job_name, periodic_jobs


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
        enqueued.append(job_name(func))

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
