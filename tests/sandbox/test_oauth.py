"""OAuth client credentials and the bearer requirement on /api/v2."""

import base64

from tests.sandbox.conftest import BASIC


def test_client_credentials_issue_a_bearer_token(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": BASIC})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"]


def test_wrong_secret_is_rejected_with_401(client):
    bad = "Basic " + base64.b64encode(b"sandbox-client:nope").decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": bad})
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_malformed_basic_header_is_401_not_500(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic %%%"})
    assert response.status_code == 401


def test_other_grant_types_are_refused(client):
    response = client.post("/oauth/token", data={"grant_type": "password"},
                           headers={"Authorization": BASIC})
    assert response.status_code == 400


def test_api_calls_without_a_token_get_an_error_body_401(client):
    response = client.get("/api/v2/users")
    assert response.status_code == 401
    assert {"message", "code", "status"} <= response.json.keys()
    assert response.json["status"] == 401


def test_api_calls_with_an_unknown_token_are_401(client):
    response = client.get("/api/v2/users", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401


def test_a_graph_token_does_not_open_the_genesys_api(client):
    token = client.post("/graph/oauth2/tenant-1/oauth2/v2.0/token",
                        data={"grant_type": "client_credentials", "client_id": "graph-client",
                              "client_secret": "graph-secret"}).json["access_token"]
    response = client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
