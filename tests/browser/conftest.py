"""Browser harness: headless Debian Chromium (one for all of tests/browser/) driven by Playwright for
Python, Coachwire and the sandbox host on two different sites, as in production.

- Coachwire on ``http://127.0.0.1:<free port>`` (a real threaded server, its ``public_url`` the
  served address, so the sign-on callback comes back to it);
- the sandbox host on another free port, opened as ``http://localhost:<port>``: its console
  (``/sandbox/console``) frames the panels and its login (the person picker) is same-site with
  the console, as Genesys's login host is with its console.
- Chromium runs with third-party-cookie phase-out on (``--test-third-party-cookie-phaseout``), so
  the panel's session lives only because its cookie is ``Partitioned`` (PANELS.md §3).

Nothing is fetched from the network: Chromium is ``/usr/bin/chromium`` (``.ci/run`` installs it;
``playwright install`` is never used), the front-end files come from ``make venv``'s ``npm ci``.
Each test gets a fresh browser context (its own cookie jar) and a fresh database."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import serving

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VENDOR = ROOT / "extension" / "platform" / "static" / "vendor"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--test-third-party-cookie-phaseout"]
TENANT = "sbx"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")  # one browser for all the browser tests, closed after them
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    if not (VENDOR / "spark").is_dir() or not AXE.exists():
        pytest.fail("the front-end files are missing: run `make venv` (npm ci + static assets)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


class _Placeholder:
    def __call__(self, environ, start_response):  # answers until the real app is mounted
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]


@pytest.fixture
def coachwire_server():
    """A loopback server bound before the app exists, so the app's public URL is its address."""
    server = make_server("127.0.0.1", 0, _Placeholder(), threaded=True)
    yield server
    server.server_close()


@pytest.fixture
def settings(settings, coachwire_server):  # the root conftest's, with the served public URL
    return dataclasses.replace(settings,
                               public_url=f"http://127.0.0.1:{coachwire_server.server_port}")


@dataclass(frozen=True)
class Panels:
    coachwire: str  # http://127.0.0.1:<port>
    host: str  # the sandbox host, http://localhost:<port> (the console's site)
    api: str  # the same host as Coachwire's server reaches it, http://127.0.0.1:<port>
    world: object

    @property
    def console(self) -> str:
        return f"{self.host}/sandbox/console"

    def console_on(self, hostname: str) -> str:
        """The same console served under another host name (another origin)."""
        port = self.host.rsplit(":", 1)[1]
        return f"http://{hostname}:{port}/sandbox/console"


@pytest.fixture
def panels(app, coachwire_server) -> Iterator[Panels]:
    """Coachwire and the sandbox host up on two sites; tenant ``sbx`` lists the console's origin,
    signs people in at the sandbox's login, and has its people synced."""
    from extension.platform import hosts, people, tenants
    from sandbox.app import create_app as create_sandbox
    from sandbox.state import Config

    coachwire = f"http://127.0.0.1:{coachwire_server.server_port}"
    sandbox = create_sandbox(seed=11, config=Config(panels_url=f"{coachwire}/t/{TENANT}"))
    world = sandbox.extensions["sandbox"].world
    coachwire_server.app = app
    thread = threading.Thread(target=coachwire_server.serve_forever, daemon=True)
    thread.start()
    try:
        with serving(sandbox) as api:
            host = api.replace("127.0.0.1", "localhost")
            hosts.forget()
            with app.app_context(), app.extensions["coachwire.db"].session() as session:
                tenants.create(session, app.extensions["coachwire.box"], name="Sandbox org",
                               tenant_id=TENANT, api_base=api, login_base=host,
                               client_id="sandbox-client", client_secret="sandbox-secret",
                               sso_client_id="sandbox-sso-client", host_org_id=world.org_id,
                               console_origins=[host], timezone="Europe/London")
            with app.app_context():
                people.sync_now(app.extensions["coachwire.db"], TENANT)
            yield Panels(coachwire=coachwire, host=host, api=api, world=world)
    finally:
        coachwire_server.shutdown()
        thread.join(timeout=5)
        hosts.forget()
