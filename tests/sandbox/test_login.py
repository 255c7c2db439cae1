"""Person sign-on at the sandbox host: Authorization Code with PKCE, tokens/me, users/me."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.sandbox.sdk import conforms

CLIENT = "sandbox-sso-client"
REDIRECT = "https://coachwire.example/sso/genesys/callback"
VERIFIER = "v" * 50


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def params(**changes) -> dict:
    return {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT,
            "state": "st-1", "code_challenge": s256(VERIFIER), "code_challenge_method": "S256",
            **changes}


def code_for(client, user_id: str, **changes) -> str:
    answer = client.post("/oauth/authorize", data={**params(**changes), "user_id": user_id})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def exchange(client, grant: str, **changes):
    form = {"grant_type": "authorization_code", "code": grant, "redirect_uri": REDIRECT,
            "client_id": CLIENT, "code_verifier": VERIFIER, **changes}
    return client.post("/oauth/token", data=form)


def test_the_picker_lists_active_people_and_keeps_the_request(client, world):
    page = client.get("/oauth/authorize?" + urlencode(params()))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(p.id in html for p in world.agents + world.supervisors)
    assert world.integration_user.id not in html
    assert 'name="code_challenge"' in html and 'method="post"' in html


def test_code_then_token_then_tokens_me_and_users_me(client, world):
    supervisor = world.supervisors[0]
    token = exchange(client, code_for(client, supervisor.id))
    assert token.status_code == 200
    assert token.json["token_type"] == "bearer" and token.json["expires_in"] > 0
    auth = {"Authorization": f"Bearer {token.json['access_token']}"}
    info = client.get("/api/v2/tokens/me", headers=auth).json
    conforms(info, "TokenInfo")
    assert info["organization"]["id"] == world.org_id
    assert info["OAuthClient"]["id"] == CLIENT
    me = client.get("/api/v2/users/me?expand=authorization&expand=groups", headers=auth)
    assert me.status_code == 200
    conforms(me.json, "UserMe")
    assert me.json["id"] == supervisor.id
    assert "Supervisor" in [r["name"] for r in me.json["authorization"]["roles"]]
    assert me.json["authorization"]["permissions"]
    assert [g["id"] for g in me.json["groups"]] == [world.team_of(supervisor.id).id]
    comma = client.get("/api/v2/users/me?expand=authorization,groups", headers=auth)
    assert comma.json["groups"] == me.json["groups"]


def test_a_wrong_verifier_is_invalid_grant(client, world):
    answer = exchange(client, code_for(client, world.agents[0].id), code_verifier="w" * 50)
    assert answer.status_code == 400
    assert answer.json == {"error": "invalid_grant", "error_description": "PKCE verification failed"}


@pytest.mark.parametrize("changes", [{"redirect_uri": "https://elsewhere.example/cb"},
                                     {"code": "forged"}, {"code_verifier": ""}])
def test_other_bad_exchanges_are_invalid_grant(client, world, changes):
    answer = exchange(client, code_for(client, world.agents[0].id), **changes)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"


def test_a_code_is_good_once(client, world):
    code = code_for(client, world.agents[0].id)
    assert exchange(client, code).status_code == 200
    again = exchange(client, code)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_an_unknown_client_is_shown_not_redirected(client):
    page = client.get("/oauth/authorize?" + urlencode(params(client_id="nobody")))
    assert page.status_code == 400 and "Location" not in page.headers
    token = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x",
                                              "client_id": "nobody", "code_verifier": VERIFIER,
                                              "redirect_uri": REDIRECT})
    assert token.status_code == 401 and token.json["error"] == "invalid_client"


def test_pkce_is_required(client):
    answer = client.get("/oauth/authorize?" + urlencode(params(code_challenge_method="plain")))
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["st-1"]


def test_an_inactive_person_cannot_sign_in(client, world):
    person = world.agents[0]
    person.state = "inactive"
    answer = client.post("/oauth/authorize", data={**params(), "user_id": person.id})
    assert answer.status_code == 400


def test_users_me_is_refused_for_client_credentials(client, auth, world):
    answer = client.get("/api/v2/users/me", headers=auth)
    assert answer.status_code == 400 and answer.json["code"] == "bad.request"
    info = client.get("/api/v2/tokens/me", headers=auth).json
    conforms(info, "TokenInfo")
    assert info["OAuthClient"]["id"] == "sandbox-client"
    assert info["OAuthClient"]["authorizedGrantType"] == "CLIENT-CREDENTIALS"


def test_users_me_refuses_an_unknown_expand(client, world):
    token = exchange(client, code_for(client, world.agents[0].id)).json["access_token"]
    answer = client.get("/api/v2/users/me?expand=nonsense",
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400
