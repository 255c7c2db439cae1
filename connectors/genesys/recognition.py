"""Employee-engagement recognitions: the host-side half of praise for good interactions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.genesys.body import compact, one_of, query
from connectors.http import Transport

TYPES = ("ThankYou", "Congratulations", "HighPerformance", "CompanyValues")
PATH = "/api/v2/employeeengagement/recognitions"
CONTEXT_TYPES = ("Interaction", "Insights", "Development", "Scorecard")


class RecognitionClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def create_recognition(
        self,
        *,
        recipient_id: str,
        recognition_type: str,
        title: str,
        note: str | None = None,
        context_type: str | None = None,
        context_id: str | None = None,
    ) -> dict[str, Any]:
        """POST a CreateRecognition; e.g. type ThankYou, context Interaction + conversation id."""
        body = compact(
            recipientId=recipient_id,
            type=one_of(TYPES, recognition_type, field="recognition_type"),
            title=title,
            note=note,
            contextType=one_of(CONTEXT_TYPES, context_type, field="context_type"),
            contextId=context_id,
        )
        # Never re-sent blindly: after a 5xx or timeout the caller looks for it first.
        return self._t.request("POST", PATH, json=body, create=True)

    def list_sent(
        self, *, recipient_id: str, start: datetime, end: datetime, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Recognitions this client's user sent to one recipient, created in [start, end)."""
        params = query(direction="sent", recipient=recipient_id, dateStart=start,
                       dateEnd=end, pageSize=page_size)
        return self._t.paginate(PATH, params)
