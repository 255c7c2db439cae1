"""CSRF and Fetch Metadata on requests the panel session cookie authenticates.

The panel cookie reaches the API too (the panels' own calls): an unsafe request with it needs
the session's CSRF token (from the page shell) and ``Sec-Fetch-Site: same-origin``; another
site's requests are refused before any view runs. Bearer-token calls are unaffected."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from extension.platform import csrf, sso
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession
from extension.platform.shell import SESSION_COOKIE
from tests.factories import add_people, add_tenant, bearer

SAME = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}


def _session(db, tenant_id: str, person_id: str) -> str:
    secret = sso.new_secret()
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(PanelSession(id_hash=sso.digest(secret), tenant_id=tenant_id,
                                 person_id=person_id, created_at=now, last_seen_at=now,
                                 host_checked_at=now, expires_at=now + timedelta(hours=1)))
    return secret


@pytest.fixture
def world(app, db):
    for tenant in ("acme", "globex"):
        add_tenant(db, tenant)
        add_people(db, tenant, [("boss", "admin", None, None), ("other", "admin", None, None),
                                ("a1", "agent", "t1", None)])
    return app


@pytest.fixture
def admin(world, db):
    """A test client signed in to acme's panels as an admin, and the page's CSRF token."""
    client = world.test_client()
    client.set_cookie(SESSION_COOKIE, _session(db, "acme", "boss"))
    page = client.get("/t/acme/panels/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)
    assert f"hx-headers:inherited='{{\"X-CSRF-Token\": \"{token}\"}}'" in html
    return client, token


def _role(db, person_id="a1", tenant_id="acme") -> str:
    with db.session() as session:
        return session.get(Person, (tenant_id, person_id)).role


def _put(client, headers, role="qa_analyst"):
    return client.put("/api/v1/people/a1/role", json={"role": role}, headers=headers)


def test_the_cookie_constant_is_the_shells():
    assert csrf.COOKIE == SESSION_COOKIE


def test_a_panel_request_with_its_token_is_carried_out_and_audited_as_the_person(admin, db):
    client, token = admin
    answer = _put(client, {**SAME, "X-CSRF-Token": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert _role(db) == "qa_analyst"
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "person.role_set")).one()
        assert entry.actor == "person:boss"
    # reads with the cookie need no token
    listed = client.get("/api/v1/people", headers=SAME)
    assert listed.status_code == 200 and len(listed.json["items"]) == 3


@pytest.mark.parametrize("given", [None, "", "wrong", "x" * 43])
def test_a_missing_or_wrong_token_is_refused(admin, db, given):
    client, _token = admin
    headers = dict(SAME)
    if given is not None:
        headers["X-CSRF-Token"] = given
    answer = _put(client, headers)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json["type"].endswith("/csrf/token")
    assert _role(db) == "agent"


def test_another_sessions_token_is_refused(admin, db):
    client, _token = admin
    theirs = csrf.token_for(client.application.config["SECRET_KEY"], _session(db, "acme", "other"))
    assert _put(client, {**SAME, "X-CSRF-Token": theirs}).status_code == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none"])
def test_an_unsafe_request_from_another_site_is_refused_even_with_the_token(admin, db, site):
    client, token = admin
    answer = _put(client, {"Sec-Fetch-Site": site, "X-CSRF-Token": token})
    assert answer.status_code == 403
    assert answer.json["type"].endswith("/csrf/cross-site")
    assert _role(db) == "agent"


def test_without_fetch_metadata_the_origin_must_be_ours(admin, db):
    client, token = admin
    refused = _put(client, {"Origin": "https://apps.mypurecloud.ie", "X-CSRF-Token": token})
    assert refused.status_code == 403 and refused.json["type"].endswith("/csrf/cross-site")
    public = client.application.config["SETTINGS"].public_url.rstrip("/")
    assert _put(client, {"Origin": public, "X-CSRF-Token": token}).status_code == 200
    # an old browser sending neither still needs the token
    assert _put(client, {}, role="manager").status_code == 403
    assert _put(client, {"X-CSRF-Token": token}, role="manager").status_code == 200


def test_a_form_post_may_carry_the_token_as_a_field(admin, db):
    client, token = admin
    answer = client.post("/api/v1/people/a1/role", data={"csrf_token": token, "role": "admin"},
                         headers=SAME)
    # past the CSRF check: the route itself takes PUT only
    assert answer.status_code == 405
    refused = client.post("/api/v1/people/a1/role", data={"role": "admin"}, headers=SAME)
    assert refused.status_code == 403


def test_another_site_may_not_read_the_api_with_the_cookie(admin):
    client, _token = admin
    answer = client.get("/api/v1/people", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403 and answer.json["type"].endswith("/csrf/cross-site")
    # the panel page itself is a cross-site frame navigation: not refused
    framed = client.get("/t/acme/panels/home", headers={"Sec-Fetch-Site": "cross-site",
                                                        "Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 200


def test_bearer_calls_are_unaffected_even_with_the_cookie(admin, world, db):
    client, _token = admin
    headers = {**bearer(world, "other", "admin"), "Sec-Fetch-Site": "cross-site"}
    answer = _put(client, headers)
    assert answer.status_code == 200  # a token, not the cookie, authenticates it
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "person.role_set")).one()
        assert entry.actor == "person:other"
    plain = world.test_client()
    assert _put(plain, bearer(world, "other", "admin"), role="manager").status_code == 200


def test_the_cookie_gives_only_its_own_tenant_and_the_stored_role(admin, db):
    client, token = admin
    with db.session() as session:
        session.get(Person, ("acme", "boss")).role = "supervisor"
    answer = _put(client, {**SAME, "X-CSRF-Token": token})
    assert answer.status_code == 403 and _role(db) == "agent"
    with db.session() as session:
        session.get(Person, ("acme", "boss")).role = "admin"
    assert _put(client, {**SAME, "X-CSRF-Token": token}).status_code == 200
    assert _role(db, tenant_id="globex") == "agent"


def test_an_ended_session_is_a_401(admin, db):
    client, token = admin
    with db.session() as session:
        for row in session.scalars(select(PanelSession)):
            row.revoked_at = datetime.now(UTC)
    answer = _put(client, {**SAME, "X-CSRF-Token": token})
    assert answer.status_code == 401
    assert client.get("/api/v1/people", headers=SAME).status_code == 401
    assert _role(db) == "agent"


def test_sign_in_rotates_the_token(world, db):
    first, second = _session(db, "acme", "boss"), _session(db, "acme", "boss")
    key = world.config["SECRET_KEY"]
    assert csrf.token_for(key, first) != csrf.token_for(key, second)
    assert csrf.token_for(key, first) == csrf.token_for(key, first)
