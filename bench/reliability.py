"""Reliability bench: what faults do to "nothing accepted is lost, every effect happens once".

Runs the production shape (the Procfile's gunicorn web + its two `flask worker` RQ workers, a private
PostgreSQL cluster and a private Redis that the bench may stop and restart, the sandbox host behind
a fault proxy) and, with `--shape embedded`, `make run`'s shape (one process, SQLite, in-process
queue). Each scenario gets its own tenant and a freshly reset sandbox world, sends signed
conversation events at a steady rate through a sender that retries like a host (5xx, 429 and
connection errors, with backoff and Retry-After, same webhook id), injects its fault, waits for
everything to settle and reports:

* events sent / accepted (2xx) / stored in the inbox / processed / failed, and how many were lost
  (accepted but not stored);
* the receiver's 5xx answers (503 counted apart: the only 5xx allowed, while the store is down);
* effects decided by Coachwire (appointment and recognition rows) vs effects on the host, copies
  on the host (same idempotency key / same recipient and conversation more than once);
* how long normal (conversation) events waited between being stored and being processed (p99,
  max, how many over 5 s), and the time from the end of the fault until the host had every effect;
* whether the worker process was still alive at the end without a manual restart.

Scenarios: steady, worker-kill (kill -9, a supervisor restarts it 2 s later), redis-restart (no
manual worker restart), postgres-restart, host-429 and host-5xx storms (20 s), host-outage (the
host answers 503 for --outage seconds: issue 17's long outage), lost-answers (the host carries out
creates and the answer is lost: a 502 or a stall past the 10 s read timeout), eval-burst (500
`v2.quality.evaluations` notifications in one signed batch during the traffic), redeliveries
(every event delivered twice, a conversation's events out of order).

    python -m bench.reliability [--shape production|embedded] [--only steady,host-5xx]
                                [--duration 45] [--rate 4] [--outage 120]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    ROOT,
    conversation_events,
    dumps,
    free_port,
    log,
    percentile,
    procfile_web_args,
    procfile_workers,
    sign,
    stop_process,
    table,
    wait_http,
)

PRODUCTION = ["steady", "worker-kill", "redis-restart", "postgres-restart", "host-429",
              "host-5xx", "host-outage", "lost-answers", "eval-burst", "redeliveries"]
EMBEDDED = ["steady", "host-429", "host-5xx", "lost-answers", "eval-burst", "redeliveries"]
CREATE_PATHS = ("/api/v2/coaching/appointments", "/api/v2/employeeengagement/recognitions")
TERMINAL = {"booked", "sent", "failed", "manual", "task", "cancelled", "skipped", "adopted",
            "done"}
LOG_DIR = Path(tempfile.gettempdir()) / "coachwire-reliability"
FAULT_AT = 15.0
FAULT_SECONDS = 20.0


# ------------------------------------------------------------------ private services


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port, so the bench can restart it."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="cw-rel-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l",
                  str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


# ------------------------------------------------------------------ the fault proxy


class FaultProxy:
    """Between Coachwire and the sandbox host: passes, or answers 503/429, or loses the answer
    of a create the host carried out (every other one a 502, the rest a 12 s stall)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode: str) -> None:
        with self.lock:
            self.mode = mode

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        with self.lock:
            mode = self.mode
        create = req.command == "POST" and req.path.split("?")[0] in CREATE_PATHS
        if mode in ("503", "429"):
            self.counts[f"injected {mode}"] += 1
            payload = {"message": "injected by the bench", "status": int(mode),
                       "code": "service.unavailable" if mode == "503" else "too.many.requests"}
            self._answer(req, int(mode), dumps(payload), {"Retry-After": "2"})
            return
        headers = {k: v for k, v in req.headers.items()
                   if k.lower() in ("authorization", "content-type", "accept")}
        try:
            upstream = self._session().request(req.command, self.upstream + req.path,
                                               headers=headers, data=body, timeout=30,
                                               allow_redirects=False)
        except requests.RequestException:
            self._answer(req, 502, b'{"message":"upstream down"}', {})
            return
        if mode == "lose" and create and upstream.status_code < 300:
            self.counts["answers lost"] += 1
            if self.counts["answers lost"] % 2:
                self._answer(req, 502, b'{"message":"bad gateway"}', {})
            else:
                time.sleep(12)  # past the connector's 10 s read timeout
                self._answer(req, upstream.status_code, upstream.content, {})
            return
        extra = {k: v for k, v in upstream.headers.items()
                 if k.lower() in ("retry-after", "location")}
        self._answer(req, upstream.status_code, upstream.content, extra,
                     upstream.headers.get("Content-Type", "application/json"))

    @staticmethod
    def _answer(req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict,
                content_type: str = "application/json") -> None:
        try:
            req.send_response(status)
            req.send_header("Content-Type", content_type)
            req.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                req.send_header(key, value)
            req.end_headers()
            req.wfile.write(body)
        except OSError:
            pass  # the client gave up (a lost answer): that is the point

    def close(self) -> None:
        self.server.shutdown()


# ------------------------------------------------------------------ the stack


@dataclass
class Stack:
    shape: str
    database_url: str
    redis_url: str | None
    sandbox: str
    proxy: FaultProxy
    web_url: str = ""
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    pg: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    worker_restarts: int = 0

    def env(self) -> dict[str, str]:
        env = {**os.environ, "DATABASE_URL": self.database_url, "COACHWIRE_ENV": "development",
               "PYTHONPATH": str(ROOT)}
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def logs(self, name: str) -> Any:
        """The process's stderr goes to a file the bench names at the end (not the table)."""
        return open(LOG_DIR / f"{name}.log", "ab")

    def start_web(self) -> None:
        port = free_port()
        if self.shape == "production":
            cmd = [sys.executable, "-m", "gunicorn", *procfile_web_args(), "--bind",
                   f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
        else:
            cmd = [sys.executable, "-m", "bench.embedded_server", str(port)]
        self.procs["web"] = subprocess.Popen(cmd, cwd=ROOT, env=self.env(),
                                             stdout=subprocess.DEVNULL, stderr=self.logs("web"),
                                             start_new_session=True)
        self.web_url = f"http://127.0.0.1:{port}"
        wait_http(self.web_url + "/healthz", timeout=120)

    def start_worker(self) -> None:
        """The Procfile's worker processes (the events worker and the effects worker), each
        one that is not running."""
        if self.shape != "production":
            return
        for name, args in procfile_workers().items():
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                continue
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args], cwd=ROOT,
                env=self.env(), stdout=subprocess.DEVNULL, stderr=self.logs(name),
                start_new_session=True)

    def wait_for_worker(self, timeout: float = 180.0) -> None:
        """Steady state: the worker registers with RQ only after loading its model."""
        if self.shape != "production" or not self.redis_url:
            return
        from redis import Redis
        from rq import Worker

        connection = Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if len(Worker.all(connection=connection)) >= len(procfile_workers()):
                    return
            except Exception:
                pass
            time.sleep(0.5)
        log("the worker did not register with RQ in time")

    def worker_alive(self) -> bool | None:
        procs = [self.procs.get(name) for name in procfile_workers()]
        if all(proc is None for proc in procs):
            return None
        return all(proc is not None and proc.poll() is None for proc in procs)

    def ensure_worker(self) -> None:
        if self.shape == "production" and not self.worker_alive():
            self.worker_restarts += 1
            self.start_worker()

    def kill_worker(self) -> None:
        """kill -9 of every worker process (the machine running them went away)."""
        for name in procfile_workers():
            proc = self.procs.get(name)
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_process(proc, grace=10)


@contextmanager
def stack(shape: str) -> Any:
    sandbox_port = free_port()
    sandbox_proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port",
                                     str(sandbox_port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    pg = redis = None
    tmp = Path(tempfile.mkdtemp(prefix="cw-rel-"))
    proxy = None
    try:
        wait_http(f"{sandbox}/sandbox/state.json", timeout=30)
        proxy = FaultProxy(sandbox)
        from extension.platform.migrate import upgrade

        if shape == "production":
            pg, redis = PrivatePostgres(), PrivateRedis()
            pg.start()
            redis.start()
            database_url = pg.create_database("coachwire")
            redis_url: str | None = redis.url
        else:
            database_url, redis_url = f"sqlite:///{tmp / 'reliability.db'}", None
        upgrade(database_url)
        s = Stack(shape, database_url, redis_url, sandbox, proxy, pg=pg, redis=redis)
        s.start_worker()
        s.start_web()
        s.wait_for_worker()
        yield s
        s.stop()
    finally:
        if proxy:
            proxy.close()
        stop_process(sandbox_proc)
        if redis:
            redis.stop()
        if pg:
            pg.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


def make_app(s: Stack):
    from extension import create_app
    from extension.platform import config as config_module

    return create_app(config_module.from_env(s.env()))


def create_tenant(app, s: Stack, tenant_id: str) -> str:
    from extension.platform import people, tenants

    host = s.proxy.url
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenant, secret = tenants.create(
            session, app.extensions["coachwire.box"], name=tenant_id, tenant_id=tenant_id,
            api_base=host, login_base=host, client_id="sandbox-client",
            client_secret="sandbox-secret", timezone="Europe/London", calendar_provider="graph",
            calendar_config={"tenant_id": tenant_id, "client_id": "graph-client",
                             "client_secret": "graph-secret", "login_base": f"{host}/graph/oauth2",
                             "graph_base": f"{host}/graph/v1.0"})
    with app.app_context():  # after the commit: the host is asked with no transaction open
        people.sync_now(app.extensions["coachwire.db"], tenant.id)
    return secret


# ------------------------------------------------------------------ the sender


@dataclass
class Delivery:
    msg_id: str
    body: bytes
    kind: str = "normal"
    statuses: list[Any] = field(default_factory=list)
    accepted: bool = False


class Sender:
    """Delivers like a host: retries 5xx, 429 and connection errors with backoff (Retry-After
    honoured) under the same webhook id, until its deadline."""

    def __init__(self, url: str, secret: str, deadline: float) -> None:
        self.url, self.secret, self.deadline = url, secret, deadline
        self.local = threading.local()
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def send(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)
        attempt = 0
        while time.monotonic() < self.deadline:
            wait = min(10.0, 0.5 * 2 ** attempt) * (0.5 + random.random())
            try:
                answer = self._session().post(
                    self.url, data=delivery.body, timeout=10,
                    headers=sign(self.secret, delivery.body, delivery.msg_id))
                delivery.statuses.append(answer.status_code)
                if answer.status_code < 300:
                    delivery.accepted = True
                    return
                if answer.status_code != 429 and answer.status_code < 500:
                    return  # a 4xx is final for a host sender
                retry_after = answer.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = max(wait, float(retry_after))
            except requests.RequestException:
                delivery.statuses.append("conn")
            attempt += 1
            time.sleep(wait)


# ------------------------------------------------------------------ one scenario


@dataclass
class Result:
    scenario: str
    sent: int = 0
    accepted: int = 0
    stored: int = 0
    processed: int = 0
    failed: int = 0
    lost: int = 0
    answers_503: int = 0
    answers_5xx: int = 0
    decided: int = 0
    on_host: int = 0
    copies: int = 0
    delay_p99: float = float("nan")
    delay_max: float = float("nan")
    delayed_over_5s: int = 0
    settle_s: float | None = None
    worker_alive: bool | None = None
    notes: list[str] = field(default_factory=list)

    def row(self) -> tuple[str, ...]:
        alive = {None: "n/a", True: "yes", False: "NO"}[self.worker_alive]
        settle = "-" if self.settle_s is None else f"{self.settle_s:.0f}"
        return (self.scenario, str(self.sent), str(self.accepted), str(self.processed),
                str(self.failed), str(self.lost), f"{self.answers_503}/{self.answers_5xx}",
                f"{self.on_host}/{self.decided}", str(self.copies),
                f"{self.delay_p99:.1f}/{self.delay_max:.1f}", str(self.delayed_over_5s), settle,
                alive)


HEADERS = ("scenario", "sent", "accepted", "processed", "failed", "lost", "503/other 5xx",
           "effects host/decided", "copies", "normal delay p99/max s", ">5 s", "settle s",
           "worker alive")


def host_state(sandbox: str) -> dict:
    return requests.get(f"{sandbox}/sandbox/state.json", timeout=10).json()


def host_effects(state: dict, agents: set[str]) -> tuple[int, int]:
    """(effects on the host for these agents, copies among them)."""
    appointments = [a for a in state["appointments"]
                    if {x.get("id") for x in a.get("attendees") or []} & agents]
    recognitions = [r for r in state["recognitions"]
                    if (r.get("recipient") or {}).get("id") in agents]
    keys = Counter(a.get("description") for a in appointments)
    keys.update((r["recipient"]["id"], r.get("contextId")) for r in recognitions)
    return len(appointments) + len(recognitions), sum(n - 1 for n in keys.values())


def db_rows(s: Stack, sql: str, params: tuple) -> list[tuple]:
    if s.shape == "production":
        import psycopg

        try:
            with psycopg.connect(s.database_url.replace("postgresql+psycopg", "postgresql"),
                                 connect_timeout=3) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        except psycopg.OperationalError:
            return []
    import sqlite3

    conn = sqlite3.connect(s.database_url.removeprefix("sqlite:///"), timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def effect_rows(s: Stack, tenant: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for table_name in ("appointments", "recognitions"):
        for status, count in db_rows(s, f"SELECT status, count(*) FROM {table_name} "
                                        "WHERE tenant_id = ? GROUP BY status", (tenant,)):
            found[f"{table_name[:5]}:{status}"] += count
    return found


def inbox_rows(s: Stack, tenant: str) -> list[tuple]:
    return db_rows(s, "SELECT delivery_id, type, status, received_at, processed_at FROM inbox "
                      "WHERE tenant_id = ?", (tenant,))


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def prepare_burst(sandbox: str, agents: list[str], evaluator: str, count: int) -> list[dict]:
    from sandbox.quality import SUPPORT_FORM_ID

    session, messages = requests.Session(), []
    for n in range(count):
        answer = session.post(f"{sandbox}/sandbox/control/evaluations", timeout=10, json={
            "conversationId": f"burst-conv-{n}", "agentId": agents[n % len(agents)],
            "evaluatorId": evaluator, "formId": SUPPORT_FORM_ID, "status": "FINISHED",
            "answers": {}})
        answer.raise_for_status()
        messages.append(answer.json()["notification"])
    return messages


def run_scenario(s: Stack, app, name: str, *, duration: float, rate: float,
                 outage: float) -> Result:
    result = Result(name)
    requests.post(f"{s.sandbox}/sandbox/control/reset", timeout=10).raise_for_status()
    s.proxy.set("pass")
    tenant = f"rel-{name}-{random.randrange(10**6)}"
    secret = create_tenant(app, s, tenant)
    state = host_state(s.sandbox)
    people = state["people"]
    agents = sorted(pid for pid, p in people.items() if p["role"] == "agent")[:12]
    evaluator = next(pid for pid, p in people.items() if p["role"] == "supervisor")
    burst = prepare_burst(s.sandbox, agents, evaluator, 500) if name == "eval-burst" else []
    fault_len = {"host-outage": outage, "worker-kill": 2.0}.get(name, FAULT_SECONDS)
    sender = Sender(f"{s.web_url}/webhooks/{tenant}", secret,
                    deadline=time.monotonic() + duration + fault_len + 300)
    rng = random.Random(hash(name) & 0xFFFF)
    pool = ThreadPoolExecutor(max_workers=24)
    start = time.monotonic()
    fault_started = fault_ended = None

    def conversation(n: int) -> None:
        events = conversation_events(rng, conversation_id=f"{tenant}-c{n}",
                                     agent_id=agents[n % len(agents)], negative_share=0.2,
                                     delighted_share=0.1)
        deliveries = [Delivery(f"{tenant}-c{n}-{i}", dumps(m)) for i, m in enumerate(events)]
        if name == "redeliveries":
            deliveries = deliveries + deliveries[::-1]
            random.shuffle(deliveries)
        for d in deliveries:
            sender.send(Delivery(d.msg_id, d.body))
            if name == "redeliveries":
                time.sleep(random.random() * 0.5)

    n = 0
    while time.monotonic() - start < duration:
        elapsed = time.monotonic() - start
        if fault_started is None and elapsed >= FAULT_AT:
            fault_started = time.monotonic()
            inject(s, name, start=True, burst=burst, tenant=tenant, secret=secret, pool=pool,
                   sender=sender, result=result)
        if (fault_started is not None and fault_ended is None
                and time.monotonic() - fault_started >= fault_len):
            inject(s, name, start=False, burst=burst, tenant=tenant, secret=secret, pool=pool,
                   sender=sender, result=result)
            fault_ended = time.monotonic()
        while n < elapsed * rate:
            pool.submit(conversation, n)
            n += 1
        time.sleep(0.05)
    if fault_started is not None and fault_ended is None:
        time.sleep(max(0.0, fault_len - (time.monotonic() - fault_started)))
        inject(s, name, start=False, burst=burst, tenant=tenant, secret=secret, pool=pool,
               sender=sender, result=result)
        fault_ended = time.monotonic()
    pool.shutdown(wait=True)
    result.worker_alive = s.worker_alive()
    settle(s, result, tenant, set(agents), since=fault_ended or time.monotonic())
    measure(s, result, tenant, sender, set(agents))
    if s.shape == "production" and not s.worker_alive():
        result.notes.append("the worker process had exited; restarted by hand afterwards")
        s.ensure_worker()
        s.wait_for_worker()
        # let its backlog land now, so it is not counted in the next scenario's host effects
        settle(s, Result(name), tenant, set(agents), since=time.monotonic())
    s.proxy.set("pass")
    return result


def inject(s: Stack, name: str, *, start: bool, burst: list[dict], tenant: str, secret: str,
           pool: ThreadPoolExecutor, sender: Sender, result: Result) -> None:
    if name not in ("steady", "redeliveries"):
        log(f"{name}: fault {'on' if start else 'off'}")
    if name == "worker-kill":
        if start:
            s.kill_worker()
        else:
            s.ensure_worker()  # the process supervisor's restart
    elif name == "redis-restart" and s.redis:
        s.redis.stop() if start else s.redis.start()
    elif name == "postgres-restart" and s.pg:
        s.pg.stop() if start else s.pg.start()
    elif name in ("host-429", "host-5xx", "host-outage", "lost-answers"):
        mode = {"host-429": "429", "host-5xx": "503", "host-outage": "503",
                "lost-answers": "lose"}[name]
        s.proxy.set(mode if start else "pass")
    elif name == "eval-burst" and start:
        body = dumps({"events": burst})
        pool.submit(sender.send, Delivery(f"{tenant}-burst", body, kind="burst"))


def settle(s: Stack, result: Result, tenant: str, agents: set[str], *, since: float,
           timeout: float = 420.0) -> None:
    """Wait until the inbox is drained, every effect row is final and the host count is stable."""
    deadline = time.monotonic() + timeout
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count, _ = host_effects(host_state(s.sandbox), agents)
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        rows = inbox_rows(s, tenant)
        waiting = sum(1 for r in rows if r[2] not in ("done", "failed", "skipped"))
        effects = effect_rows(s, tenant)
        open_effects = sum(n for k, n in effects.items() if k.split(":")[1] not in TERMINAL)
        decided = sum(effects.values())
        if rows and not waiting and not open_effects and time.monotonic() - last_change > 8:
            result.settle_s = (last_change - since) if decided else 0.0
            return
        time.sleep(1)
    result.notes.append(f"did not settle within {timeout:.0f} s")


def measure(s: Stack, result: Result, tenant: str, sender: Sender, agents: set[str]) -> None:
    unique: dict[str, Delivery] = {}
    for d in sender.deliveries:
        unique.setdefault(d.msg_id, d)
        unique[d.msg_id].accepted |= d.accepted
        for status in d.statuses:
            if status == 503:
                result.answers_503 += 1
            elif isinstance(status, int) and status >= 500:
                result.answers_5xx += 1
    result.sent = len(unique)
    result.accepted = sum(1 for d in unique.values() if d.accepted)
    rows = inbox_rows(s, tenant)
    stored = {r[0] for r in rows}
    result.stored = len(rows)
    result.processed = sum(1 for r in rows if r[2] == "done")
    result.failed = sum(1 for r in rows if r[2] == "failed")
    result.lost = sum(1 for d in unique.values()
                      if d.accepted and d.kind == "normal" and not _stored(d.msg_id, stored))
    delays = []
    for _, kind, status, received, processed in rows:
        if status == "done" and processed and "evaluation" not in (kind or ""):
            delays.append((_moment(processed) - _moment(received)).total_seconds())
    if delays:
        result.delay_p99, result.delay_max = percentile(delays, 99), max(delays)
        result.delayed_over_5s = sum(1 for d in delays if d > 5)
    effects = effect_rows(s, tenant)
    result.decided = sum(effects.values())
    result.on_host, result.copies = host_effects(host_state(s.sandbox), agents)
    if any(k.split(":")[1] not in ("booked", "sent") for k in effects):
        result.notes.append("effect rows: " + ", ".join(f"{k}={v}" for k, v in
                                                         sorted(effects.items())))


def _stored(msg_id: str, stored: set[str]) -> bool:
    return msg_id in stored or any(re.match(re.escape(msg_id) + r"[#:/-]\d+$", x) for x in stored)


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=["production", "embedded"], default="production")
    parser.add_argument("--only", help="comma-separated scenarios")
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=4.0, help="conversations per second")
    parser.add_argument("--outage", type=float, default=120.0,
                        help="seconds the host answers 503 in host-outage")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    names = PRODUCTION if args.shape == "production" else EMBEDDED
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(names)
        if unknown:
            parser.error(f"unknown scenario(s) for this shape: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    results: list[Result] = []
    LOG_DIR.mkdir(exist_ok=True)
    log(f"process logs in {LOG_DIR}")
    with stack(args.shape) as s:
        app = make_app(s)
        time.sleep(2 if args.shape == "embedded" else 0)
        for name in names:
            log(f"scenario {name} ({args.shape})")
            s.ensure_worker()
            s.wait_for_worker()
            results.append(run_scenario(s, app, name, duration=args.duration, rate=args.rate,
                                        outage=args.outage))
            log("  " + " | ".join(results[-1].row()))
    print(f"\nshape: {args.shape}; {args.rate:g} conversations/s (3 events each) for "
          f"{args.duration:g} s per scenario; faults from {FAULT_AT:g} s for {FAULT_SECONDS:g} s "
          f"(host-outage {args.outage:g} s)\n")
    print(table([r.row() for r in results], HEADERS))
    for r in results:
        for note in r.notes:
            print(f"- {r.scenario}: {note}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2,
                                              default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
