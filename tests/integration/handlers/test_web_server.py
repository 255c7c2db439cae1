"""The Procfile's web command itself (gunicorn with its worker class, gevent) serving concurrent
signed webhooks against this session's database and queue: what production runs, not the test
client. Under gevent the inbox writer's thread, locks and queue are the patched, cooperative
ones and psycopg waits on the hub; this checks that they still commit, answer and shut down."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import select

from extension.platform.models.inbox import InboxEvent
from tests.conftest import QUEUE_NAMESPACE, ROOT
from tests.helpers import dumps, sentiment, signed_headers


def procfile_web(port: int) -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    words = shlex.split(line.removeprefix("web:").replace("${PORT:-5000}", str(port)))
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", *words]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web_server(app, database_url, redis_url, tmp_path):
    port = free_port()
    # `test`: the web process must open the secrets the test's app sealed with the test keys,
    # which every other environment refuses
    env = {**os.environ, "DATABASE_URL": database_url, "COACHWIRE_ENV": "test",
           "COACHWIRE_QUEUE_NAMESPACE": QUEUE_NAMESPACE, "PYTHONPATH": str(ROOT)}
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(procfile_web(port), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded CI machine boots two workers slowly
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/readyz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the web command did not become ready:\n" + (tmp_path / "web.log").read_text())
    yield base, proc, tmp_path / "web.log"
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_the_procfile_web_command_stores_concurrent_webhooks_once_and_stops_cleanly(
        web_server, db, tenant):
    base, proc, log_path = web_server
    tenant_id, secret = tenant
    answers: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with requests.Session() as session:
            for i in range(10):
                body = dumps(sentiment(f"c-{n}-{i}", 10))
                for _delivery in (1, 2) if i == 0 else (1,):  # the first one is redelivered
                    response = session.post(f"{base}/webhooks/{tenant_id}", data=body, timeout=30,
                                            headers=signed_headers(secret, body, msg_id=f"m-{n}-{i}"))
                    with lock:
                        answers.append((f"m-{n}-{i}", response.status_code, response.json()))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for _, status, _ in answers)
    assert statuses == [200] * 24 + [202] * 240
    assert all(body == {"accepted": 0, "duplicates": 1} for _, status, body in answers
               if status == 200)
    with db.session() as session:
        stored = session.scalars(select(InboxEvent.delivery_id)
                                 .where(InboxEvent.tenant_id == tenant_id)).all()
    assert sorted(stored) == sorted(f"m-{n}-{i}" for n in range(24) for i in range(10))

    body = dumps(sentiment("c-forged", 10))
    forged = requests.post(f"{base}/webhooks/{tenant_id}", data=body, timeout=10,
                           headers=signed_headers("whsec_" + "QUJD" * 8, body))
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    log_text = log_path.read_text()
    assert "Traceback" not in log_text and "Warning" not in log_text, log_text


def test_the_wsgi_module_freezes_what_start_up_built(tmp_path):
    """A full garbage collection must not walk the start-up heap in every worker (wsgi.py)."""
    probe = "import gc, wsgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'freeze.db'}",
           "COACHWIRE_ENV": "development"}
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    assert int(out[-1]) > 50_000  # the app, its models and libraries (0 when not frozen)
