"""Panel sign-on end to end: Coachwire's test client against the sandbox host served on a
loopback port (Authorization Code with PKCE, tokens/me, users/me), then the panel session.

The host is reached through the real connector; every host call happens with no database
transaction open (tests/tx_guard.py watches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from sqlalchemy import select

from extension.platform import sessions, sso
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession, SsoState
from extension.platform.models.tenants import Tenant
from extension.platform.shell import BIND_COOKIE, SESSION_COOKIE
from tests.helpers import serving

CONSOLE = "http://localhost:5051"  # the sandbox console's origin, listed on the tenant
HOME = "/t/sbx/panels/home"


@pytest.fixture
def host():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=11)
    with serving(app) as base:
        yield base, app.extensions["sandbox"].world


@pytest.fixture
def sbx(app, host):
    """A tenant on the sandbox host, sign-on configured, people synced from the host."""
    from extension.platform import hosts, people, tenants

    base, world = host
    hosts.forget()
    with app.app_context(), app.extensions["coachwire.db"].session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Sandbox org",
                       tenant_id="sbx", api_base=base, login_base=base,
                       client_id="sandbox-client", client_secret="sandbox-secret",
                       sso_client_id="sandbox-sso-client", host_org_id=world.org_id,
                       console_origins=[CONSOLE], timezone="Europe/London")
    with app.app_context():
        people.sync_now(app.extensions["coachwire.db"], "sbx")
    yield world
    hosts.forget()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client, next_path: str = HOME, tenant: str = "sbx"):
    return client.get(f"/t/{tenant}/sso/start?next={quote(next_path, safe='')}")


def pick(authorize_url: str, user_id: str) -> str:
    """Act as the person at the host's picker: the callback path (with code and state)."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200 and user_id in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    base = authorize_url.split("/oauth/authorize", 1)[0]
    answer = requests.post(f"{base}/oauth/authorize", data={**query, "user_id": user_id},
                           allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return _path(answer.headers["Location"])


def sign_in(client, user_id: str, next_path: str = HOME):
    """The whole dance; returns the callback's answer."""
    started = start(client, next_path)
    assert started.status_code == 302, started.get_data(as_text=True)
    return client.get(pick(started.headers["Location"], user_id))


def supervisor(world):
    return world.supervisors[0]


def agent(world):
    return world.agents[0]


def audit_actions(db, tenant_id="sbx") -> list[tuple[str, dict]]:
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
                               .order_by(AuditEntry.id))
        return [(row.action, row.details) for row in rows if row.action.startswith("sso.")]


# --- the happy path -------------------------------------------------------------------------

def test_a_panel_without_a_session_signs_in_and_comes_back(client, db, sbx):
    person = supervisor(sbx)
    panel = f"{HOME}?gcHostOrigin=https%3A%2F%2Fapps.evil.example&gcTargetEnv=prod-evil"
    first = client.get(panel)
    assert first.status_code == 302
    assert first.headers["Cache-Control"] == "no-store"
    start_url = first.headers["Location"]
    assert start_url == f"/t/sbx/sso/start?next={quote(panel, safe='')}"

    started = client.get(start_url)
    assert started.status_code == 302
    authorize = urlsplit(started.headers["Location"])
    query = parse_qs(authorize.query)
    with db.session() as session:
        tenant = session.get(Tenant, "sbx")
        login_base = tenant.login_base
    # the login host is the tenant record's, never gcHostOrigin / gcTargetEnv
    assert f"{authorize.scheme}://{authorize.netloc}" == login_base
    assert authorize.path == "/oauth/authorize"
    assert query["response_type"] == ["code"] and query["client_id"] == ["sandbox-sso-client"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/sso/genesys/callback"]
    assert len(query["state"][0]) >= 40

    callback = client.get(pick(started.headers["Location"], person.id))
    assert callback.status_code == 303, callback.get_data(as_text=True)
    assert callback.headers["Location"] == panel

    page = client.get(panel)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert person.name in html and "(Supervisor)" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Type"].startswith("text/html")
    actions = audit_actions(db)
    assert [a for a, _ in actions] == ["sso.signed_in"]
    assert actions[0][1]["role"] == "supervisor"
    with db.session() as session:
        stored = session.scalars(select(PanelSession)).one()
        assert stored.person_id == person.id and stored.host_token_enc
        # the Genesys token stays on the server (the page carries only its CSRF token)
        assert client.application.extensions["coachwire.box"].open(stored.host_token_enc) not in html
        cookie = client.get_cookie(SESSION_COOKIE).value
        assert stored.id_hash == sso.digest(cookie) != cookie  # only the hash is stored
        assert session.scalars(select(SsoState)).one().used_at is not None


def test_the_session_cookie_is_host_prefixed_secure_httponly_samesite_none_partitioned(
        client, sbx):
    callback = sign_in(client, supervisor(sbx).id)
    cookies = callback.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower() for part in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "partitioned", "path"} <= attributes
    assert "samesite=none" in session_cookie.lower().replace(" ", "")
    assert "path=/" in session_cookie.lower().replace(" ", "")
    assert "domain" not in attributes
    # the browser binding of the sign-in is cleared once used
    bind = next(c for c in cookies if c.startswith(f"{BIND_COOKIE}="))
    assert "partitioned" in bind.lower()
    assert "max-age=0" in bind.lower() or "expires=thu, 01 jan 1970" in bind.lower()


def test_signing_in_again_rotates_the_session(app, client, db, sbx):
    person = supervisor(sbx)
    sign_in(client, person.id)
    old = client.get_cookie(SESSION_COOKIE).value
    sign_in(client, person.id)
    new = client.get_cookie(SESSION_COOKIE).value
    assert new != old
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, old)
    assert replay.get(HOME).status_code == 302  # the old id is dead
    assert client.get(HOME).status_code == 200
    with db.session() as session:
        reasons = sorted(str(s.revoked_reason) for s in session.scalars(select(PanelSession)))
    assert reasons == ["None", "rotated"]


# --- refusals -------------------------------------------------------------------------------

def _callback_path(client, sbx, person_id=None) -> str:
    started = start(client)
    return pick(started.headers["Location"], person_id or supervisor(sbx).id)


def test_a_wrong_state_is_refused(client, db, sbx):
    path = _callback_path(client, sbx)
    query = parse_qs(urlsplit(path).query)
    forged = client.get(f"/sso/genesys/callback?code={query['code'][0]}&state=forged-state")
    assert forged.status_code == 400
    assert forged.headers["Content-Type"] == "application/problem+json"
    assert forged.json["type"].endswith("/sign-on/unknown-state")
    assert client.get_cookie(SESSION_COOKIE) is None
    missing = client.get(f"/sso/genesys/callback?code={query['code'][0]}")
    assert missing.status_code == 400


def test_a_replayed_state_is_refused_and_audited(app, client, db, sbx):
    path = _callback_path(client, sbx)
    assert client.get(path).status_code == 303
    again = client.get(path)
    assert again.status_code == 400
    assert again.json["type"].endswith("/sign-on/state-replayed")
    assert [a for a, _ in audit_actions(db)] == ["sso.signed_in", "sso.refused"]
    assert audit_actions(db)[1][1]["reason"] == "state_replayed"


def test_a_callback_in_another_browser_is_refused(app, client, db, sbx):
    """Login CSRF: a code obtained by someone else cannot sign this browser in."""
    path = _callback_path(client, sbx)
    other = app.test_client()
    answer = other.get(path)
    assert answer.status_code == 400
    assert answer.json["type"].endswith("/sign-on/browser-mismatch")
    assert other.get_cookie(SESSION_COOKIE) is None


def test_a_wrong_verifier_is_refused_by_the_host(app, client, db, sbx):
    path = _callback_path(client, sbx)
    box = app.extensions["coachwire.box"]
    with db.session() as session:
        for row in session.scalars(select(SsoState)):
            row.code_verifier_enc = box.seal("x" * 43)
    answer = client.get(path)
    assert answer.status_code == 400
    assert answer.json["type"].endswith("/sign-on/code-refused")
    assert ("sso.refused", {"reason": "code_refused", "status": 400}) in audit_actions(db)
    assert client.get_cookie(SESSION_COOKIE) is None


def test_the_host_refusing_the_person_is_a_403(client, db, sbx):
    started = start(client)
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    answer = client.get(f"/sso/genesys/callback?error=access_denied&state={query['state'][0]}")
    assert answer.status_code == 403
    assert "(access_denied)" in answer.json["detail"]
    started = start(client)
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    odd = client.get(f"/sso/genesys/callback?error=%3Cb%3Ecall+us%3C%2Fb%3E&state={query['state'][0]}")
    assert odd.status_code == 403 and "call us" not in odd.json["detail"]


def test_another_organisation_is_refused(client, db, sbx):
    path = _callback_path(client, sbx)
    with db.session() as session:
        session.get(Tenant, "sbx").host_org_id = "another-org"
    answer = client.get(path)
    assert answer.status_code == 403
    assert answer.json["type"].endswith("/sign-on/org-mismatch")
    assert client.get_cookie(SESSION_COOKIE) is None


def test_another_oauth_client_is_refused(client, db, sbx):
    with db.session() as session:
        session.get(Tenant, "sbx").sso_client_id = "sandbox-sso-other"
    path = _callback_path(client, sbx)  # authorize and the exchange use the other client
    with db.session() as session:  # ... which the tenant no longer names
        session.get(Tenant, "sbx").sso_client_id = "sandbox-sso-client"
    answer = client.get(path)
    assert answer.status_code == 403
    assert answer.json["type"].endswith("/sign-on/client-mismatch")


def test_a_person_coachwire_does_not_know_is_refused(client, db, sbx):
    person = agent(sbx)
    with db.session() as session:
        session.delete(session.get(Person, ("sbx", person.id)))
    answer = client.get(_callback_path(client, sbx, person.id), headers={"Accept": "text/html"})
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "not set up in Coachwire" in answer.get_data(as_text=True)
    # the error page is framable by the tenant's console (it is shown inside the frame)
    assert f"frame-ancestors {CONSOLE}" in answer.headers["Content-Security-Policy"]
    assert ("sso.refused", {"reason": "unknown_person", "status": 403,
                            "host_user_id": person.id}) in audit_actions(db)


@pytest.mark.parametrize("next_path", [
    "https://evil.example/t/sbx/panels/home",
    "//evil.example/t/sbx/panels/home",
    "/\\evil.example/t/sbx/panels/home",
    "/t/sbx/panels/../../sso/start",
    "/t/sbx/panels/%2e%2e/%2e%2e/api/v1/people",
    "/t/sbx/panels//evil.example",
    "/t/other/panels/home",
    "/t/sbx/panelsX/home",
    "/t/sbx/panels/",
    "javascript:alert(1)",
    "/t/sbx/panels/home\r\nSet-Cookie: x=y",
    "/t/sbx/panels/home#frag",
    "/t/sbx/panels/home?x=\u00e9",
])
def test_an_open_redirect_in_next_is_refused(client, db, sbx, next_path):
    answer = start(client, next_path)
    assert answer.status_code == 400
    assert answer.json["type"].endswith("/sign-on/bad-next")
    with db.session() as session:
        assert session.scalars(select(SsoState)).first() is None


@pytest.mark.parametrize("next_path", [
    "/t/sbx/panels/home?gcHostOrigin=https://apps.mypurecloud.ie&gcTargetEnv=prod-euw1&gcLangTag=de",
    "/t/sbx/panels/interaction?gcConversationId=c0ffee00-0000-4000-8000-000000000001",
    "/t/sbx/panels/agents",
])
def test_panel_paths_with_the_host_parameters_are_kept_as_they_are(client, db, sbx, next_path):
    assert start(client, next_path).status_code == 302
    with db.session() as session:
        assert session.scalars(select(SsoState)).one().next_path == next_path


def test_purge_drops_expired_states_and_old_sessions(app, client, db, sbx):
    sign_in(client, supervisor(sbx).id)
    start(client)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    with db.session() as session:
        for state in session.scalars(select(SsoState)):
            state.expires_at = long_ago
        for row in session.scalars(select(PanelSession)):
            row.expires_at = long_ago
    with app.app_context():
        assert sessions.purge_expired() == {"states": 2, "sessions": 1}


def test_start_refuses_unknown_and_unconfigured_tenants(client, db, sbx):
    assert start(client, "/t/nope/panels/home", tenant="nope").status_code == 404
    with db.session() as session:
        session.get(Tenant, "sbx").sso_client_id = None
    assert start(client).status_code == 409
    with db.session() as session:
        tenant = session.get(Tenant, "sbx")
        tenant.sso_client_id, tenant.status = "sandbox-sso-client", "disabled"
    assert start(client).status_code == 403


# --- the session on later requests ----------------------------------------------------------

def test_a_demoted_person_loses_access_at_once(client, db, sbx):
    person = supervisor(sbx)
    with db.session() as session:  # an admin's override: the role mapping leaves it alone
        stored = session.get(Person, ("sbx", person.id))
        stored.role, stored.role_source = "admin", "override"
    sign_in(client, person.id, "/t/sbx/panels/settings")
    assert client.get("/t/sbx/panels/settings").status_code == 200
    with db.session() as session:
        session.get(Person, ("sbx", person.id)).role = "agent"
    refused = client.get("/t/sbx/panels/settings")
    assert refused.status_code == 403
    home = client.get(HOME, follow_redirects=True).get_data(as_text=True)  # an agent's own page
    assert "(Agent)" in home and "(Admin)" not in home
    with db.session() as session:  # deactivated: the session no longer opens anything
        session.get(Person, ("sbx", person.id)).active = False
    assert client.get(HOME).status_code == 302


def test_revoking_a_person_ends_their_sessions(client, db, sbx):
    person = supervisor(sbx)
    sign_in(client, person.id)
    assert client.get(HOME).status_code == 200
    assert sessions.revoke_person(db, "sbx", person.id, reason="admin") == 1
    assert client.get(HOME).status_code == 302
    assert "sso.sessions_ended" in [a for a, _ in audit_actions(db)]


def test_revoking_every_token_of_a_person_also_ends_their_panel_sessions(client, db, sbx):
    """`flask tokens revoke --person` sets tokens_not_before; sessions older than it are dead."""
    person = supervisor(sbx)
    sign_in(client, person.id)
    with db.session() as session:
        session.get(Person, ("sbx", person.id)).tokens_not_before = (
            datetime.now(UTC) + timedelta(seconds=1))
    assert client.get(HOME).status_code == 302


def test_a_tenant_disabled_during_sign_in_gets_no_host_call_and_no_session(client, db, sbx):
    path = _callback_path(client, sbx)
    with db.session() as session:
        session.get(Tenant, "sbx").status = "disabled"
    answer = client.get(path)
    assert answer.status_code == 403
    assert answer.json["type"].endswith("/sign-on/tenant-inactive")
    assert client.get_cookie(SESSION_COOKIE) is None


def test_a_disabled_tenant_closes_its_panels(client, db, sbx):
    sign_in(client, supervisor(sbx).id)
    with db.session() as session:
        session.get(Tenant, "sbx").status = "disabled"
    answer = client.get(HOME, headers={"Accept": "text/html"})
    assert answer.status_code == 403 and "not active" in answer.get_data(as_text=True)


def test_a_session_opens_only_its_own_tenant(app, client, db, sbx):
    from extension.platform import tenants

    with db.session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Other", tenant_id="other",
                       api_base="https://api.mypurecloud.de", login_base="https://login.mypurecloud.de",
                       sso_client_id="x", host_org_id="org-other")
        session.add(Person(tenant_id="other", id=supervisor(sbx).id, name="Same id",
                           role="admin"))
    sign_in(client, supervisor(sbx).id)
    assert client.get(HOME).status_code == 200
    other = client.get("/t/other/panels/home")
    assert other.status_code == 302
    assert other.headers["Location"].startswith("/t/other/sso/start")


def test_an_idle_or_expired_session_signs_in_again(client, db, sbx):
    sign_in(client, supervisor(sbx).id)
    with db.session() as session:
        row = session.scalars(select(PanelSession)).one()
        row.last_seen_at = datetime.now(UTC) - sso.SESSION_IDLE - timedelta(minutes=1)
    assert client.get(HOME).status_code == 302


def test_the_hourly_host_recheck_ends_a_session_the_host_dropped(client, db, host, sbx):
    _, _world = host
    sign_in(client, supervisor(sbx).id)
    with db.session() as session:
        row = session.scalars(select(PanelSession)).one()
        row.host_checked_at = datetime.now(UTC) - timedelta(hours=2)
    assert client.get(HOME).status_code == 200  # the host still knows the token
    with db.session() as session:
        row = session.scalars(select(PanelSession)).one()
        assert datetime.now(UTC) - row.host_checked_at < timedelta(minutes=1)
        row.host_checked_at = datetime.now(UTC) - timedelta(hours=2)
        row.host_token_enc = client.application.extensions["coachwire.box"].seal("forgotten")
    assert client.get(HOME).status_code == 302
    with db.session() as session:
        assert session.scalars(select(PanelSession)).one().revoked_reason == "host_token_ended"


# --- CSP ------------------------------------------------------------------------------------

def _session_for(app, db, tenant_id: str, person_id: str, role: str) -> str:
    secret = sso.new_secret()
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(Person(tenant_id=tenant_id, id=person_id, name=f"Name {person_id}", role=role))
        session.add(PanelSession(id_hash=sso.digest(secret), tenant_id=tenant_id,
                                 person_id=person_id, created_at=now, last_seen_at=now,
                                 host_checked_at=now, expires_at=now + timedelta(hours=1)))
    return secret


def _ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors"))


def test_frame_ancestors_list_exactly_each_tenants_console(app, client, db, sbx):
    from extension.platform import tenants

    with db.session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name="Acme", tenant_id="acme",
                       api_base="https://api.mypurecloud.ie", login_base="https://login.mypurecloud.ie",
                       console_origins=["https://console.acme.example", "https://*.evil.example",
                                        "https://x.example/path; script-src *"])
        tenants.create(session, app.extensions["coachwire.box"], name="Bare", tenant_id="bare",
                       api_base="https://api.usw2.pure.cloud", login_base="https://login.usw2.pure.cloud")
    acme = app.test_client()
    acme.set_cookie(SESSION_COOKIE, _session_for(app, db, "acme", "p1", "agent"))
    page = acme.get("/t/acme/panels/my-performance")
    assert page.status_code == 200 and "Name p1" in page.get_data(as_text=True)
    assert _ancestors(page) == "frame-ancestors https://apps.mypurecloud.ie https://console.acme.example"
    assert "X-Frame-Options" not in page.headers
    policy = page.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'nonce="{nonce}"' in page.get_data(as_text=True)
    assert "default-src 'self'" in policy and "base-uri 'none'" in policy

    bare = app.test_client()
    bare.set_cookie(SESSION_COOKIE, _session_for(app, db, "bare", "p2", "agent"))
    assert _ancestors(bare.get("/t/bare/panels/my-performance")) == "frame-ancestors https://apps.usw2.pure.cloud"

    sign_in(client, supervisor(sbx).id)
    assert _ancestors(client.get(HOME)) == f"frame-ancestors {CONSOLE}"
    # every other answer may not be framed at all
    assert client.get("/healthz").headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert "frame-ancestors 'none'" in client.get("/t/nope/panels/home").headers[
        "Content-Security-Policy"]
