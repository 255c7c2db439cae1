"""gunicorn settings Coachwire relies on (gunicorn reads ./gunicorn.conf.py by default).

Each gunicorn worker process starts its periodic-job scheduler as soon as it boots (after the
fork, so a thread started in the master never goes missing), not only with its first request:
without Redis the web processes are the ones that run the sweeps. Every process ticks; the
lease rows let one of them run each job per tick (extension/platform/worker.py).
"""


def post_worker_init(worker) -> None:
    from extension.platform.worker import start_background

    start_background(worker.wsgi)
