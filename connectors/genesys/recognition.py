"""Employee-engagement recognitions: the host-side half of praise for good interactions."""

from __future__ import annotations

from typing import Any

from connectors.genesys.body import compact, one_of
from connectors.http import Transport

TYPES = ("ThankYou", "Congratulations", "HighPerformance", "CompanyValues")
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
        return self._t.request("POST", "/api/v2/employeeengagement/recognitions", json=body)
