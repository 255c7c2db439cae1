"""`make run`: Coachwire on the embedded defaults next to the sandbox host, with live traffic.

Starts the sandbox host (a Genesys stand-in) on :5050, migrates a fresh SQLite database, creates
the demo tenant, syncs its people, serves Coachwire on :5000 with the in-process queue, and has
the sandbox fire a realistic stream of signed events at it. In the background it loads the last
90 days of history through the product's history sync (the sandbox host's conversation details)
and precomputes the peer snapshots, so the panels show real figures within a minute. Ctrl-C
stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "5050"))
PORT = int(os.environ.get("PORT", "5000"))
SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}"
APP = f"http://127.0.0.1:{PORT}"
# the host's console and login as a browser sees them: another site than Coachwire's 127.0.0.1,
# so the panel frame is cross-site as in Genesys Cloud (same server as SANDBOX)
CONSOLE_ORIGIN = f"http://localhost:{SANDBOX_PORT}"


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def start_sandbox() -> subprocess.Popen:
    say(f"starting the sandbox host on {SANDBOX}")
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port",
                                str(SANDBOX_PORT), "--seed", "7",
                                "--panels-url", f"{APP}/t/demo"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               process_group=0)  # Ctrl-C is ours to handle, not the children's
    for _ in range(100):
        try:
            requests.get(f"{SANDBOX}/sandbox/state.json", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the sandbox host did not start")


def prepare_database() -> str:
    db_path = ROOT / "instance" / "demo.db"
    db_path.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    from extension.platform.migrate import upgrade

    say(f"migrating {db_path.relative_to(ROOT)} (SQLite)")
    upgrade(url)
    return url


def host_org_id() -> str:
    """The sandbox organisation's id, as an installer learns it: GET /api/v2/tokens/me."""
    token = requests.post(f"{SANDBOX}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"), timeout=5).json()
    info = requests.get(f"{SANDBOX}/api/v2/tokens/me", timeout=5,
                        headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    return info["organization"]["id"]


def create_tenant(app) -> str:
    from extension.platform import people, tenants

    org_id = host_org_id()
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenant, secret = tenants.create(
            session, app.extensions["coachwire.box"], name="Demo contact center",
            tenant_id="demo", api_base=SANDBOX, login_base=CONSOLE_ORIGIN,
            console_origins=[CONSOLE_ORIGIN],
            client_id="sandbox-client", client_secret="sandbox-secret",
            sso_client_id="sandbox-sso-client", host_org_id=org_id,
            timezone="Europe/London", calendar_provider="graph",
            calendar_config={"tenant_id": "demo", "client_id": "graph-client",
                             "client_secret": "graph-secret", "login_base": f"{SANDBOX}/graph/oauth2",
                             "graph_base": f"{SANDBOX}/graph/v1.0"})
    with app.app_context():  # after the commit: the host is asked with no transaction open
        synced = people.sync_now(app.extensions["coachwire.db"], tenant.id)
    say(f"tenant 'demo' created; {synced['seen']} people synced from the host")
    admin = grant_admin(app, tenant.id)
    say(f"{admin} is the tenant's Coachwire admin (pick them at the host's sign-in page)")
    return secret


# ---- history (perf part): the last HISTORY_DAYS days through the product's history sync -----
HISTORY_DAYS = int(os.environ.get("DEMO_HISTORY_DAYS", "90"))
HISTORY_PER_DAY = int(os.environ.get("DEMO_HISTORY_PER_DAY", "120"))  # the host's conversations a day


def load_history(app, tenant_id: str, *, started: float) -> threading.Thread:
    """In the background, so the console URL is printed at once: the host's conversation
    details of the last HISTORY_DAYS days through the history sync (as `flask sync --since
    90d`), then the peer snapshots the pages rank against. Says when the first supervisor's
    team has facts over the last 30 days (their home page has data) and when all is loaded."""
    thread = threading.Thread(target=_history, args=(app, tenant_id, started), daemon=True,
                              name="demo-history")
    thread.start()
    return thread


def _history(app, tenant_id: str, started: float) -> None:
    seen: dict[str, bool] = {}

    def chunk_done(counts) -> None:
        if not seen and (teams := team_facts(app, tenant_id, days=30)):
            seen["home"] = True
            say(f"history: supervisor home pages have data after {time.monotonic() - started:.0f} s "
                f"(last 30 days: {teams} team(s) with facts)")

    try:
        counts = sync_history(app, tenant_id, base=SANDBOX, days=HISTORY_DAYS, per_day=HISTORY_PER_DAY,
                              on_chunk=chunk_done)
        say(f"history: {counts.line()} for the last {HISTORY_DAYS} days in "
            f"{time.monotonic() - started:.0f} s")
        precompute_snapshots(app, tenant_id)
        say(f"history: peer snapshots ready after {time.monotonic() - started:.0f} s")
    except Exception as exc:  # the demo goes on with live events only
        say(f"history: the sync failed: {exc}")


def sync_history(app, tenant_id: str, *, base: str, days: int, per_day: int, end=None, on_chunk=None):
    """The product's history sync (query mode) over the last ``days`` days before ``end``
    (default now), newest chunk first so the last 30 days land first; ``per_day`` conversations
    a day on the sandbox host at ``base``."""
    from datetime import UTC, datetime, timedelta

    from extension.analytics import sync
    from extension.platform.models.tenants import Tenant

    requests.post(f"{base}/sandbox/control/analytics", json={"perDay": per_day}, timeout=5).raise_for_status()
    end = end or datetime.now(UTC)
    db = app.extensions["coachwire.db"]
    with app.app_context():
        with db.session() as session:
            tenant = session.get(Tenant, tenant_id)
            session.expunge(tenant)
            work = sync.plan(session, tenant_id=tenant_id, start=end - timedelta(days=days), end=end,
                             mode="query")
        work.chunks.reverse()
        return sync.run(db, tenant, work, now=end, on_chunk=on_chunk)


def team_facts(app, tenant_id: str, *, days: int, now=None) -> int:
    """Teams with at least one fact over the last ``days`` days (before ``now``)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from extension.analytics.models.facts import KpiRollupAgentDaily
    from extension.platform.models.people import Person

    since = ((now or datetime.now(UTC)) - timedelta(days=days)).date()
    with app.extensions["coachwire.db"].session() as session:
        return int(session.scalar(
            select(func.count(func.distinct(Person.team_id)))
            .join(KpiRollupAgentDaily, (KpiRollupAgentDaily.tenant_id == Person.tenant_id)
                  & (KpiRollupAgentDaily.agent_id == Person.id))
            .where(Person.tenant_id == tenant_id, Person.team_id.is_not(None),
                   KpiRollupAgentDaily.day >= since, KpiRollupAgentDaily.volume > 0)) or 0)


def precompute_snapshots(app, tenant_id: str, *, today=None) -> dict[str, int]:
    """The worker's peer-snapshot job for the demo tenant, now rather than at its next minute."""
    from extension.analytics import snapshots
    from extension.platform.tenants import tenant_timezone

    with app.extensions["coachwire.db"].session() as session:
        return snapshots.refresh_tenant(session, tenant_id, tz=tenant_timezone(session, tenant_id),
                                        staleness=app.config["SETTINGS"].peer_snapshot_seconds, today=today)


def grant_admin(app, tenant_id: str) -> str:
    """Make the last supervisor by name an admin, as an installer would: an override the role
    mapping leaves alone at sign-in (audited)."""
    from sqlalchemy import select

    from extension.platform import roles
    from extension.platform.models.people import Person

    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        person = session.scalars(select(Person).where(Person.tenant_id == tenant_id,
                                                      Person.role == "supervisor")
                                 .order_by(Person.name.desc()).limit(1)).one()
        roles.set_role(session, tenant_id, person.id, "admin", actor="system:demo")
        return person.name


def serve(app) -> None:
    from extension.platform.worker import start_scheduler, warm_up

    say("loading the sentiment model")
    warm_up(app)
    # the terminal tells the demo's story, not an access-log line per event
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", PORT, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start_scheduler(app)
    say(f"Coachwire is up on {APP} (web + in-process worker, no Redis)")


def start_traffic(secret: str) -> subprocess.Popen:
    say("the sandbox now fires signed conversation events at Coachwire (3 calls/s)")
    return subprocess.Popen([sys.executable, "-m", "sandbox", "generate", "--target", APP,
                             "--tenant", "demo", "--secret", secret, "--rate", "3",
                             "--duration", "900", "--seed", "7", "--step", "0.1",
                             "--sandbox", SANDBOX], cwd=ROOT, stdout=subprocess.DEVNULL,
                            process_group=0)


def report_forever() -> None:
    seen = (-1, -1)
    while True:
        state = requests.get(f"{SANDBOX}/sandbox/state.json", timeout=5).json()
        now = (len(state["appointments"]), len(state["recognitions"]))
        if now != seen:
            say(f"host now has {now[0]} coaching appointment(s) booked by Coachwire and "
                f"{now[1]} recognition(s)")
            seen = now
        time.sleep(5)


def main() -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = prepare_database()
    os.environ.setdefault("COACHWIRE_PUBLIC_URL", APP)  # the sign-on callback comes back here
    children = [start_sandbox()]
    from extension import create_app

    app = create_app()
    started = time.monotonic()
    secret = create_tenant(app)
    serve(app)
    load_history(app, "demo", started=started)
    children.append(start_traffic(secret))
    say(f"open {SANDBOX}/sandbox/ (the host console: appointments appear within a minute)")
    say(f"the panels as Genesys frames them, in the host's console: {CONSOLE_ORIGIN}/sandbox/console "
        "(sign in as an agent, a supervisor or the admin at the host's person picker)")
    say(f"the same with popup sign-in (gcUsePopupAuth=true): {CONSOLE_ORIGIN}/sandbox/console?popup=1")
    say(f"health: {APP}/healthz  readiness: {APP}/readyz   Ctrl-C to stop")
    for signum in (signal.SIGTERM, signal.SIGHUP):  # `kill`, a closed terminal: stop as for Ctrl-C
        signal.signal(signum, signal.default_int_handler)
    try:
        report_forever()
    except KeyboardInterrupt:
        say("stopping")
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        say("stopped")
        sys.stdout.flush()
        # the server, queue and model threads are daemons: skip the interpreter's teardown,
        # where a native library's thread pool aborted the process ("terminate called ...")
        os._exit(0)


if __name__ == "__main__":
    main()
