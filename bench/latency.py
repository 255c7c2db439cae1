"""Latency bench: from the event that completes a coaching case to a booked appointment.

Starts the sandbox host (`python -m sandbox serve`), Coachwire's web process (gunicorn, as in the
Procfile) and one worker process (`flask --app wsgi worker`: drains and effect jobs), creates a
tenant pointing at the sandbox (host and Graph calendar), and for each of N agents sends two
negative conversations (user end, sentiment, transcript each), so the second one's transcript
completes the second flag and the default policy books a coaching session.

Measured per agent: from the 2xx of that last event to (a) the appointment row `booked` in
Coachwire's database, and (b) the appointment visible on the host (sandbox state.json).

    python -m bench.latency [--agents 5]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.common import (
    ROOT,
    bench_database,
    bench_env,
    bench_redis,
    conversation_events,
    dumps,
    free_port,
    gunicorn,
    log,
    make_app,
    percentile,
    sign,
    stop_process,
    table,
    wait_http,
)

TENANT = "bench-latency"


@dataclass
class Sample:
    agent_id: str
    booked_s: float | None  # Coachwire row `booked`
    on_host_s: float | None  # appointment listed by the host


def start_sandbox() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/sandbox/state.json", timeout=30)
    return proc, base


def create_tenant(app, sandbox: str) -> str:
    from extension.platform import people, tenants

    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenant, secret = tenants.create(
            session, app.extensions["coachwire.box"], name=TENANT, tenant_id=TENANT,
            api_base=sandbox, login_base=sandbox, client_id="sandbox-client",
            client_secret="sandbox-secret", timezone="Europe/London", calendar_provider="graph",
            calendar_config={"tenant_id": "bench", "client_id": "graph-client",
                             "client_secret": "graph-secret",
                             "login_base": f"{sandbox}/graph/oauth2",
                             "graph_base": f"{sandbox}/graph/v1.0"})
    with app.app_context():  # after the commit: the host is asked with no transaction open
        people.sync_now(app.extensions["coachwire.db"], tenant.id)
    return secret


def agents_of(sandbox: str, count: int) -> list[str]:
    state = requests.get(f"{sandbox}/sandbox/state.json", timeout=5).json()
    agents = sorted(pid for pid, p in state["people"].items() if p["role"] == "agent")
    return random.Random(5).sample(agents, min(count, len(agents)))


def post(url: str, secret: str, message: dict, msg_id: str) -> None:
    body = dumps(message)
    response = requests.post(url, data=body, headers=sign(secret, body, msg_id), timeout=10)
    response.raise_for_status()


def trigger(base: str, secret: str, agent_id: str, rng: random.Random) -> float:
    """Two negative conversations; returns when the last event was acknowledged."""
    url = f"{base}/webhooks/{TENANT}"
    for n in range(2):
        conversation = f"lat-{agent_id}-{n}"
        messages = conversation_events(rng, conversation_id=conversation, agent_id=agent_id,
                                       negative_share=1.0)
        for i, message in enumerate(messages):
            post(url, secret, message, f"{conversation}-{i}")
    return time.monotonic()


def booked_rows(app) -> dict[str, str]:
    from sqlalchemy import select

    from extension.coaching.models import Appointment

    with app.extensions["coachwire.db"].session() as session:
        return dict(session.execute(select(Appointment.agent_id, Appointment.status)
                                    .where(Appointment.tenant_id == TENANT)).all())


def host_agents(sandbox: str) -> set[str]:
    state = requests.get(f"{sandbox}/sandbox/state.json", timeout=5).json()
    found = set()
    for appointment in state["appointments"]:
        for attendee in appointment.get("attendees") or []:
            found.add(attendee.get("id") if isinstance(attendee, dict) else attendee)
    return found


def watch(app, sandbox: str, sent: dict[str, float], *, timeout: float) -> list[Sample]:
    booked: dict[str, float] = {}
    on_host: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(on_host) < len(sent):
        now = time.monotonic()
        for agent, status in booked_rows(app).items():
            if status == "booked" and agent in sent:
                booked.setdefault(agent, now - sent[agent])
        for agent in host_agents(sandbox) & sent.keys():
            on_host.setdefault(agent, now - sent[agent])
        time.sleep(0.05)
    return [Sample(a, booked.get(a), on_host.get(a)) for a in sent]


def wait_for_worker(redis_url: str, *, timeout: float = 90.0) -> None:
    """Measure steady state: the worker registers with RQ only after loading its model."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while not Worker.all(connection=connection):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not start")
        time.sleep(0.2)


def run(agents: int, timeout: float) -> tuple[list[Sample], dict]:
    sandbox_proc, sandbox = start_sandbox()
    try:
        with bench_database() as database_url, bench_redis() as redis_url:
            app = make_app(database_url, redis_url)
            try:
                secret = create_tenant(app, sandbox)
                env = bench_env(database_url, redis_url)
                worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi",
                                           "worker"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)
                try:
                    wait_for_worker(redis_url)
                    with gunicorn("wsgi:app", env=env, ready_path="/readyz") as server:
                        rng = random.Random(9)
                        sent = {a: trigger(server.url, secret, a, rng)
                                for a in agents_of(sandbox, agents)}
                        samples = watch(app, sandbox, sent, timeout=timeout)
                finally:
                    stop_process(worker)
                rows = booked_rows(app)
            finally:
                app.extensions["coachwire.db"].dispose()
    finally:
        stop_process(sandbox_proc)
    return samples, rows


def report(samples: list[Sample], rows: dict) -> tuple[str, str]:
    booked = [s.booked_s for s in samples if s.booked_s is not None]
    hosted = [s.on_host_s for s in samples if s.on_host_s is not None]
    lines = [(s.agent_id, _fmt(s.booked_s), _fmt(s.on_host_s), rows.get(s.agent_id, "-"))
             for s in samples]
    out = table(lines, ("agent", "to booked row (s)", "on host (s)", "final status"))
    if booked:
        text = (f"p50 {percentile(booked, 50):.2f} s, max {max(booked):.2f} s to booked "
                f"({len(booked)}/{len(samples)} agents)")
    else:
        text = f"no appointment booked within the time limit (statuses: {rows or 'none'})"
    if hosted:
        text += f"; on host p50 {percentile(hosted, 50):.2f} s"
    return out + "\n" + text, text


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency")
    parser.add_argument("--agents", "--conversations", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=45.0)
    parser.add_argument("--summary-json", help="also write the key figures here (run_all)")
    args = parser.parse_args(argv)
    if not (ROOT / "sandbox" / "__main__.py").exists():
        print("needs sandbox: `python -m sandbox serve` is not in this checkout yet")
        return 0
    samples, rows = run(args.agents, args.timeout)
    out, text = report(samples, rows)
    log("latency run finished")
    print(out)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps({"text": text}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
