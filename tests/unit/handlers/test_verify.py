import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from handlers.verify import (
    PayloadTooLarge,
    Unauthorized,
    check_size,
    decode_secret,
    verify_api_key,
    verify_standard_webhook,
)

SECRET = "whsec_" + base64.b64encode(b"current-secret-0123456789abcdef").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"previous-secret-0123456789abcde").decode()
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
BODY = b'{"topicName":"v2.quality.evaluations","eventBody":{}}'


def signed_headers(body=BODY, *, secret=SECRET, at=NOW, msg_id="msg_2b7Q"):
    """Headers as the real standardwebhooks signer produces them."""
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature}


def verify(headers, body=BODY, secrets=(SECRET,)):
    return verify_standard_webhook(headers, body, list(secrets), now=NOW)


def test_a_valid_signature_returns_the_webhook_id():
    assert verify(signed_headers()) == "msg_2b7Q"


def test_header_names_are_case_insensitive():
    headers = {k.title(): v for k, v in signed_headers().items()}
    assert verify(headers) == "msg_2b7Q"


def test_a_tampered_body_is_unauthorized():
    with pytest.raises(Unauthorized):
        verify(signed_headers(), body=BODY.replace(b"evaluations", b"evaluationz"))


def test_a_tampered_signature_is_unauthorized():
    headers = signed_headers()
    raw = bytearray(base64.b64decode(headers["webhook-signature"].split(",")[1]))
    raw[0] ^= 1
    headers["webhook-signature"] = "v1," + base64.b64encode(bytes(raw)).decode()
    with pytest.raises(Unauthorized):
        verify(headers)


def test_a_signature_for_another_id_is_unauthorized():
    headers = signed_headers()
    headers["webhook-id"] = "msg_other"
    with pytest.raises(Unauthorized):
        verify(headers)


@pytest.mark.parametrize("skew", [timedelta(minutes=6), timedelta(days=400)])
def test_a_stale_timestamp_is_unauthorized(skew):
    with pytest.raises(Unauthorized, match="too old"):
        verify(signed_headers(at=NOW - skew))


@pytest.mark.parametrize("skew", [timedelta(minutes=6), timedelta(days=400)])
def test_a_future_timestamp_is_unauthorized(skew):
    with pytest.raises(Unauthorized, match="future"):
        verify(signed_headers(at=NOW + skew))


def test_a_timestamp_inside_the_tolerance_is_accepted():
    assert verify(signed_headers(at=NOW - timedelta(minutes=4, seconds=59)))


def test_during_rotation_a_message_signed_with_either_secret_is_accepted():
    both = (SECRET, OLD_SECRET)
    assert verify(signed_headers(secret=OLD_SECRET), secrets=both) == "msg_2b7Q"
    assert verify(signed_headers(secret=SECRET), secrets=both) == "msg_2b7Q"


def test_a_sender_offering_several_signatures_matches_on_any():
    new = signed_headers(secret=SECRET)["webhook-signature"]
    old = signed_headers(secret=OLD_SECRET)["webhook-signature"]
    headers = {**signed_headers(), "webhook-signature": f"{old} v1a,ignored {new}"}
    assert verify(headers, secrets=(SECRET,)) == "msg_2b7Q"


def test_a_retired_secret_no_longer_verifies():
    with pytest.raises(Unauthorized):
        verify(signed_headers(secret=OLD_SECRET), secrets=(SECRET,))


def test_no_configured_secret_is_unauthorized():
    with pytest.raises(Unauthorized):
        verify(signed_headers(), secrets=())


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_unauthorized(missing):
    headers = signed_headers()
    del headers[missing]
    with pytest.raises(Unauthorized, match=missing):
        verify(headers)


@pytest.mark.parametrize(("name", "value"), [
    ("webhook-signature", "v1"),
    ("webhook-signature", "v1,"),
    ("webhook-signature", "v1,not base64!!"),
    ("webhook-signature", "garbage"),
    ("webhook-signature", "v1a,c2lnbmF0dXJl"),
    ("webhook-signature", " ".join(["v1,AAAA"] * 17)),
    ("webhook-timestamp", "1714557600.5"),
    ("webhook-timestamp", "1e9"),
    ("webhook-timestamp", "-1714557600"),
    ("webhook-timestamp", "nan"),
    ("webhook-timestamp", "9" * 40),
    ("webhook-timestamp", "999999999999"),
    ("webhook-id", "has space"),
    ("webhook-id", "x" * 201),
    ("webhook-id", "caf\u00e9"),
])
def test_a_malformed_header_is_unauthorized_never_a_crash(name, value):
    headers = {**signed_headers(), name: value}
    with pytest.raises(Unauthorized):
        verify(headers)


def test_a_signed_body_that_is_not_utf8_still_verifies_on_raw_bytes():
    # The HMAC covers bytes; rejecting the body as bad JSON is the parser's job (400, not 401).
    body = b"\xff\xfe not utf-8"
    key = decode_secret(SECRET)
    import hashlib
    import hmac

    digest = hmac.new(key, b"msg_1.%d." % int(NOW.timestamp()) + body, hashlib.sha256).digest()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(NOW.timestamp())),
               "webhook-signature": "v1," + base64.b64encode(digest).decode()}
    assert verify(headers, body=body) == "msg_1"


def test_what_we_accept_the_reference_library_accepts_too():
    # Interoperability both ways, at the real clock because the library reads it.
    now = datetime.now(UTC)
    headers = signed_headers(at=now)
    assert Webhook(SECRET).verify(BODY, headers) is not None
    assert verify_standard_webhook(headers, BODY, [SECRET], now=now) == "msg_2b7Q"


def test_a_bad_configured_secret_is_a_config_error_not_a_401():
    with pytest.raises(ValueError, match="base64"):
        decode_secret("whsec_***")


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer k-live-123"},
    {"authorization": "bearer   k-live-123"},
    {"X-API-Key": "k-live-123"},
    {"Authorization": "Basic abc", "x-api-key": "k-live-123"},
])
def test_an_api_key_in_either_header_is_accepted(headers):
    verify_api_key(headers, ["k-old", "k-live-123"])


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer wrong"},
    {"x-api-key": "wrong"},
    {"Authorization": "Basic k-live-123"},
    {"Authorization": "Bearer "},
    {"x-api-key": "k-live-12"},
    {"x-api-key": "k-live-123\u00e9"},
    {},
])
def test_a_missing_or_wrong_api_key_is_unauthorized(headers):
    with pytest.raises(Unauthorized):
        verify_api_key(headers, ["k-live-123"])


def test_an_empty_configured_key_never_matches():
    with pytest.raises(Unauthorized):
        verify_api_key({"x-api-key": ""}, [""])


def test_size_limit_is_one_mebibyte_by_default():
    check_size(1024 * 1024)
    check_size(None)
    with pytest.raises(PayloadTooLarge) as caught:
        check_size(1024 * 1024 + 1)
    assert caught.value.status == 413


def test_errors_render_as_problem_details_without_request_content():
    with pytest.raises(Unauthorized) as caught:
        verify({**signed_headers(), "webhook-signature": "v1,SECRETLOOKINGVALUE"})
    problem = caught.value.to_problem()
    assert problem["status"] == 401
    assert "SECRETLOOKINGVALUE" not in str(problem)
