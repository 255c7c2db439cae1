"""Genesys notification topics -> domain events, using the payload fields of the reference
(`shared/reference/genesys-cloud-api.json`, notificationTopics -> models).

Each mapper takes the topic's `{id}` and the eventBody and returns Mapped, or None when the topic
is known but deliberately not stored (heartbeats, detail events we do not use).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from extension.analytics.domain.fcr import customer_address
from handlers import events as ev
from handlers.events import FieldError, Mapped, to_iso, to_utc
from handlers.payload import lower, number, obj, text, whole

HEARTBEAT_TOPIC = "channel.metadata"
# Adjunct or internal sessions: their user.end/acw would add bogus partials to a customer contact.
_IGNORED_MEDIA = frozenset({"COBROWSE", "SCREENSHARE", "SCREENMONITORING", "INTERNALMESSAGE"})
_CHANNELS = {"VOICE": "voice", "CALLBACK": "voice", "CHAT": "chat", "EMAIL": "email",
             "MESSAGE": "message"}
# Public social networks arrive as mediaType MESSAGE; the coaching views group them apart.
_SOCIAL_MESSAGE_TYPES = frozenset({"TWITTER", "FACEBOOK", "INSTAGRAM", "LINKEDIN"})
_PARTIES = {"INTERNAL": "agent", "EXTERNAL": "customer"}

Mapper = Callable[[str, dict[str, Any]], Mapped | None]


def map_notification(topic: str, body: dict[str, Any]) -> Mapped | None:
    """The domain event for one notification; `unrouted` for a topic we do not know."""
    if topic == HEARTBEAT_TOPIC:
        return None
    for pattern, mapper in _ROUTES:
        match = pattern.fullmatch(topic)
        if match:
            return mapper(match.group(1) if pattern.groups else "", body)
    return Mapped(type=ev.UNROUTED, subject=None, occurred_at=None,
                  data={"topic": topic, "event_body": body})


def channel_of(body: dict[str, Any]) -> str | None:
    media = text(body, "mediaType")
    if media == "MESSAGE" and text(body, "messageType") in _SOCIAL_MESSAGE_TYPES:
        return "social"
    return _CHANNELS.get((media or "").upper())


def _customer(body: dict[str, Any]) -> str | None:
    """The customer's address (ani/dnis/addressFrom/addressTo by direction) for first-contact
    resolution; the FCR service keeps only its keyed hash, never the address."""
    return customer_address(direction=text(body, "direction"), ani=text(body, "ani"),
                            dnis=text(body, "dnis"), address_from=text(body, "addressFrom"),
                            address_to=text(body, "addressTo"))


def _user_end(conversation_id: str, body: dict[str, Any]) -> Mapped | None:
    if (text(body, "mediaType") or "").upper() in _IGNORED_MEDIA:
        return None
    conversation_id = text(body, "conversationId") or conversation_id
    return Mapped(type=ev.CONVERSATION_ENDED, subject=conversation_id,
                  occurred_at=to_utc(body.get("eventTime"), path="/eventTime"),
                  data={
                      "part": "user_end",
                      "conversation_id": conversation_id,
                      "agent_id": text(body, "userId"),
                      "queue_id": text(body, "queueId"),
                      "channel": channel_of(body),
                      "t_talk_ms": whole(body, "interactingDurationMs"),
                      "t_hold_ms": whole(body, "heldDurationMs"),
                      "disconnect_type": lower(body, "disconnectType"),
                      "ended_at": to_iso(body.get("eventTime"), path="/eventTime"),
                      "customer_address": _customer(body),
                      # the session id is the STA communication id (transcript URL)
                      "communication_id": text(body, "sessionId"),
                  })


def _acw(conversation_id: str, body: dict[str, Any]) -> Mapped | None:
    # A partial conversation.ended: the consumer merges it with the user.end part.
    if (text(body, "mediaType") or "").upper() in _IGNORED_MEDIA:
        return None
    conversation_id = text(body, "conversationId") or conversation_id
    return Mapped(type=ev.CONVERSATION_ENDED, subject=conversation_id,
                  occurred_at=to_utc(body.get("eventTime"), path="/eventTime"),
                  data={
                      "part": "acw",
                      "conversation_id": conversation_id,
                      "agent_id": text(body, "userId"),
                      "queue_id": text(body, "queueId"),
                      "wrapup_code": text(body, "wrapupCode"),
                      "t_acw_ms": whole(body, "wrapupDurationMs"),
                      "customer_address": _customer(body),
                  })


def _ignored(_id: str, _body: dict[str, Any]) -> None:
    return None


def _score(body: dict[str, Any], key: str) -> float | None:
    # Genesys STA scores are -100..100; ours are -1..1. Clip: rounding can overshoot the bounds.
    value = number(body, key)
    return None if value is None else max(-1.0, min(1.0, value / 100))


def _sentiment(conversation_id: str, body: dict[str, Any]) -> Mapped:
    conversation_id = text(body, "conversationId") or conversation_id
    return Mapped(type=ev.CONVERSATION_SENTIMENT, subject=conversation_id, occurred_at=None,
                  data={
                      "conversation_id": conversation_id,
                      "customer_score": _score(body, "sentimentOverallScore"),
                      "trend": _score(body, "sentimentTrendScore"),
                  })


def _phrase(result: Any, path: str) -> dict[str, Any] | None:
    """A final transcript result as a phrase; None for interim results."""
    if not isinstance(result, dict):
        raise FieldError(path, "must be an object")
    alternatives = result.get("alternatives")
    if result.get("isFinal") is not True or not isinstance(alternatives, list) or not alternatives:
        return None
    best_path = path + "/alternatives/0"
    best = obj(alternatives[0], path=best_path)
    return {
        "party": _PARTIES.get(text(result, "channel", prefix=path) or "", "unknown"),
        "text": text(best, "transcript", prefix=best_path) or "",
        "offset_ms": whole(best, "offsetMs", prefix=best_path),
        "duration_ms": whole(best, "durationMs", prefix=best_path),
    }


def _transcription(conversation_id: str, body: dict[str, Any]) -> Mapped | None:
    results = body.get("transcripts") or []
    if not isinstance(results, list):
        raise FieldError("/transcripts", "must be an array")
    phrases = [_phrase(r, f"/transcripts/{i}") for i, r in enumerate(results)]
    final = [p for p in phrases if p is not None]
    if not final:
        return None  # interim results only: the final ones follow in a later message
    conversation_id = text(body, "conversationId") or conversation_id
    return Mapped(type=ev.CONVERSATION_TRANSCRIPT, subject=conversation_id,
                  occurred_at=to_utc(body.get("eventTime"), path="/eventTime"),
                  data={"conversation_id": conversation_id,
                        "communication_id": text(body, "communicationId"),
                        "phrases": final})


def _evaluation(_id: str, body: dict[str, Any]) -> Mapped:
    scoring = obj(body.get("scoringSet") or {}, path="/scoringSet")
    evaluation_id = text(body, "id")
    return Mapped(type=ev.EVALUATION_CHANGED, subject=evaluation_id,
                  occurred_at=to_utc(body.get("eventTime"), path="/eventTime"),
                  data={
                      "evaluation_id": evaluation_id,
                      "conversation_id": text(body, "conversationId"),
                      "agent_id": text(obj(body.get("agent") or {}, path="/agent"), "id"),
                      "evaluator_id": text(obj(body.get("evaluator") or {}, path="/evaluator"),
                                           "id"),
                      "status": lower(body, "status"),
                      "previous_status": lower(body, "previousStatus"),
                      "form_id": text(body, "evaluationFormId"),
                      "total_score": number(scoring, "totalScore"),
                      # Not in the topic model (REST EvaluationScoringSet only): None = unknown
                      "any_failed_kill": scoring.get("anyFailedKillQuestions"),
                      "released_at": to_iso(body.get("releaseDate"), path="/releaseDate"),
                      # ordering of host changes (services.host_evaluations ignores stale ones)
                      "version": whole(body, "version"),
                      "changed_at": to_iso(body.get("changedDate"), path="/changedDate"),
                      "agent_has_read": body.get("agentHasRead"),
                  })


def _schedule(user_id: str, body: dict[str, Any]) -> Mapped:
    user_id = text(obj(body.get("user") or {}, path="/user"), "id") or user_id
    updates = body.get("updates") or []
    if not isinstance(updates, list):
        raise FieldError("/updates", "must be an array")
    return Mapped(type=ev.SCHEDULE_CHANGED, subject=user_id, occurred_at=None, data={
        "user_id": user_id,
        "start_date": to_iso(body.get("startDate"), path="/startDate"),
        "end_date": to_iso(body.get("endDate"), path="/endDate"),
        "updates": [{"type": lower(obj(u, path=f"/updates/{i}"), "type"),
                     "shift_start_dates": u.get("shiftStartDates") or []}
                    for i, u in enumerate(updates)],
    })


def _coaching(user_id: str, body: dict[str, Any]) -> Mapped:
    appointment_id = text(obj(body.get("appointment") or {}, path="/appointment"), "id")
    return Mapped(type=ev.COACHING_CHANGED, subject=appointment_id or user_id, occurred_at=None,
                  data={
                      "user_id": user_id,
                      "notification_id": text(body, "id"),
                      "appointment_id": appointment_id,
                      "action": lower(body, "actionType"),
                      "relationship": lower(body, "relationship"),
                      "status": lower(body, "status"),
                      "name": text(body, "name"),
                      "date_start": to_iso(body.get("dateStart"), path="/dateStart"),
                      "length_minutes": whole(body, "lengthInMinutes"),
                  })


def _presence(user_id: str, body: dict[str, Any]) -> Mapped:
    definition = obj(body.get("presenceDefinition") or {}, path="/presenceDefinition")
    return Mapped(type=ev.USER_CHANGED, subject=user_id,
                  occurred_at=to_utc(body.get("modifiedDate"), path="/modifiedDate"),
                  data={"user_id": user_id, "aspect": "presence",
                        "presence": lower(definition, "systemPresence"),
                        "presence_id": text(definition, "id")})


def _routing_status(user_id: str, body: dict[str, Any]) -> Mapped:
    status = obj(body.get("routingStatus") or {}, path="/routingStatus")
    since = to_utc(status.get("startTime"), path="/routingStatus/startTime")
    return Mapped(type=ev.USER_CHANGED, subject=user_id, occurred_at=since,
                  data={"user_id": user_id, "aspect": "routing_status",
                        "routing_status": lower(status, "status")})


_ID = r"([^.]+)"
_ROUTES: list[tuple[re.Pattern[str], Mapper]] = [
    (re.compile(rf"v2\.detail\.events\.conversation\.{_ID}\.user\.end"), _user_end),
    (re.compile(rf"v2\.detail\.events\.conversation\.{_ID}\.acw"), _acw),
    (re.compile(rf"v2\.detail\.events\.conversation\.{_ID}\..+"), _ignored),
    (re.compile(rf"v2\.speechandtextanalytics\.conversation\.{_ID}\.sentiment"), _sentiment),
    (re.compile(rf"v2\.conversations\.{_ID}\.transcription"), _transcription),
    (re.compile(r"v2\.quality\.evaluations"), _evaluation),
    (re.compile(rf"v2\.users\.{_ID}\.workforcemanagement\.schedules"), _schedule),
    (re.compile(rf"v2\.users\.{_ID}\.wem\.coaching\.notification"), _coaching),
    (re.compile(rf"v2\.users\.{_ID}\.presence"), _presence),
    (re.compile(rf"v2\.users\.{_ID}\.routingStatus"), _routing_status),
]
