"""Analytics conversation details: the backfill and sync path for ended conversations.

Two ways to the same AnalyticsConversation data (shared/reference/genesys-cloud-api.json):
the synchronous ConversationQuery (POST .../details/query, paged by `paging.pageNumber`), and
for bulk exports the async details jobs (POST .../details/jobs -> AsyncQueryResponse{jobId},
GET .../jobs/{jobId} -> AsyncQueryStatus{state}, GET .../jobs/{jobId}/results?cursor=&pageSize=
-> AnalyticsConversationAsyncQueryResponse{conversations, cursor, dataAvailabilityDate}).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.genesys.body import compact, interval, one_of, parse_time, query
from connectors.http import Transport

ORDERS = ("asc", "desc", "unordered")
ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")
MAX_PAGES = 1000  # bounds the loop; bulk exports belong to the async details jobs API
JOB_STATES = ("QUEUED", "PENDING", "FAILED", "CANCELLED", "FULFILLED", "EXPIRED")
JOB_DONE, JOB_WAITING = "FULFILLED", ("QUEUED", "PENDING")


class JobFailed(RuntimeError):
    """An async details job ended FAILED, CANCELLED or EXPIRED, or did not finish in time."""

    def __init__(self, job_id: str, state: str, message: str | None = None):
        super().__init__(f"details job {job_id} is {state}" + (f": {message}" if message else ""))
        self.job_id, self.state = job_id, state


class AnalyticsClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def conversation_details(
        self,
        *,
        start: datetime,
        end: datetime,
        conversation_filters: list[dict[str, Any]] | None = None,
        segment_filters: list[dict[str, Any]] | None = None,
        evaluation_filters: list[dict[str, Any]] | None = None,
        order: str | None = None,
        order_by: str | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Yield conversations of a ConversationQuery, paging through `paging.pageNumber`.

        Filters are passed through as ConversationDetailQueryFilter-shaped dicts.
        """
        query = compact(
            interval=interval(start, end),
            conversationFilters=conversation_filters,
            segmentFilters=segment_filters,
            evaluationFilters=evaluation_filters,
            order=one_of(ORDERS, order, field="order"),
            orderBy=one_of(ORDER_BY, order_by, field="order_by"),
        )
        return self._pages(query, page_size)

    def _pages(self, query: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
        for page in self._page_lists(query, page_size):
            yield from page

    def _page_lists(self, query: dict[str, Any], page_size: int) -> Iterator[list[dict[str, Any]]]:
        for number in range(1, MAX_PAGES + 1):
            body = {**query, "paging": {"pageSize": page_size, "pageNumber": number}}
            answer = (
                self._t.request("POST", "/api/v2/analytics/conversations/details/query", json=body)
                or {}
            )
            yield answer.get("conversations") or []
            if _last_page(answer, number, page_size):
                return


class DetailsExport:
    """The sync's view of conversation details: one list per page (the sync commits per page)
    and the async details jobs. Kept apart from AnalyticsClient (built on the same transport
    as ``DetailsExport(client.transport)``) so the sub-clients' surface stays as it is."""

    def __init__(self, transport: Transport):
        self._t = transport
        self._query = AnalyticsClient(transport)

    def conversation_detail_pages(
        self, *, start: datetime, end: datetime, order: str | None = None,
        order_by: str | None = None, page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        """The same query, one list of conversations per page (the sync commits per page)."""
        body = compact(interval=interval(start, end), order=one_of(ORDERS, order, field="order"),
                       orderBy=one_of(ORDER_BY, order_by, field="order_by"))
        return self._query._page_lists(body, page_size)

    def submit_details_job(
        self, *, start: datetime, end: datetime, order: str | None = None,
        order_by: str | None = None, limit: int | None = None,
    ) -> str:
        """POST an AsyncConversationQuery; returns the job id."""
        body = compact(interval=interval(start, end), order=one_of(ORDERS, order, field="order"),
                       orderBy=one_of(ORDER_BY, order_by, field="order_by"), limit=limit)
        answer = self._t.request("POST", "/api/v2/analytics/conversations/details/jobs", json=body)
        job_id = (answer or {}).get("jobId")
        if not job_id:
            raise ValueError("the host answered the details job request without a jobId")
        return job_id

    def details_job_status(self, job_id: str) -> dict[str, Any]:
        """AsyncQueryStatus of the job."""
        job = quote(job_id, safe="")
        return self._t.request("GET", f"/api/v2/analytics/conversations/details/jobs/{job}") or {}

    def wait_for_details_job(
        self, job_id: str, *, poll_seconds: float = 2.0, timeout_seconds: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Poll until FULFILLED; JobFailed for FAILED/CANCELLED/EXPIRED or after the timeout."""
        waited = 0.0
        while True:
            status = self.details_job_status(job_id)
            state = status.get("state")
            if state == JOB_DONE:
                return status
            if state not in JOB_WAITING:
                raise JobFailed(job_id, str(state), status.get("errorMessage"))
            if waited >= timeout_seconds:
                raise JobFailed(job_id, str(state), f"not done after {timeout_seconds:g} s")
            sleep(poll_seconds)
            waited += poll_seconds

    def details_job_results(
        self, job_id: str, *, cursor: str | None = None, page_size: int | None = None,
    ) -> dict[str, Any]:
        """One AnalyticsConversationAsyncQueryResponse page; its `cursor` asks for the next."""
        params = query(cursor=cursor, pageSize=page_size)
        job = quote(job_id, safe="")
        return self._t.request("GET", f"/api/v2/analytics/conversations/details/jobs/{job}/results",
                               params=params) or {}

    def details_job_pages(
        self, job_id: str, *, cursor: str | None = None, page_size: int | None = None,
    ) -> Iterator[tuple[list[dict[str, Any]], str | None, datetime | None]]:
        """(conversations, cursor of the next page or None, dataAvailabilityDate) for each page
        from `cursor` on. The host has data "up to at least" dataAvailabilityDate: a
        conversation after it may still be missing from this export (late data)."""
        for _ in range(MAX_PAGES * 100):
            answer = self.details_job_results(job_id, cursor=cursor, page_size=page_size)
            cursor = answer.get("cursor") or None
            yield (answer.get("conversations") or [], cursor,
                   parse_time(answer.get("dataAvailabilityDate")))
            if cursor is None:
                return




def _last_page(answer: dict[str, Any], number: int, page_size: int) -> bool:
    # totalHits is the authoritative end; a short page ends it when totalHits is absent.
    total = answer.get("totalHits")
    if total is not None and number * page_size >= total:
        return True
    return len(answer.get("conversations") or []) < page_size
