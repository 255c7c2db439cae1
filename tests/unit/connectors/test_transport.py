import pytest
import requests
import responses

from connectors.errors import AuthExpired, Forbidden, NotFound, RateLimited, Transient
from connectors.http import Transport
from connectors.ratelimit import BucketSpec, InMemoryTokenBucket

BASE = "https://api.example.test"


class Tokens:
    """A TokenProvider double that counts fetches and refreshes."""

    def __init__(self):
        self.issued, self.refreshes = 0, 0

    def __call__(self, *, refresh=False):
        if refresh or self.issued == 0:
            self.refreshes += refresh
            self.issued += 1
        return f"tok-{self.issued}"


def make(sleeps, **kwargs):
    return Transport(BASE, sleep=sleeps, **kwargs)


def test_5xx_is_retried_then_succeeds(mocked, sleeps):
    mocked.get(f"{BASE}/x", status=503)
    mocked.get(f"{BASE}/x", status=502)
    mocked.get(f"{BASE}/x", json={"ok": True})
    assert make(sleeps).request("GET", "/x") == {"ok": True}
    assert len(mocked.calls) == 3
    assert len(sleeps.calls) == 2


def test_attempts_are_bounded_and_the_last_error_is_raised(mocked, sleeps):
    mocked.get(f"{BASE}/x", status=500)
    with pytest.raises(Transient):
        make(sleeps, max_attempts=3).request("GET", "/x")
    assert len(mocked.calls) == 3


def test_backoff_grows_exponentially_within_the_cap(mocked, sleeps):
    mocked.get(f"{BASE}/x", status=500)
    with pytest.raises(Transient):
        make(sleeps, max_attempts=6, backoff=(1.0, 4.0)).request("GET", "/x")
    assert len(sleeps.calls) == 5
    assert all(0 <= s <= 4.0 for s in sleeps.calls)


def test_429_waits_at_least_retry_after(mocked, sleeps):
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "12"})
    mocked.get(f"{BASE}/x", json=[1])
    assert make(sleeps).request("GET", "/x") == [1]
    assert sleeps.calls and sleeps.calls[0] >= 12


def test_a_retry_after_longer_than_the_limit_is_not_slept_on(mocked, sleeps):
    mocked.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited) as caught:
        make(sleeps, max_retry_after=60).request("GET", "/x")
    assert caught.value.retry_after == 3600
    assert len(mocked.calls) == 1 and sleeps.calls == []


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (403, Forbidden)])
def test_404_and_403_are_not_retried(mocked, sleeps, status, error):
    mocked.get(f"{BASE}/x", status=status)
    with pytest.raises(error):
        make(sleeps).request("GET", "/x")
    assert len(mocked.calls) == 1


def test_connection_errors_are_transient_and_retried(mocked, sleeps):
    mocked.get(f"{BASE}/x", body=requests.ConnectionError("reset"))
    mocked.get(f"{BASE}/x", json={})
    assert make(sleeps).request("GET", "/x") == {}
    assert len(mocked.calls) == 2


def test_every_request_has_a_timeout(sleeps):
    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            self.kwargs = kwargs
            raise requests.Timeout("slow")

    session = Recording()
    with pytest.raises(Transient):
        Transport(BASE, session=session, sleep=sleeps, max_attempts=1).request("GET", "/x")
    assert session.kwargs["timeout"] == (3.05, 10)


def test_401_refreshes_the_token_once_and_retries_once(mocked, sleeps):
    tokens = Tokens()
    mocked.get(f"{BASE}/x", status=401)
    mocked.get(f"{BASE}/x", json={"ok": 1})
    assert make(sleeps, token_provider=tokens).request("GET", "/x") == {"ok": 1}
    assert tokens.refreshes == 1
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer tok-1"
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer tok-2"


def test_a_second_401_gives_up_with_auth_expired(mocked, sleeps):
    tokens = Tokens()
    mocked.get(f"{BASE}/x", status=401)
    with pytest.raises(AuthExpired):
        make(sleeps, token_provider=tokens).request("GET", "/x")
    assert len(mocked.calls) == 2 and tokens.refreshes == 1


def test_download_urls_on_other_hosts_never_get_our_token(mocked, sleeps):
    mocked.get("https://bucket.s3.example/doc?sig=1", json={"result": 1})
    answer = make(sleeps, token_provider=Tokens()).download("https://bucket.s3.example/doc?sig=1")
    assert answer == {"result": 1}
    assert "Authorization" not in mocked.calls[0].request.headers


def test_paginate_follows_next_uri(mocked, sleeps):
    mocked.get(
        f"{BASE}/api/v2/users",
        json={"entities": [{"id": 1}], "nextUri": "/api/v2/users?pageNumber=2"},
        match=[responses.matchers.query_param_matcher({"pageSize": "1"})],
    )
    mocked.get(
        f"{BASE}/api/v2/users",
        json={"entities": [{"id": 2}]},
        match=[responses.matchers.query_param_matcher({"pageNumber": "2"})],
    )
    ids = [e["id"] for e in make(sleeps).paginate("/api/v2/users", {"pageSize": 1})]
    assert ids == [1, 2]


def test_paginate_uses_page_count_when_there_is_no_next_uri(mocked, sleeps):
    for number in (1, 2):
        mocked.get(
            f"{BASE}/g",
            json={"entities": [number], "pageNumber": number, "pageCount": 2},
            match=[responses.matchers.query_param_matcher({"pageNumber": str(number)})],
        )
    assert list(make(sleeps).paginate("/g", {"pageNumber": 1})) == [1, 2]


def test_paginate_stops_on_a_next_uri_loop(mocked, sleeps):
    mocked.get(f"{BASE}/loop", json={"entities": ["a"], "nextUri": "/loop"})
    assert list(make(sleeps).paginate("/loop")) == ["a"]
    assert len(mocked.calls) == 1


def test_the_bucket_is_consulted_for_every_attempt(mocked, sleeps):
    bucket = InMemoryTokenBucket(BucketSpec(capacity=1, per_second=1), clock=lambda: 0.0)
    mocked.get(f"{BASE}/x", json={})
    transport = make(sleeps, bucket=bucket, bucket_key="tenant-a")
    transport.request("GET", "/x")
    assert bucket.acquire("tenant-a") > 0  # the request above took the only token


@pytest.mark.parametrize("path", ["/api/v2/quality/publishedforms/evaluations/../../../users/me",
                                  "/api/v2/quality/x/%2e%2e/%2E%2E/users/me",
                                  "/api/v2/quality/x/..%2F..%2Fusers",
                                  "/api/v2/quality/x\\..\\users"])
def test_an_id_that_leaves_its_path_segment_is_refused_before_any_request(mocked, sleeps, path):
    with pytest.raises(ValueError, match="segment"):
        make(sleeps).request("GET", path)
    assert len(mocked.calls) == 0


def test_a_relative_next_uri_with_a_query_is_still_followed(mocked, sleeps):
    first = {"entities": [{"id": "a"}], "nextUri": "/api/v2/users?pageNumber=2"}
    mocked.get(f"{BASE}/api/v2/users", json=first)
    mocked.get(f"{BASE}/api/v2/users?pageNumber=2", json={"entities": [{"id": "b"}]})
    assert [u["id"] for u in make(sleeps).paginate("/api/v2/users")] == ["a", "b"]


# A create (create=True) must reach the host at most once per call: only errors that prove the
# host did not act are retried; a 5xx or a lost answer is raised for the caller to look first.


@pytest.mark.parametrize("failure", [{"status": 502}, {"status": 503},
                                     {"body": requests.ReadTimeout("slow answer")},
                                     {"body": requests.ConnectionError("reset after send")}])
def test_a_create_with_an_unknown_outcome_is_not_sent_again(mocked, sleeps, failure):
    mocked.post(f"{BASE}/things", **failure)
    mocked.post(f"{BASE}/things", json={"id": "second"})
    with pytest.raises(Transient):
        make(sleeps).request("POST", "/things", json={}, create=True)
    assert len(mocked.calls) == 1


def test_a_create_refused_with_429_or_never_connected_is_retried(mocked, sleeps):
    mocked.post(f"{BASE}/things", status=429, headers={"Retry-After": "1"})
    mocked.post(f"{BASE}/things", body=requests.ConnectTimeout("no connection"))
    mocked.post(f"{BASE}/things", json={"id": "one"})
    assert make(sleeps).request("POST", "/things", json={}, create=True) == {"id": "one"}
    assert len(mocked.calls) == 3


def test_other_posts_are_still_retried_after_a_5xx(mocked, sleeps):
    mocked.post(f"{BASE}/query", status=503)
    mocked.post(f"{BASE}/query", json={"ok": True})
    assert make(sleeps).request("POST", "/query", json={}) == {"ok": True}
    assert len(mocked.calls) == 2
