from datetime import UTC, datetime

import pytest

from connectors.errors import (
    AuthExpired,
    ConnectorError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Transient,
    decipher,
    parse_retry_after,
)

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, Transient),
        (502, Transient),
        (503, Transient),
        (429, RateLimited),
        (401, AuthExpired),
        (403, Forbidden),
        (404, NotFound),
        (400, Invalid),
        (409, Invalid),
        (422, Invalid),
        (302, ConnectorError),
    ],
)
def test_each_error_status_maps_to_its_typed_error(status, error):
    with pytest.raises(error) as caught:
        decipher(status, JSON, b'{"message": "nope"}')
    assert caught.value.status == status
    assert type(caught.value) is error


def test_rate_limited_is_transient_so_generic_retry_code_backs_off_too():
    assert issubclass(RateLimited, Transient)


def test_retry_after_seconds_is_read_from_any_header_case():
    with pytest.raises(RateLimited) as caught:
        decipher(429, {"retry-after": "7"}, b"")
    assert caught.value.retry_after == 7.0


def test_retry_after_http_date_becomes_seconds_from_now():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-"])
def test_missing_or_garbled_retry_after_is_none(value):
    assert parse_retry_after(value) is None


def test_invalid_carries_the_hosts_message_as_detail():
    body = b'{"message": "attendeeIds is required", "code": "bad.request", "status": 400}'
    with pytest.raises(Invalid) as caught:
        decipher(400, JSON, body)
    assert caught.value.detail == "attendeeIds is required"


def test_excerpt_never_contains_tokens():
    body = b'{"access_token": "eyJhbGciOi.secret.value", "note": "Bearer abc.def.ghi"}'
    with pytest.raises(Invalid) as caught:
        decipher(400, JSON, body)
    assert "eyJhbGciOi" not in caught.value.excerpt
    assert "abc.def.ghi" not in caught.value.excerpt
    assert "***" in caught.value.excerpt


def test_excerpt_is_short():
    with pytest.raises(Transient) as caught:
        decipher(500, {}, b"x" * 10_000)
    assert len(caught.value.excerpt) <= 200


def test_success_returns_json_and_next_uri():
    body = b'{"entities": [{"id": "u1"}], "nextUri": "/api/v2/users?pageNumber=2"}'
    data, next_uri = decipher(200, JSON, body)
    assert data["entities"] == [{"id": "u1"}]
    assert next_uri == "/api/v2/users?pageNumber=2"


def test_page_count_without_next_uri_builds_the_next_page_from_the_request():
    body = b'{"entities": [], "pageNumber": 1, "pageCount": 3}'
    url = "https://api.x/api/v2/groups?pageSize=10&pageNumber=1"
    _, next_uri = decipher(200, JSON, body, request_url=url)
    assert next_uri == "https://api.x/api/v2/groups?pageSize=10&pageNumber=2"


def test_last_page_has_no_next():
    body = b'{"entities": [], "pageNumber": 3, "pageCount": 3}'
    assert decipher(200, JSON, body, request_url="https://api.x/a")[1] is None


def test_empty_body_is_none_and_text_stays_text():
    assert decipher(204, {}, b"") == (None, None)
    assert decipher(200, {"Content-Type": "text/plain"}, b"hello") == ("hello", None)


def test_malformed_json_with_json_content_type_is_invalid():
    with pytest.raises(Invalid):
        decipher(200, JSON, b"{not json")
