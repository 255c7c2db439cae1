"""Analytics conversation details: the backfill and sync path for ended conversations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.genesys.body import compact, interval, one_of
from connectors.http import Transport

ORDERS = ("asc", "desc", "unordered")
ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")
MAX_PAGES = 1000  # bounds the loop; bulk exports belong to the async details jobs API


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
        for number in range(1, MAX_PAGES + 1):
            body = {**query, "paging": {"pageSize": page_size, "pageNumber": number}}
            answer = (
                self._t.request("POST", "/api/v2/analytics/conversations/details/query", json=body)
                or {}
            )
            yield from answer.get("conversations") or []
            if _last_page(answer, number, page_size):
                return


def _last_page(answer: dict[str, Any], number: int, page_size: int) -> bool:
    # totalHits is the authoritative end; a short page ends it when totalHits is absent.
    total = answer.get("totalHits")
    if total is not None and number * page_size >= total:
        return True
    return len(answer.get("conversations") or []) < page_size
