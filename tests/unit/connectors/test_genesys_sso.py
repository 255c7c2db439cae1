"""The person sign-on connector: the PKCE pieces and the three host calls, checked against the
reference (auth.otherGrantsInSdk.pkce, getUsersMe, TokenInfo)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.errors import Invalid
from connectors.genesys import sso
from tests.contract.reference import REFERENCE, check_query, find_operation

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"


def reference() -> dict:
    return json.loads(REFERENCE.read_text())


def test_s256_matches_rfc_7636_appendix_b():
    assert (sso.challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_verifiers_are_long_random_and_unreserved():
    verifiers = {sso.new_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-._~")


def test_the_authorize_url_asks_for_a_code_with_s256():
    url = sso.authorize_url(login_base=LOGIN + "/", client_id="cid",
                            redirect_uri="https://cw.example/sso/genesys/callback", state="s",
                            code_challenge="c" * 43)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{LOGIN}/oauth/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"], "client_id": ["cid"],
        "redirect_uri": ["https://cw.example/sso/genesys/callback"], "state": ["s"],
        "code_challenge": ["c" * 43], "code_challenge_method": ["S256"]}


@responses.activate
def test_the_exchange_sends_the_reference_pkce_form_without_a_secret():
    responses.post(f"{LOGIN}/oauth/token",
                   json={"access_token": "person-token", "token_type": "bearer",
                         "expires_in": 86399})
    host = sso.PersonSignOn(login_base=LOGIN, api_base=API)
    answer = host.exchange_code(client_id="cid", code="the-code",
                                redirect_uri="https://cw.example/cb", code_verifier="v" * 43)
    assert answer["access_token"] == "person-token"
    sent = responses.calls[0].request
    form = {k: v[0] for k, v in parse_qs(sent.body).items()}
    pkce = reference()["auth"]["otherGrantsInSdk"]["pkce"]
    assert set(form) == {"grant_type", *pkce["form"]}
    assert form["grant_type"] == pkce["grant_type"] == "authorization_code"
    assert "Authorization" not in sent.headers  # a PKCE client has no secret to send


@responses.activate
def test_a_refused_verifier_is_invalid_and_not_retried():
    responses.post(f"{LOGIN}/oauth/token", status=400,
                   json={"error": "invalid_grant", "error_description": "PKCE verification failed"})
    host = sso.PersonSignOn(login_base=LOGIN, api_base=API)
    with pytest.raises(Invalid):
        host.exchange_code(client_id="cid", code="c", redirect_uri="https://cw.example/cb",
                           code_verifier="v" * 43)
    assert len(responses.calls) == 1


@responses.activate
def test_users_me_asks_for_reference_expands_with_the_person_token():
    responses.get(f"{API}/api/v2/users/me", json={"id": "u1", "version": 1})
    responses.get(f"{API}/api/v2/tokens/me", json={"organization": {"id": "o1"},
                                                   "OAuthClient": {"id": "cid"}})
    host = sso.PersonSignOn(login_base=LOGIN, api_base=API)
    assert host.user_me("person-token")["id"] == "u1"
    assert host.token_info("person-token")["OAuthClient"]["id"] == "cid"
    me, info = (call.request for call in responses.calls)
    operation = find_operation("GET", urlsplit(me.url).path)
    assert operation is not None and operation["operationId"] == "getUsersMe"
    query = parse_qs(urlsplit(me.url).query)
    assert check_query(operation, query) == []
    assert sorted(query["expand"]) == ["authorization", "directreports", "groups"]
    assert me.headers["Authorization"] == info.headers["Authorization"] == "Bearer person-token"
    # TokenInfo's fields as the reference names them (the operation itself is outside the subset)
    fields = reference()["models"]["TokenInfo"]["fields"]
    assert {"organization", "OAuthClient"} <= set(fields)


def test_tokens_me_is_the_sdk_operation_the_reference_subset_leaves_out():
    """GET /api/v2/tokens/me is not among the reference's 150 operations; the same SDK (269)
    the reference was built from has it (TokensApi.get_tokens_me -> TokenInfo), and names the
    client field OAuthClient on the wire."""
    import inspect

    from PureCloudPlatformClientV2.apis.tokens_api import TokensApi
    from PureCloudPlatformClientV2.models.token_info import TokenInfo

    source = inspect.getsource(TokensApi)
    assert "resource_path = '/api/v2/tokens/me'" in source and "response_type='TokenInfo'" in source
    wire = TokenInfo().attribute_map
    assert wire["o_auth_client"] == "OAuthClient" and wire["organization"] == "organization"
