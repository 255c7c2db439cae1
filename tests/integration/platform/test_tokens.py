"""Bearer tokens through the HTTP interface: revocable by id or per person (`flask tokens
revoke`, audited), and any signed token with malformed or out-of-range claims is a 401
problem, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from extension.platform.auth import tokens
from extension.platform.models.audit import AuditEntry
from extension.platform.models.people import Person
from tests.factories import add_people, add_tenant

URL = "/api/v1/queues"


@pytest.fixture
def acme(db):
    add_tenant(db, "acme")
    add_people(db, "acme", [("boss", "admin", None, None), ("ann", "agent", "t1", "boss")])
    return "acme"


def flask(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def issue(app, person: str = "boss") -> str:
    result = flask(app, "tokens", "issue", "--tenant", "acme", "--person", person)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def get(client, token: str):
    return client.get(URL, headers={"Authorization": f"Bearer {token}"})


def assert_401(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def audited(db, action: str) -> list[dict]:
    with db.session() as session:
        return [e.details | {"subject": e.subject_id} for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_every_token_has_its_own_id_recorded_at_issue(app, db, acme):
    first, second = issue(app), issue(app)
    ids = [tokens.verify(app.config["SECRET_KEY"], t).token_id for t in (first, second)]
    assert ids[0] != ids[1]
    assert [d["jti"] for d in audited(db, "token.issued")] == ids


def test_a_revoked_token_is_401_and_the_revocation_is_audited(app, client, db, acme):
    token, other = issue(app), issue(app)
    assert get(client, token).status_code == 200
    result = flask(app, "tokens", "revoke", "--tenant", "acme", "--token", token)
    assert result.exit_code == 0, result.output
    assert_401(get(client, token))
    assert get(client, other).status_code == 200  # only that token
    jti = tokens.verify(app.config["SECRET_KEY"], token).token_id
    assert [(d["subject"], d["jti"]) for d in audited(db, "token.revoked")] == [("boss", jti)]


def test_a_token_is_revoked_by_its_id_from_the_audit_trail(app, client, db, acme):
    token = issue(app)
    jti = audited(db, "token.issued")[0]["jti"]
    result = flask(app, "tokens", "revoke", "--tenant", "acme", "--person", "boss", "--jti", jti)
    assert result.exit_code == 0, result.output
    assert_401(get(client, token))


def test_revoking_a_person_revokes_all_their_tokens_so_far_but_not_later_ones(
        app, client, db, acme):
    minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    old = [tokens.issue(app.config["SECRET_KEY"], tenant_id="acme", person_id="boss",
                        role="admin", now=minute_ago), issue(app)]
    agent = issue(app, "ann")
    result = flask(app, "tokens", "revoke", "--tenant", "acme", "--person", "boss")
    assert result.exit_code == 0, result.output
    for token in old:
        assert_401(get(client, token))
    assert get(client, agent).status_code == 200
    assert [d["subject"] for d in audited(db, "token.revoked")] == ["boss"]
    # half a minute on (the stored instant moves back instead of the test sleeping), a token
    # issued now works and the one from before the revocation still does not
    with db.session() as session:
        boss = session.get(Person, ("acme", "boss"))
        boss.tokens_not_before -= timedelta(seconds=30)
    assert get(client, issue(app)).status_code == 200
    assert_401(get(client, old[0]))


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "acme"], "give --token"),
    (["--tenant", "acme", "--token", "not-a-token"], "not a valid token"),
    (["--tenant", "acme", "--person", "ghost"], "no person"),
    (["--tenant", "nope", "--person", "boss"], "no tenant"),
])
def test_revoke_refuses_bad_input_and_changes_nothing(app, client, db, acme, args, message):
    token = issue(app)
    result = flask(app, "tokens", "revoke", *args)
    assert result.exit_code != 0 and message in result.output
    assert get(client, token).status_code == 200
    assert audited(db, "token.revoked") == []


def test_a_token_of_another_tenant_cannot_be_revoked_under_this_one(app, client, db, acme):
    add_tenant(db, "globex")
    token = issue(app)
    result = flask(app, "tokens", "revoke", "--tenant", "globex", "--token", token)
    assert result.exit_code != 0 and "belongs to tenant 'acme'" in result.output
    assert get(client, token).status_code == 200


def forge(app, **changes) -> str:
    """A token signed with the right key whose claims are as the test says."""
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": "coachwire", "tid": "acme", "sub": "boss", "role": "admin", "iat": now,
              "exp": now + 600, "jti": "a" * 32}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256")


def test_a_well_formed_forged_token_passes_so_the_cases_below_test_one_claim_each(app, client, acme):
    assert get(client, forge(app)).status_code == 200


NOW = int(datetime.now(UTC).timestamp())


@pytest.mark.parametrize("changes", [
    {"exp": 10**20}, {"exp": 2**63}, {"exp": NOW + 10**9}, {"exp": True}, {"exp": float(NOW + 60)},
    {"iat": 10**20}, {"iat": -10**20}, {"iat": None}, {"iat": "yesterday"}, {"iat": NOW + 7200},
    {"exp": NOW - 5, "iat": NOW - 10}, {"exp": NOW + 60, "iat": NOW - 40 * 86400},
    {"jti": None}, {"jti": 7}, {"jti": ""}, {"jti": "x" * 65},
    {"sub": 123}, {"sub": ["boss"]}, {"sub": "bo\x00ss"}, {"sub": "b" * 500},
    {"tid": {"id": "acme"}}, {"tid": "ac\x00me"}, {"role": ["admin"]}, {"role": "root"},
], ids=lambda c: ",".join(f"{k}={v!r}"[:24] for k, v in c.items()))
def test_malformed_or_out_of_range_claims_are_401_never_500(app, client, acme, changes):
    assert_401(get(client, forge(app, **changes)))
