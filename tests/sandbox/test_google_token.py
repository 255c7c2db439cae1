"""The sandbox's Google token endpoint offers the grants Google offers, not client credentials."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN = "/google/token"
BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _assertion(private_key: str, **changes) -> str:
    now = int(time.time())
    claims = {"iss": "coachwire@project.iam.gserviceaccount.com", "sub": "sup1@sandbox.test",
              "scope": "https://www.googleapis.com/auth/calendar.freebusy",
              "aud": f"http://localhost{TOKEN}", "iat": now, "exp": now + 3600, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private_key,
                      algorithm="RS256")


def test_client_credentials_is_not_a_google_grant(client):
    answer = client.post(TOKEN, data={"grant_type": "client_credentials",
                                      "client_id": "google-client",
                                      "client_secret": "google-secret"})
    assert answer.status_code == 400
    assert answer.json["error"] == "unsupported_grant_type"


def test_a_refresh_token_grant_gets_a_token_that_freebusy_accepts(client):
    answer = client.post(TOKEN, data={"grant_type": "refresh_token",
                                      "refresh_token": "google-refresh",
                                      "client_id": "google-client",
                                      "client_secret": "google-secret"})
    assert answer.status_code == 200 and answer.json["expires_in"] > 0
    body = {"timeMin": "2025-06-12T08:00:00Z", "timeMax": "2025-06-12T16:00:00Z",
            "items": [{"id": "sup1@sandbox.test"}]}
    busy = client.post("/google/calendar/v3/freeBusy", json=body,
                       headers={"Authorization": f"Bearer {answer.json['access_token']}"})
    assert busy.status_code == 200


@pytest.mark.parametrize("form, status, error", [
    ({"refresh_token": "revoked", "client_id": "google-client",
      "client_secret": "google-secret"}, 400, "invalid_grant"),
    ({"refresh_token": "google-refresh", "client_id": "google-client",
      "client_secret": "wrong"}, 401, "invalid_client"),
])
def test_a_bad_refresh_grant_is_refused_as_google_does(client, form, status, error):
    answer = client.post(TOKEN, data={"grant_type": "refresh_token", **form})
    assert answer.status_code == status and answer.json["error"] == error


def test_a_service_account_jwt_bearer_grant_gets_a_token(client, private_key):
    answer = client.post(TOKEN, data={"grant_type": BEARER,
                                      "assertion": _assertion(private_key)})
    assert answer.status_code == 200, answer.json
    assert answer.json["token_type"] == "Bearer"


@pytest.mark.parametrize("changes", [
    {"aud": "https://elsewhere.test/token"},
    {"exp": int(time.time()) + 7200},  # longer than the hour Google allows
    {"exp": int(time.time()) - 10, "iat": int(time.time()) - 100},  # expired
    {"scope": None},
])
def test_an_assertion_google_would_refuse_is_invalid_grant(client, private_key, changes):
    answer = client.post(TOKEN, data={"grant_type": BEARER,
                                      "assertion": _assertion(private_key, **changes)})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
