"""The queue under test: jobs run when the test drains them, and paths stored before the
capability packages still run (one release of compatibility)."""

from __future__ import annotations

import threading
import time

import pytest

from extension.platform import queue as queue_module
from extension.platform.queue import EmbeddedDispatcher, current_path, job, resolve

RAN: list[tuple[str, int]] = []


@job(queue="default", retries=1, intervals=(0,))
def record(label: str, value: int) -> None:
    RAN.append((label, value))


HOST_ANSWERS = threading.Event()


@job(queue="effects", retries=0)
def slow_effect() -> None:
    """An effect job waiting on a host that does not answer (until the test lets it)."""
    HOST_ANSWERS.wait(10)
    RAN.append(("effect", 0))


@job(queue="events", retries=0)
def drain(value: int) -> None:
    RAN.append(("event", value))


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


def test_an_event_job_never_waits_behind_a_host_bound_effect_job():
    """`make run`'s single embedded thread once ran events behind a booking call waiting out a
    host's 10 s read timeout; events have a lane of their own, as they have a worker."""
    HOST_ANSWERS.clear()
    dispatcher = EmbeddedDispatcher(threads=1)
    try:
        dispatcher.enqueue(slow_effect)
        time.sleep(0.2)  # the effect job holds its thread now
        dispatcher.enqueue(drain, 1)
        deadline = time.monotonic() + 5
        while ("event", 1) not in RAN and time.monotonic() < deadline:
            time.sleep(0.01)
        assert RAN == [("event", 1)], "the event waited behind the effect job"
        assert dispatcher.waiting() == 0
        HOST_ANSWERS.set()
        assert dispatcher.wait_idle(5)
        assert RAN == [("event", 1), ("effect", 0)]
    finally:
        HOST_ANSWERS.set()
        dispatcher.shutdown()


def test_without_threads_jobs_of_every_queue_run_in_the_order_they_were_due():
    HOST_ANSWERS.set()
    dispatcher = EmbeddedDispatcher(threads=0)
    dispatcher.enqueue(slow_effect)
    dispatcher.enqueue(drain, 2)
    dispatcher.enqueue(record, "r", 3)
    assert dispatcher.waiting() == 3
    assert dispatcher.wait_idle(5)
    assert RAN == [("effect", 0), ("event", 2), ("r", 3)]


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


def test_a_drain_that_could_not_be_enqueued_leaves_no_flag_behind(app, monkeypatch):
    """The drain flag was set and the enqueue then failed (Redis went away between the two):
    the tenant's next events found the flag and waited out its 120 s TTL with no job behind it."""
    from handlers import jobs

    dispatcher = app.extensions["coachwire.queue"]

    def down(func, *args, job_id=None):
        raise ConnectionError("Redis is away")

    with monkeypatch.context() as patch:
        patch.setattr(dispatcher, "enqueue", down)
        with pytest.raises(ConnectionError):
            jobs.notify_tenants(app, ["acme"])
    assert dispatcher.claim_flag("drain:acme", jobs.FLAG_TTL)  # free again
    dispatcher.release_flag("drain:acme")
