"""The STA transcript connector: two steps, typed errors, and the bearer token never sent to the
pre-signed download URL, even when that URL names the API host itself."""

from __future__ import annotations

import pytest
import responses

from connectors.errors import Forbidden, NotFound
from connectors.genesys import GenesysClient
from connectors.ratelimit import BucketSpec, InMemoryTokenBucket

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"
URL_PATH = "/api/v2/speechandtextanalytics/conversations/c1/communications/m1/transcripturl"
DOCUMENT = {"conversationId": "c1", "communicationId": "m1", "transcripts": [{"phrases": [
    {"text": "Hello", "startTimeMs": 1, "participantPurpose": "internal"}]}]}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "tok-1", "expires_in": 86400})
        yield rsps


@pytest.fixture
def genesys(mocked):
    return GenesysClient(api_base=API, login_base=LOGIN, client_id="c", client_secret="s", tenant_key="t-sta",
                         bucket=InMemoryTokenBucket(BucketSpec(capacity=100, per_second=100)),
                         sleep=lambda _s: None)


@pytest.mark.parametrize("download", ["https://s3.example/t.json?X-Amz-Signature=x",
                                      f"{API}/presigned/t.json?X-Amz-Signature=x"])
def test_the_document_is_fetched_without_our_bearer_token(mocked, genesys, download):
    mocked.get(f"{API}{URL_PATH}", json={"url": download})
    mocked.get(download.split("?")[0], json=DOCUMENT)
    assert genesys.sta.transcript("c1", "m1") == DOCUMENT
    url_call, document_call = [c for c in mocked.calls if "oauth" not in c.request.url]
    assert url_call.request.headers["Authorization"] == "Bearer tok-1"
    assert "Authorization" not in document_call.request.headers


def test_a_transcript_not_produced_yet_is_not_found(mocked, genesys):
    mocked.get(f"{API}{URL_PATH}", status=404, json={"code": "not.found", "status": 404, "message": "nope"})
    with pytest.raises(NotFound):
        genesys.sta.transcript("c1", "m1")


def test_no_licence_is_forbidden_and_not_retried(mocked, genesys):
    mocked.get(f"{API}{URL_PATH}", status=403,
               json={"code": "not.authorized", "status": 403, "message": "no"})
    with pytest.raises(Forbidden):
        genesys.sta.transcript("c1", "m1")
    assert len([c for c in mocked.calls if "transcripturl" in c.request.url]) == 1


def test_no_url_means_no_document(mocked, genesys):
    mocked.get(f"{API}{URL_PATH}", json={})
    assert genesys.sta.transcript("c1", "m1") is None
