"""Shared bench plumbing: throwaway PostgreSQL databases, Redis db 14, gunicorn, payloads.

Every bench creates its own database (coachwire_bench_<random>) and drops it afterwards, uses
Redis db 14 and flushes it before and after, and bounds every wait with a deadline.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
BASE_DB_URL = os.environ.get("BENCH_DATABASE_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BASE_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# Outbound host calls must never leave the machine: tenants point at a closed loopback port.
NOWHERE = "http://127.0.0.1:9"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ database and redis


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")).replace("postgresql+psycopg", "postgresql")


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh database migrated to head; dropped (WITH FORCE) on the way out, whatever happens."""
    import psycopg

    from extension.platform.migrate import upgrade

    name = f"coachwire_bench_{uuid.uuid4().hex[:8]}"
    admin = _admin_url(BASE_DB_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    if os.environ.get("BENCH_DB_LOG"):  # run_all drops it if it has to kill this bench
        with open(os.environ["BENCH_DB_LOG"], "a") as names:
            names.write(name + "\n")
    url = urlunsplit(urlsplit(BASE_DB_URL)._replace(path=f"/{name}"))
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_databases(names: list[str]) -> None:
    import psycopg

    with psycopg.connect(_admin_url(BASE_DB_URL), autocommit=True) as conn:
        for name in names:
            if name.startswith("coachwire_bench_"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bench_redis() -> Iterator[str]:
    from redis import Redis

    client = Redis.from_url(BASE_REDIS_URL, socket_timeout=5)
    client.flushdb()
    try:
        yield BASE_REDIS_URL
    finally:
        client.flushdb()
        client.close()


def bench_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "COACHWIRE_ENV": "development", "PYTHONPATH": str(ROOT)}
    env.update(extra)
    return env


def make_app(database_url: str, redis_url: str, **overrides):
    from extension import create_app
    from extension.platform import config as config_module

    settings = config_module.from_env(bench_env(database_url, redis_url))
    return create_app(settings.with_overrides(**overrides) if overrides else settings)


def create_tenant(app, tenant_id: str) -> str:
    """A tenant whose host calls would go to a closed loopback port; returns its whsec secret."""
    from extension.platform import tenants

    with app.extensions["coachwire.db"].session() as session:
        _, secret = tenants.create(session, app.extensions["coachwire.box"], name=tenant_id,
                                   tenant_id=tenant_id, api_base=NOWHERE, login_base=NOWHERE,
                                   client_id="bench", client_secret="bench")
    return secret


def inbox_counts(database_url: str, tenant_id: str) -> dict[str, int]:
    import psycopg

    plain = database_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain) as conn:
        rows = conn.execute("SELECT status, count(*) FROM inbox WHERE tenant_id = %s "
                            "GROUP BY status", (tenant_id,)).fetchall()
    return dict(rows)


# ------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's worker processes so far (Linux /proc)."""
        return sum(process_cpu(pid) for pid in worker_pids(self.pid))


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def procfile_workers() -> dict[str, list[str]]:
    """The Procfile's RQ worker processes: name -> the `flask worker` arguments after `worker`
    (the events worker and the host-bound effects worker run apart)."""
    workers = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        words = shlex.split(command)
        if words[:4] == ["flask", "--app", "wsgi", "worker"]:
            workers[name.strip()] = words[4:]
    assert workers, "the Procfile names no `flask worker` process"
    return workers


def procfile_web_args() -> list[str]:
    """The Procfile's web command without its bind address and app: the server shape (worker
    class, workers, threads) both servers of a bench run with."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    words = shlex.split(line.removeprefix("web:"))
    assert words[0] == "gunicorn", line
    args, skip = [], False
    for word in words[1:-1]:  # the last word is the app
        if skip:
            skip = False
        elif word in ("--bind", "-b"):
            skip = True
        else:
            args.append(word)
    return args


@contextmanager
def gunicorn(app_spec: str, *, env: dict[str, str], ready_path: str,
             timeout: float = 30) -> Iterator[Server]:
    """The Procfile's web command on a random loopback port. BENCH_WEB_ARGS replaces its shape
    to try another one (e.g. "--worker-class gthread --workers 2 --threads 8"); both servers of
    a run always get the same one."""
    shape = shlex.split(os.environ["BENCH_WEB_ARGS"]) if os.environ.get("BENCH_WEB_ARGS") \
        else procfile_web_args()
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *shape, "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + ready_path, timeout=timeout)
        yield Server(base, proc.pid)
    finally:
        stop_process(proc)


def server_shape() -> str:
    return " ".join(shlex.split(os.environ.get("BENCH_WEB_ARGS", "")) or procfile_web_args())


def stop_process(proc: subprocess.Popen, *, grace: float = 15) -> None:
    """SIGTERM (graceful: in-flight requests finish), then SIGKILL of that process group."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def worker_pids(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True,
                         check=False)
    return [int(pid) for pid in out.stdout.split()]


# ------------------------------------------------------------------ payloads

AGENT_LINES_NEG = ["This is not my problem, I cannot help you, that's terrible.",
                   "No. That is a stupid question and I hate these calls."]
AGENT_LINES_POS = ["Thank you so much, I'm happy to help you today!",
                   "Great, that's sorted, have a wonderful day."]
CUSTOMER_LINES = ["My order arrived broken and nobody answered my emails.",
                  "Okay, thanks, that works for me."]


def conversation_events(rng: random.Random, *, conversation_id: str, agent_id: str,
                        negative_share: float = 0.1, delighted_share: float = 0.1) -> list[dict]:
    """One conversation's three host messages: user end, STA sentiment, transcript.

    About negative_share of conversations meet the default "negative-interaction" rule (upset
    customer and negative agent) and delighted_share the "delighted-customer" one.
    """
    from tests.helpers import sentiment, transcript, user_end

    roll = rng.random()
    if roll < negative_share:
        score, agent_lines = -85.0, AGENT_LINES_NEG
    elif roll < negative_share + delighted_share:
        score, agent_lines = 90.0, AGENT_LINES_POS
    else:
        score, agent_lines = rng.uniform(-50, 70), AGENT_LINES_POS
    lines = [("customer", CUSTOMER_LINES[0]), ("agent", agent_lines[0]),
             ("customer", CUSTOMER_LINES[1]), ("agent", agent_lines[1])]
    return [user_end(conversation_id, agent_id, talk_ms=rng.randint(60_000, 900_000),
                     hold_ms=rng.choice([0, 0, 30_000]), queue_id=f"q-{rng.randint(1, 8)}"),
            sentiment(conversation_id, score), transcript(conversation_id, lines)]


def event_stream(seed: int, count: int, *, agents: int = 200) -> Iterator[dict]:
    """count host messages, conversation by conversation, for `agents` agents."""
    rng = random.Random(seed)
    produced, n = 0, 0
    while produced < count:
        n += 1
        for message in conversation_events(rng, conversation_id=f"conv-{seed}-{n}",
                                           agent_id=f"agent-{rng.randint(1, agents)}"):
            if produced == count:
                return
            produced += 1
            yield message


def sign(secret: str, body: bytes, msg_id: str) -> dict[str, str]:
    from tests.helpers import signed_headers

    return signed_headers(secret, body, msg_id=msg_id)


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# ------------------------------------------------------------------ figures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def table(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
            for row in rows]
    return "\n".join([line, rule, *body])
