"""Each Genesys topic we use maps to the documented domain event, from reference field names."""

from datetime import UTC, datetime

import pytest

from extension.analytics.domain.fcr import normalize_address
from handlers.normalize import normalize_all
from handlers.parse import parse_body
from tests.unit.handlers import payloads as p

ENDED_AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def one(topic_with_id, body, *, wrap=p.notification):
    events = normalize_all(parse_body(p.encode(wrap(topic_with_id, body))), webhook_id="wh-1")
    assert len(events) == 1
    return events[0]


def none_for(topic_with_id, body):
    envelopes = parse_body(p.encode(p.notification(topic_with_id, body)))
    return normalize_all(envelopes, webhook_id="wh-1") == []


def test_user_end_becomes_the_talk_part_of_conversation_ended():
    event = one(f"v2.detail.events.conversation.{p.CONV}.user.end", p.user_end_body())
    assert (event.type, event.subject, event.occurred_at) == (
        "conversation.ended", p.CONV, ENDED_AT)
    assert event.source_topic == f"v2.detail.events.conversation.{p.CONV}.user.end"
    assert event.data == {
        "part": "user_end", "conversation_id": p.CONV, "agent_id": p.AGENT, "queue_id": p.QUEUE,
        "channel": "voice", "t_talk_ms": 312000, "t_hold_ms": 45000, "disconnect_type": "client",
        "ended_at": "2024-05-01T10:00:00+00:00", "customer_address": "tel:+15550100",
        "communication_id": "s-1",
    }


@pytest.mark.parametrize(("media", "message_type", "channel"), [
    ("VOICE", None, "voice"), ("CALLBACK", None, "voice"), ("CHAT", None, "chat"),
    ("EMAIL", None, "email"), ("MESSAGE", "WHATSAPP", "message"),
    ("MESSAGE", "FACEBOOK", "social"), ("VIDEO", None, None),
])
def test_media_type_maps_to_our_channel(media, message_type, channel):
    body = p.user_end_body(mediaType=media, messageType=message_type)
    event = one(f"v2.detail.events.conversation.{p.CONV}.user.end", body)
    assert event.data["channel"] == channel


def test_screen_monitoring_sessions_do_not_end_a_conversation():
    body = p.user_end_body(mediaType="SCREENMONITORING")
    assert none_for(f"v2.detail.events.conversation.{p.CONV}.user.end", body)


def test_acw_becomes_the_wrapup_part_of_conversation_ended():
    event = one(f"v2.detail.events.conversation.{p.CONV}.acw", p.acw_body())
    assert event.type == "conversation.ended"
    assert event.data == {"part": "acw", "conversation_id": p.CONV, "agent_id": p.AGENT,
                          "queue_id": p.QUEUE, "wrapup_code": "wc-billing", "t_acw_ms": 58000,
                          "customer_address": None}  # this acw event names no address


@pytest.mark.parametrize(("direction", "fields", "address"), [
    ("INBOUND", {"ani": "tel:+15550100", "dnis": "tel:+15550199"}, "+15550100"),
    ("OUTBOUND", {"ani": "tel:+15550199", "dnis": "tel:+15550100"}, "+15550100"),
    ("INBOUND", {"addressFrom": "Pat@Example.com", "addressTo": "care@acme.example"}, "pat@example.com"),
    ("INBOUND", {"ani": "Anonymous"}, None),
])
def test_the_customer_address_follows_the_direction(direction, fields, address):
    """First-contact resolution needs who the customer is: the caller on inbound, the number
    dialled on outbound (the FCR service stores only a keyed hash of it)."""
    body = {k: v for k, v in p.user_end_body(direction=direction, **fields).items()
            if k in fields or k not in ("ani", "dnis")}
    event = one(f"v2.detail.events.conversation.{p.CONV}.user.end", body)
    assert normalize_address(event.data["customer_address"]) == address
    acw = one(f"v2.detail.events.conversation.{p.CONV}.acw", p.acw_body(direction=direction, **fields))
    assert normalize_address(acw.data["customer_address"]) == address


@pytest.mark.parametrize("suffix", ["acd.start", "acd.end", "user.start", "wrapup",
                                    "customer.end", "flow.outcome"])
def test_other_detail_events_are_ignored(suffix):
    assert none_for(f"v2.detail.events.conversation.{p.CONV}.{suffix}", {"conversationId": "c"})


@pytest.mark.parametrize(("overall", "trend", "score", "trend_score"), [
    (42.5, -12.0, 0.425, -0.12), (100, -100, 1.0, -1.0), (130, -250, 1.0, -1.0),
])
def test_sentiment_is_scaled_to_minus_one_one_and_clipped(overall, trend, score, trend_score):
    body = p.sentiment_body(overall, trend)
    event = one(f"v2.speechandtextanalytics.conversation.{p.CONV}.sentiment", body)
    assert event.type == "conversation.sentiment"
    assert event.data == {"conversation_id": p.CONV, "customer_score": pytest.approx(score),
                          "trend": pytest.approx(trend_score)}


def test_transcription_keeps_final_phrases_with_the_party():
    body = p.transcription_body([
        p.transcript_result("EXTERNAL", "my bill is wrong", offset=1000),
        p.transcript_result("INTERNAL", "let me chec", final=False, offset=3000),
        p.transcript_result("INTERNAL", "let me check that for you", offset=3000),
    ])
    event = one(f"v2.conversations.{p.CONV}.transcription", body)
    assert event.type == "conversation.transcript"
    assert event.occurred_at == datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)
    assert [(ph["party"], ph["text"], ph["offset_ms"]) for ph in event.data["phrases"]] == [
        ("customer", "my bill is wrong", 1000), ("agent", "let me check that for you", 3000)]


def test_interim_only_transcription_is_not_stored():
    body = p.transcription_body([p.transcript_result("INTERNAL", "hel", final=False)])
    assert none_for(f"v2.conversations.{p.CONV}.transcription", body)


def test_quality_evaluation_becomes_evaluation_changed():
    event = one("v2.quality.evaluations", p.evaluation_body())
    assert (event.type, event.subject) == ("evaluation.changed", p.EVAL)
    assert event.occurred_at == datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    assert event.data == {
        "evaluation_id": p.EVAL, "conversation_id": p.CONV, "agent_id": p.AGENT,
        "evaluator_id": p.EVALUATOR, "status": "finished", "previous_status": "inprogress",
        "form_id": p.FORM, "total_score": 86, "any_failed_kill": None,
        "released_at": "2024-05-02T09:00:00+00:00", "version": None, "changed_at": None,
        "agent_has_read": False,
    }


def test_a_kill_question_flag_is_passed_through_when_the_sender_has_it():
    body = p.evaluation_body(scoringSet={"totalScore": 0, "anyFailedKillQuestions": True})
    assert one("v2.quality.evaluations", body).data["any_failed_kill"] is True


def test_schedule_update_becomes_schedule_changed_with_envelope_time():
    event = one(f"v2.users.{p.AGENT}.workforcemanagement.schedules", p.schedule_body(),
                wrap=lambda t, b: p.eventbridge(p.notification(t, b)))
    assert (event.type, event.subject) == ("schedule.changed", p.AGENT)
    # The payload has no event time, so the EventBridge envelope's `time` stands in.
    assert event.occurred_at == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
    assert event.data["updates"] == [{"type": "edited",
                                      "shift_start_dates": ["2024-05-07T08:00:00Z"]}]
    assert event.data["start_date"] == "2024-05-06T00:00:00+00:00"


def test_coaching_notification_becomes_coaching_changed():
    event = one(f"v2.users.{p.AGENT}.wem.coaching.notification", p.coaching_body())
    assert (event.type, event.subject) == ("coaching.changed", p.APPOINTMENT)
    assert event.data["user_id"] == p.AGENT
    assert (event.data["action"], event.data["status"]) == ("create", "scheduled")
    assert event.data["length_minutes"] == 30


def test_presence_and_routing_status_become_user_changed():
    presence = {"source": "PURECLOUD", "presenceDefinition": {"id": "pd", "systemPresence":
                "Available"}, "primary": True, "modifiedDate": "2024-05-01T09:00:00Z"}
    routing = {"id": p.AGENT, "routingStatus": {"status": "IDLE",
                                                "startTime": "2024-05-01T09:01:00Z"}}
    first = one(f"v2.users.{p.AGENT}.presence", presence)
    second = one(f"v2.users.{p.AGENT}.routingStatus", routing)
    assert (first.type, first.data["presence"]) == ("user.changed", "available")
    assert (second.type, second.data["routing_status"]) == ("user.changed", "idle")


def test_the_heartbeat_is_dropped():
    assert none_for("channel.metadata", {"message": "WebSocket Heartbeat"})


def test_an_unknown_topic_is_kept_as_unrouted_with_its_raw_body():
    body = {"conversationId": p.CONV, "empathyScores": [1]}
    event = one(f"v2.speechandtextanalytics.conversation.{p.CONV}.empathy", body)
    assert event.type == "unrouted"
    assert event.data == {"topic": f"v2.speechandtextanalytics.conversation.{p.CONV}.empathy",
                          "event_body": body}


@pytest.mark.parametrize(("topic", "body", "path"), [
    (f"v2.detail.events.conversation.{p.CONV}.user.end", p.user_end_body(eventTime="soon"),
     "/eventBody/eventTime"),
    (f"v2.detail.events.conversation.{p.CONV}.user.end",
     p.user_end_body(heldDurationMs=-5), "/eventBody/heldDurationMs"),
    ("v2.quality.evaluations", p.evaluation_body(agent="ada"), "/eventBody/agent"),
    ("v2.quality.evaluations", p.evaluation_body(status=3), "/eventBody/status"),
    (f"v2.conversations.{p.CONV}.transcription",
     p.transcription_body([p.transcript_result("INTERNAL", 5)]),
     "/eventBody/transcripts/0/alternatives/0/transcript"),
])
def test_a_field_of_the_wrong_type_is_not_an_event(topic, body, path):
    from handlers.verify import NotAnEvent

    with pytest.raises(NotAnEvent) as caught:
        normalize_all(parse_body(p.encode(p.notification(topic, body))), webhook_id="wh")
    assert caught.value.errors[0]["path"] == path
