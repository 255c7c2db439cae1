"""Realistic payloads built from the field names of shared/reference/genesys-cloud-api.json."""

from __future__ import annotations

import json
from typing import Any

CONV = "5f1c1d2e-8a3b-4c5d-9e6f-0a1b2c3d4e5f"
AGENT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
QUEUE = "11111111-2222-4333-8444-555555555555"
EVAL = "e0e0e0e0-1111-4222-8333-444444444444"
EVALUATOR = "0f0f0f0f-aaaa-4bbb-8ccc-dddddddddddd"
FORM = "f0f0f0f0-1234-4567-89ab-cdef01234567"
APPOINTMENT = "abababab-cdcd-4efe-8fef-121212121212"
EVENT_TIME_MS = 1714557600000  # 2024-05-01T10:00:00Z


def user_end_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "eventTime": EVENT_TIME_MS, "conversationId": CONV, "participantId": "p-1",
        "sessionId": "s-1", "disconnectType": "CLIENT", "mediaType": "VOICE", "provider": "Edge",
        "direction": "INBOUND", "ani": "tel:+15550100", "dnis": "tel:+15550199",
        "userId": AGENT, "divisionId": "d-1", "queueId": QUEUE, "interactingDurationMs": 312000,
        "heldDurationMs": 45000, "alertingDurationMs": 4000, "contactingDurationMs": 0,
    }
    return {**body, **overrides}


def acw_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "eventTime": EVENT_TIME_MS + 60000, "conversationId": CONV, "participantId": "p-1",
        "mediaType": "VOICE", "userId": AGENT, "queueId": QUEUE, "wrapupCode": "wc-billing",
        "wrapupNotes": "refund issued", "wrapupDurationMs": 58000,
    }
    return {**body, **overrides}


def sentiment_body(overall: float = 42.5, trend: float = -12.0) -> dict[str, Any]:
    return {"conversationId": CONV, "sentimentOverallScore": overall,
            "sentimentTrendScore": trend, "queueIds": [QUEUE], "divisionIds": ["d-1"],
            "flowIds": []}


def transcript_result(channel: str, text: str, *, final: bool = True, offset: int = 0):
    return {
        "utteranceId": f"u-{offset}", "isFinal": final, "channel": channel,
        "alternatives": [{"confidence": 0.93, "offsetMs": offset, "durationMs": 1800,
                          "transcript": text, "words": []}],
        "engineProvider": "GENESYS", "dialect": "en-US",
    }


def transcription_body(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eventTime": "2024-05-01T10:00:05.000Z", "organizationId": "org-1",
            "conversationId": CONV, "communicationId": "comm-1",
            "sessionStartTimeMs": EVENT_TIME_MS, "transcriptionStartTimeMs": EVENT_TIME_MS,
            "transcripts": results}


def evaluation_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": EVAL, "conversationId": CONV,
        "agent": {"id": AGENT, "displayName": "Ada Agent"},
        "evaluator": {"id": EVALUATOR, "displayName": "Quinn QA"},
        "eventTime": "2024-05-02T08:30:00.000Z", "evaluationFormId": FORM,
        "formName": "Voice QA v3",
        "scoringSet": {"totalScore": 86, "totalCriticalScore": 100},
        "status": "Finished", "previousStatus": "InProgress", "agentHasRead": False,
        "releaseDate": "2024-05-02T09:00:00Z", "eventType": "Updated", "rescore": False,
        "mediaType": ["CALL"],
    }
    return {**body, **overrides}


def schedule_body() -> dict[str, Any]:
    return {"user": {"id": AGENT}, "startDate": "2024-05-06T00:00:00Z",
            "endDate": "2024-05-13T00:00:00Z",
            "updates": [{"type": "Edited", "shiftStartDates": ["2024-05-07T08:00:00Z"]}],
            "visibilityRange": {"endDate": "2024-06-01T00:00:00Z"}}


def coaching_body() -> dict[str, Any]:
    return {"id": "n-1", "name": "Empathy follow-up", "markedAsRead": False,
            "actionType": "Create", "relationship": "Attendee",
            "appointment": {"id": APPOINTMENT}, "dateStart": "2024-05-08T14:00:00Z",
            "lengthInMinutes": 30, "status": "Scheduled"}


def notification(topic: str, body: dict[str, Any], *, correlation: str | None = "corr-1"):
    message: dict[str, Any] = {"topicName": topic, "version": "2", "eventBody": body}
    if correlation is not None:
        message["metadata"] = {"CorrelationId": correlation}
    return message


def eventbridge(message: dict[str, Any], *, event_id: str = "eb-1") -> dict[str, Any]:
    return {"version": "0", "id": event_id, "detail-type": message["topicName"],
            "source": "aws.partner/genesys.com/cloud/org-1/coachwire",
            "account": "123456789012", "time": "2024-05-01T10:00:01Z",
            "region": "eu-west-1", "resources": [], "detail": message}


def cloudevent(event_type: str, data: Any, *, event_id: str = "ce-1", **extra: Any):
    return {"specversion": "1.0", "id": event_id, "source": "https://sandbox.example/host",
            "type": event_type, "time": "2024-05-01T10:00:02Z",
            "datacontenttype": "application/json", "data": data, **extra}


def encode(document: Any) -> bytes:
    return json.dumps(document).encode()
