"""Sign-on from another host with a JWT it signed (``/t/<tenant>/sso/jwt``): RS256 with the
host's JWKS (served by ``responses``, keys generated here) or HS256 with a sealed secret;
iss/aud/exp/iat/nbf, the tenant's algorithm only, jti once, sub -> a stored person, role claims
through the tenant's role mapping, then a rotated panel session."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from connectors import jwks
from extension.platform import sessions
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession
from extension.platform.models.tenants import Tenant
from extension.platform.shell import SESSION_COOKIE
from tests.factories import add_people, add_tenant

JWKS_URL = "https://idp.example/.well-known/jwks.json"
ISSUER, AUDIENCE = "https://idp.example", "coachwire"
HOME = "/t/acme/panels/home"
SECRET = "s" * 16 + "-a-long-shared-secret-for-hs256"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def _jwk(private, kid: str) -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256"}


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "agent-1", "iat": now, "nbf": now,
            "exp": now + 300, "jti": f"jti-{time.monotonic_ns()}"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def rs256(private=KEY, kid="k1", **overrides) -> str:
    return jwt.encode(claims(**overrides), private, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def idp():
    jwks.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(JWKS_URL, json={"keys": [_jwk(KEY, "k1")]})
        yield mock
    jwks.forget()


@pytest.fixture
def acme(app, db):
    add_tenant(db, "acme")
    add_people(db, "acme", [("agent-1", "agent", None, None), ("agent-2", "agent", None, None)],
               name=lambda pid: f"Person {pid}")
    with db.session() as session:
        session.get(Person, ("acme", "agent-2")).active = False
    return "acme"


def configure(app, *args: str):
    result = app.test_cli_runner().invoke(args=["tenants", "jwt", "acme", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def rs(app, acme, idp):
    configure(app, "--issuer", ISSUER, "--audience", AUDIENCE, "--algorithm", "RS256",
              "--jwks-url", JWKS_URL)
    return idp


def go(client, token: str, next_path: str = HOME, **headers):
    return client.get(f"/t/acme/sso/jwt?jwt={quote(token, safe='')}&next={quote(next_path, safe='')}",
                      headers={"Accept": "application/json", **headers})


def reasons(db) -> list[str]:
    with db.session() as session:
        return [row.details.get("reason") for row in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sso.refused"))]


def test_a_good_rs256_token_opens_a_panel_session(app, client, db, rs):
    answer = go(client, rs256())
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"] == HOME
    assert answer.headers["Referrer-Policy"] == "no-referrer"  # the token was in the URL
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.secure and cookie.http_only
    with db.session() as session:
        row = session.scalars(select(PanelSession)).one()
        assert row.person_id == "agent-1" and row.via == "jwt" and row.host_token_enc is None
    current = sessions.load(db, app.extensions["coachwire.box"], secret=cookie.value,
                            tenant_id="acme")
    assert current is not None and current.principal.role == "agent"
    # no host token to re-check: hours later the session is still there, with no host call
    later = datetime.now(UTC) + timedelta(hours=2)
    assert sessions.load(db, app.extensions["coachwire.box"], secret=cookie.value,
                         tenant_id="acme", now=later) is not None
    assert len(rs.calls) == 1  # the JWKS, once


def test_the_jwks_is_fetched_once_for_many_sign_ins(app, client, db, rs):
    for _ in range(3):
        assert go(app.test_client(), rs256()).status_code == 303
    assert len(rs.calls) == 1


def test_a_token_is_good_once(app, client, db, rs):
    token = rs256()
    assert go(client, token).status_code == 303
    again = go(app.test_client(), token)
    assert again.status_code == 401
    assert again.get_json()["type"].endswith("/sign-on/jwt-replayed")
    assert "jwt_replayed" in reasons(db)


def test_signing_in_again_rotates_the_session(app, client, db, rs):
    go(client, rs256())
    first = client.get_cookie(SESSION_COOKIE).value
    go(client, rs256())
    assert client.get_cookie(SESSION_COOKIE).value != first
    with db.session() as session:
        ended = [r for r in session.scalars(select(PanelSession)) if r.revoked_at is not None]
        assert [r.revoked_reason for r in ended] == ["rotated"]


NOW = int(time.time())


@pytest.mark.parametrize("case, token", [
    ("wrong issuer", lambda: rs256(iss="https://evil.example")),
    ("wrong audience", lambda: rs256(aud="someone-else")),
    ("expired", lambda: rs256(iat=int(time.time()) - 400, exp=int(time.time()) - 100)),
    ("not yet valid", lambda: rs256(nbf=int(time.time()) + 600)),
    ("issued in the future", lambda: rs256(iat=int(time.time()) + 600,
                                           exp=int(time.time()) + 900)),
    ("issued too long ago", lambda: rs256(iat=int(time.time()) - 3600)),
    ("lifetime too long", lambda: rs256(exp=int(time.time()) + 86400)),
    ("no jti", lambda: rs256(jti=None)),
    ("no exp", lambda: rs256(exp=None)),
    ("no sub", lambda: rs256(sub=None)),
    ("signed by another key", lambda: rs256(private=OTHER_KEY)),
    ("unknown kid", lambda: rs256(private=OTHER_KEY, kid="k9")),
    ("alg none", lambda: jwt.encode(claims(), None, algorithm="none")),
    ("HS256 with the public key as secret", lambda: jwt.encode(
        claims(), "not-the-tenant-algorithm-secret-0123456789", algorithm="HS256",
        headers={"kid": "k1"})),
    ("not a JWT", lambda: "abc.def"),
])
def test_a_bad_token_is_refused_and_audited(app, client, db, rs, case, token):
    answer = go(client, token())
    assert answer.status_code == 401, (case, answer.get_data(as_text=True))
    assert answer.get_json()["type"].endswith("/sign-on/jwt-invalid")
    assert client.get_cookie(SESSION_COOKIE) is None
    assert reasons(db) == ["jwt_invalid"]
    with db.session() as session:
        assert session.scalars(select(PanelSession)).first() is None


def test_an_unknown_or_inactive_person_is_refused(app, client, db, rs):
    assert go(client, rs256(sub="nobody")).status_code == 403
    assert go(client, rs256(sub="agent-2")).status_code == 403
    assert reasons(db) == ["unknown_person", "inactive_person"]


def test_role_claims_go_through_the_tenants_role_mapping(app, client, db, rs):
    answer = go(client, rs256(permissions=["quality:evaluation:add"]))
    assert answer.status_code == 303
    with db.session() as session:
        assert session.get(Person, ("acme", "agent-1")).role == "qa_analyst"
    go(app.test_client(), rs256(direct_reports=True))
    with db.session() as session:
        assert session.get(Person, ("acme", "agent-1")).role == "supervisor"


def test_an_admin_override_survives_the_claims(app, client, db, rs):
    with db.session() as session:
        person = session.get(Person, ("acme", "agent-1"))
        person.role, person.role_source = "admin", "override"
    go(client, rs256(direct_reports=True))
    with db.session() as session:
        assert session.get(Person, ("acme", "agent-1")).role == "admin"


def test_the_next_page_must_be_a_panel_of_the_tenant(app, client, db, rs):
    assert go(client, rs256(), next_path="https://evil.example/").status_code == 400
    assert go(client, rs256(), next_path="/t/other/panels/home").status_code == 400


def test_a_jwks_that_does_not_answer_is_a_502(app, client, db, acme):
    jwks.forget()
    with responses.RequestsMock() as mock:
        mock.get(JWKS_URL, status=503)
        configure(app, "--issuer", ISSUER, "--audience", AUDIENCE, "--jwks-url", JWKS_URL)
        answer = go(client, rs256())
    jwks.forget()
    assert answer.status_code == 502
    assert answer.get_json()["type"].endswith("/sign-on/jwks-unavailable")


def test_hs256_with_a_sealed_secret(app, client, db, acme):
    configure(app, "--issuer", ISSUER, "--audience", AUDIENCE, "--algorithm", "HS256",
              "--secret", SECRET)
    with db.session() as session:
        sealed = session.get(Tenant, "acme").jwt_config_enc
    assert sealed and SECRET not in sealed and ISSUER not in sealed
    shown = configure(app, "--show").output
    assert SECRET not in shown and json.loads(shown)["secret_set"] is True
    good = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert go(client, good).status_code == 303
    forged = jwt.encode(claims(), "x" * 40, algorithm="HS256")
    assert go(app.test_client(), forged).status_code == 401
    # an RS256 token is not taken by an HS256 tenant
    assert go(app.test_client(), rs256()).status_code == 401


def test_the_cli_refuses_weak_or_mixed_settings(app, acme):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["tenants", "jwt", "acme", "--issuer", ISSUER, "--audience",
                               AUDIENCE, "--algorithm", "HS256", "--secret", "short"])
    assert weak.exit_code != 0 and "secret" in weak.output
    plain = runner.invoke(args=["tenants", "jwt", "acme", "--issuer", ISSUER, "--audience",
                                AUDIENCE, "--jwks-url", "http://idp.example/jwks"])
    assert plain.exit_code != 0 and "jwks_url" in plain.output


def test_a_tenant_without_jwt_settings_refuses(app, client, db, acme):
    answer = go(client, rs256())
    assert answer.status_code == 409
    configure(app, "--issuer", ISSUER, "--audience", AUDIENCE, "--jwks-url", JWKS_URL)
    configure(app, "--clear")
    assert go(client, rs256()).status_code == 409
