"""Google tokens: the grants Google offers, cached until expiry; Google's rate-limit 403."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.calendars.google import GoogleCalendar, google_token_provider
from connectors.errors import Forbidden, RateLimited

GOOGLE = "https://google.sandbox.test"
TOKEN_URI = "https://oauth2.test/token"
START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
END = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
FREEBUSY = f"{GOOGLE}/calendar/v3/freeBusy"
FREE = {"calendars": {"a": {"busy": []}}}
REFRESH = {"client_id": "cid", "client_secret": "csecret", "refresh_token": "rt",
           "token_url": TOKEN_URI}


class Clock:
    def __init__(self, now: float = 1_750_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _calendar(config, sleeps, clock):
    return GoogleCalendar(token=google_token_provider(config, sleep=sleeps, clock=clock),
                          google_base=GOOGLE, sleep=sleeps)


def _token_calls(mocked):
    return [c for c in mocked.calls if c.request.url == TOKEN_URI]


def test_a_refresh_token_is_exchanged_once_and_reused_until_it_expires(mocked, sleeps):
    mocked.post(TOKEN_URI, json={"access_token": "t1", "expires_in": 3599})
    mocked.post(FREEBUSY, json=FREE)
    clock = Clock()
    calendar = _calendar(REFRESH, sleeps, clock)
    for _ in range(3):
        assert calendar.busy_intervals("a", START, END) == []
    assert len(_token_calls(mocked)) == 1
    assert parse_qs(_token_calls(mocked)[0].request.body) == {
        "grant_type": ["refresh_token"], "refresh_token": ["rt"], "client_id": ["cid"],
        "client_secret": ["csecret"]}
    clock.now += 3600  # expired: the next call asks again
    mocked.replace("POST", TOKEN_URI, json={"access_token": "t2", "expires_in": 3599})
    calendar.busy_intervals("a", START, END)
    assert len(_token_calls(mocked)) == 2
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer t2"


def test_a_service_account_signs_a_one_hour_jwt_for_the_delegated_user(mocked, sleeps, key):
    mocked.post(TOKEN_URI, json={"access_token": "sa", "expires_in": 3600})
    mocked.post(FREEBUSY, json=FREE)
    clock = Clock()
    config = {"type": "service_account", "client_email": "cw@p.iam.gserviceaccount.com",
              "private_key": _pem(key), "private_key_id": "k1", "token_uri": TOKEN_URI,
              "subject": "sup@x.com"}
    calendar = _calendar(config, sleeps, clock)
    calendar.busy_intervals("a", START, END)
    calendar.busy_intervals("a", START, END)
    (call,) = _token_calls(mocked)
    form = parse_qs(call.request.body)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = form["assertion"][0]
    claims = jwt.decode(assertion, key.public_key(), algorithms=["RS256"], audience=TOKEN_URI,
                        options={"verify_exp": False, "verify_iat": False})
    assert claims == {"iss": "cw@p.iam.gserviceaccount.com", "sub": "sup@x.com",
                      "scope": "https://www.googleapis.com/auth/calendar.freebusy",
                      "aud": TOKEN_URI, "iat": int(clock.now), "exp": int(clock.now) + 3600}
    assert jwt.get_unverified_header(assertion)["kid"] == "k1"
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer sa"


def test_a_rejected_cached_token_is_replaced_once(mocked, sleeps):
    mocked.post(TOKEN_URI, json={"access_token": "old", "expires_in": 3599})
    mocked.post(FREEBUSY, status=401)
    mocked.post(FREEBUSY, json=FREE)
    calendar = _calendar(REFRESH, sleeps, Clock())
    mocked.post(TOKEN_URI, json={"access_token": "new", "expires_in": 3599})
    assert calendar.busy_intervals("a", START, END) == []
    auth = [c.request.headers["Authorization"] for c in mocked.calls if c.request.url == FREEBUSY]
    assert auth == ["Bearer old", "Bearer new"]


def _google_403(reason: str) -> dict:
    return {"error": {"code": 403, "message": "denied",
                      "errors": [{"domain": "usageLimits", "reason": reason, "message": "x"}]}}


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_googles_rate_limit_403_is_retried(mocked, sleeps, reason):
    mocked.post(FREEBUSY, status=403, json=_google_403(reason))
    mocked.post(FREEBUSY, json=FREE)
    calendar = GoogleCalendar(token=lambda: "gt", google_base=GOOGLE, sleep=sleeps)
    assert calendar.busy_intervals("a", START, END) == []
    assert len(mocked.calls) == 2 and len(sleeps.calls) == 1


def test_a_rate_limit_403_that_persists_ends_as_a_transient_error(mocked, sleeps):
    mocked.post(FREEBUSY, status=403, json=_google_403("rateLimitExceeded"))
    calendar = GoogleCalendar(token=lambda: "gt", google_base=GOOGLE, sleep=sleeps)
    with pytest.raises(RateLimited):
        calendar.busy_intervals("a", START, END)
    assert len(mocked.calls) == 4  # the transport's bounded attempts


@pytest.mark.parametrize("body", [_google_403("forbidden"), _google_403("quotaExceeded"),
                                  {"error": "not google's shape"}])
def test_other_403s_are_forbidden_and_not_retried(mocked, sleeps, body):
    mocked.post(FREEBUSY, status=403, body=json.dumps(body), content_type="application/json")
    calendar = GoogleCalendar(token=lambda: "gt", google_base=GOOGLE, sleep=sleeps)
    with pytest.raises(Forbidden):
        calendar.busy_intervals("a", START, END)
    assert len(mocked.calls) == 1


def test_a_refresh_config_without_its_secret_is_refused_up_front():
    with pytest.raises(ValueError, match="client_secret"):
        google_token_provider({"client_id": "cid", "refresh_token": "rt"})
