"""`make run`: Coachwire on the embedded defaults next to the sandbox host, with live traffic.

Starts the sandbox host (a Genesys stand-in) on :5050, migrates a fresh SQLite database, creates
the demo tenant, syncs its people, serves Coachwire on :5000 with the in-process queue, and has
the sandbox fire a realistic stream of signed events at it. Ctrl-C stops everything.
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
    secret = create_tenant(app)
    serve(app)
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
