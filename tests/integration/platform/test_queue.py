"""The queue under test: jobs run when the test drains them, and paths stored before the
capability packages still run (one release of compatibility)."""

from __future__ import annotations

import time

import pytest

from extension.platform import queue as queue_module
from extension.platform.queue import EmbeddedDispatcher, current_path, job, resolve

RAN: list[tuple[str, int]] = []


@job(queue="default", retries=1, intervals=(0,))
def record(label: str, value: int) -> None:
    RAN.append((label, value))


@pytest.fixture(autouse=True)
def _empty():
    RAN.clear()


def test_without_threads_a_job_waits_until_the_test_drains_it():
    dispatcher = EmbeddedDispatcher(threads=0)
    dispatcher.enqueue(record, "a", 1)
    dispatcher.enqueue(record, "b", 2)
    time.sleep(0.3)
    assert RAN == []  # no background thread took it
    assert dispatcher.wait_idle(5)
    assert RAN == [("a", 1), ("b", 2)]


def test_with_a_thread_a_job_runs_in_the_background():
    dispatcher = EmbeddedDispatcher(threads=1)
    try:
        dispatcher.enqueue(record, "c", 3)
        deadline = time.monotonic() + 5
        while not RAN and time.monotonic() < deadline:
            time.sleep(0.01)
        assert RAN == [("c", 3)]
    finally:
        dispatcher.shutdown()


def test_the_test_configuration_starts_no_worker_thread(app):
    dispatcher = app.extensions["coachwire.queue"]
    if hasattr(dispatcher, "redis"):
        pytest.skip("RQ: jobs wait for a burst worker already")
    assert dispatcher._threads == []


@pytest.mark.parametrize(("old", "new"), sorted(queue_module.MOVED_JOB_MODULES.items()))
def test_every_old_job_module_names_a_module_with_jobs(old, new):
    __import__(new)
    specs = [path for path in queue_module._REGISTRY if path.startswith(new + ".")]
    assert specs, f"{new} has no @job functions"
    name = specs[0].rpartition(".")[2]
    assert current_path(f"{old}.{name}") == f"{new}.{name}"
    assert resolve(f"{old}.{name}").func is resolve(f"{new}.{name}").func


def test_an_rq_job_stored_under_its_old_path_still_runs(app, run_jobs):
    """A job enqueued by the release before the move (its path names extension.services) is
    picked up and run by today's worker."""
    dispatcher = app.extensions["coachwire.queue"]
    if not hasattr(dispatcher, "redis"):
        pytest.skip("the embedded queue keeps nothing across releases")
    # the shape RQ stored for `fcr.finalize_all` before the move, written by a plain Queue
    from rq import Queue
    from rq.serializers import JSONSerializer

    old = Queue(dispatcher.namespace + "default", connection=dispatcher.redis, serializer=JSONSerializer)
    stored = old.enqueue_call(func="extension.services.fcr.finalize_all", result_ttl=600)
    run_jobs()
    finished = dispatcher.queue("default").fetch_job(stored.id)
    assert finished is not None and finished.get_status() == "finished", finished and finished.exc_info
    assert isinstance(finished.return_value(), dict)
