"""DetailsExport: paged details queries and the async details jobs, checked against the reference."""

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.genesys.analytics import DetailsExport, JobFailed
from tests.contract.reference import check_model, check_query, find_operation

from .conftest import API

T0 = datetime(2025, 3, 3, tzinfo=UTC)
T1 = datetime(2025, 3, 4, tzinfo=UTC)
JOBS = f"{API}/api/v2/analytics/conversations/details/jobs"


@pytest.fixture
def export(genesys):
    return DetailsExport(genesys.transport)


def _api_calls(mocked):
    return [c for c in mocked.calls if c.request.url.startswith(API)]


def _conforms_to_reference(call):
    url = urlsplit(call.request.url)
    op = find_operation(call.request.method, url.path)
    assert op is not None, url.path
    assert check_query(op, parse_qs(url.query)) == []
    if op["requestBody"]:
        assert check_model(json.loads(call.request.body), op["requestBody"]["model"], "body") == []


def test_query_pages_are_lists_until_total_hits(mocked, export):
    url = f"{API}/api/v2/analytics/conversations/details/query"
    mocked.post(url, json={"conversations": [{"conversationId": "1"}, {"conversationId": "2"}],
                           "totalHits": 3})
    mocked.post(url, json={"conversations": [{"conversationId": "3"}], "totalHits": 3})
    pages = list(export.conversation_detail_pages(start=T0, end=T1, order="asc",
                                                  order_by="conversationStart", page_size=2))
    assert [[c["conversationId"] for c in page] for page in pages] == [["1", "2"], ["3"]]
    calls = _api_calls(mocked)
    first = json.loads(calls[0].request.body)
    assert first == {"interval": "2025-03-03T00:00:00.000Z/2025-03-04T00:00:00.000Z", "order": "asc",
                     "orderBy": "conversationStart", "paging": {"pageSize": 2, "pageNumber": 1}}
    for call in calls:
        _conforms_to_reference(call)


def test_a_job_is_submitted_polled_and_read_page_by_page(mocked, export, sleeps):
    mocked.post(JOBS, json={"jobId": "job-1"})
    mocked.get(f"{JOBS}/job-1", json={"state": "QUEUED"})
    mocked.get(f"{JOBS}/job-1", json={"state": "PENDING"})
    mocked.get(f"{JOBS}/job-1", json={"state": "FULFILLED"})
    mocked.get(f"{JOBS}/job-1/results", json={"conversations": [{"conversationId": "1"}], "cursor": "c2"})
    mocked.get(f"{JOBS}/job-1/results", json={"conversations": [{"conversationId": "2"}],
                                              "dataAvailabilityDate": "2025-06-01T06:00:00Z"})
    job_id = export.submit_details_job(start=T0, end=T1, order="asc", order_by="conversationStart")
    assert job_id == "job-1"
    assert export.wait_for_details_job(job_id, poll_seconds=3, sleep=sleeps)["state"] == "FULFILLED"
    assert sleeps.calls == [3, 3]
    pages = list(export.details_job_pages(job_id, page_size=50))
    assert pages == [([{"conversationId": "1"}], "c2", None),
                     ([{"conversationId": "2"}], None, datetime(2025, 6, 1, 6, 0, tzinfo=UTC))]
    results = [c for c in _api_calls(mocked) if c.request.url.split("?")[0].endswith("/results")]
    assert parse_qs(urlsplit(results[0].request.url).query) == {"pageSize": ["50"]}
    assert parse_qs(urlsplit(results[1].request.url).query) == {"cursor": ["c2"], "pageSize": ["50"]}
    for call in _api_calls(mocked):
        _conforms_to_reference(call)


def test_results_resume_from_a_stored_cursor(mocked, export):
    mocked.get(f"{JOBS}/job-1/results", json={"conversations": [{"conversationId": "9"}]})
    assert list(export.details_job_pages("job-1", cursor="c7")) == [([{"conversationId": "9"}], None, None)]
    assert parse_qs(urlsplit(_api_calls(mocked)[0].request.url).query) == {"cursor": ["c7"]}


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "EXPIRED"])
def test_a_job_that_ends_badly_raises(mocked, export, sleeps, state):
    mocked.get(f"{JOBS}/job-1", json={"state": state, "errorMessage": "boom"})
    with pytest.raises(JobFailed) as raised:
        export.wait_for_details_job("job-1", sleep=sleeps)
    assert raised.value.state == state


def test_a_job_that_never_finishes_times_out(mocked, export, sleeps):
    mocked.get(f"{JOBS}/job-1", json={"state": "PENDING"})
    with pytest.raises(JobFailed, match="not done"):
        export.wait_for_details_job("job-1", poll_seconds=1, timeout_seconds=3, sleep=sleeps)
    assert sleeps.calls == [1, 1, 1]


def test_a_job_answer_without_an_id_is_an_error(mocked, export):
    mocked.post(JOBS, json={})
    with pytest.raises(ValueError, match="jobId"):
        export.submit_details_job(start=T0, end=T1)
