"""End-to-end fixtures: the sandbox host served on a loopback port, a tenant pointing at it;
helpers that run a real `flask worker` process, kill it and wait for what it does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.conftest import QUEUE_NAMESPACE, ROOT
from tests.helpers import serving


@pytest.fixture
def sandbox():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=11)
    with serving(app) as base:
        yield base, app.extensions["sandbox"]


@pytest.fixture
def host_tenant(app, sandbox):
    """A tenant on the sandbox host, with a Graph calendar for supervisors, people synced."""
    from extension.platform import hosts, people, tenants

    base, _ = sandbox
    hosts.forget()
    box = app.extensions["coachwire.box"]
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenant, secret = tenants.create(
            session, box, name="Sandbox org", tenant_id="sbx", api_base=base, login_base=base,
            client_id="sandbox-client", client_secret="sandbox-secret", timezone="Europe/London",
            calendar_provider="graph",
            calendar_config={"tenant_id": "contoso", "client_id": "graph-client",
                             "client_secret": "graph-secret",
                             "login_base": f"{base}/graph/oauth2", "graph_base": f"{base}/graph/v1.0"})
    with app.app_context():  # after the commit: the host is asked with no transaction open
        people.sync_now(app.extensions["coachwire.db"], tenant.id)
    yield tenant.id, secret
    hosts.forget()


def sandbox_state(base: str) -> dict:
    return requests.get(f"{base}/sandbox/state.json", timeout=5).json()


def start_worker(log_path: Path, *, database_url: str, redis_url: str | None,
                 namespace: str = QUEUE_NAMESPACE, **settings: str) -> subprocess.Popen:
    """`flask worker` on this database and Redis (None: its embedded queue), its output appended
    to ``log_path``. Keyword arguments are COACHWIRE_* settings: ``sweep_seconds="1"`` is
    ``COACHWIRE_SWEEP_SECONDS=1``. It runs in its own process group: RQ forks a scheduler
    process, which must die with the worker (:func:`kill`)."""
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env.update({"DATABASE_URL": database_url, "COACHWIRE_ENV": "test",
                "COACHWIRE_QUEUE_NAMESPACE": namespace})
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update({f"COACHWIRE_{name.upper()}": value for name, value in settings.items()})
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL, *, timeout: float = 20) -> None:
    """Signal ``process``'s whole process group (a worker and what it forked) and reap it; one
    already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=timeout)


def wait_until(predicate: Callable[[], object], seconds: float, *, step: float = 0.2) -> bool:
    """Whether ``predicate()`` came true within ``seconds``, asking every ``step`` seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
