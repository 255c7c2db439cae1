"""Delivery ids (the idempotency key), CloudEvents and the DomainEvent wire form."""

from datetime import UTC, datetime

import pytest

from handlers.events import DomainEvent
from handlers.normalize import normalize, normalize_all
from handlers.parse import parse_body
from handlers.verify import NotAnEvent
from tests.unit.handlers import payloads as p

TOPIC = "v2.quality.evaluations"


def ids(document, webhook_id):
    return [e.delivery_id for e in normalize_all(parse_body(p.encode(document)),
                                                 webhook_id=webhook_id)]


def test_a_single_event_uses_the_webhook_id_first():
    assert ids(p.eventbridge(p.notification(TOPIC, p.evaluation_body())), "wh-1") == ["wh-1"]


def test_without_webhook_id_the_envelope_id_is_used():
    assert ids(p.eventbridge(p.notification(TOPIC, p.evaluation_body()), event_id="eb-7"),
               None) == ["eb-7"]
    assert ids(p.cloudevent(TOPIC, p.evaluation_body(), event_id="ce-7"), None) == ["ce-7"]


def test_a_bare_notification_falls_back_to_correlation_id_and_topic():
    assert ids(p.notification(TOPIC, p.evaluation_body(), correlation="c-9"), None) == [
        f"c-9:{TOPIC}"]


def test_with_no_id_at_all_the_event_is_rejected():
    with pytest.raises(NotAnEvent, match="1 validation"):
        ids(p.notification(TOPIC, p.evaluation_body(), correlation=None), None)


def test_batch_items_prefer_their_own_id_then_webhook_id_and_position():
    batch = {"events": [
        p.eventbridge(p.notification(TOPIC, p.evaluation_body()), event_id="eb-1"),
        p.notification(TOPIC, p.evaluation_body(), correlation="c-2"),
        p.cloudevent("user.changed", {"user_id": "u"}, event_id="ce-3"),
    ]}
    assert ids(batch, "wh-9") == ["eb-1", "wh-9:1", "ce-3"]


def test_batch_items_without_webhook_id_use_correlation_and_topic():
    batch = {"events": [p.notification(TOPIC, p.evaluation_body(), correlation=f"c-{i}")
                        for i in range(3)]}
    assert ids(batch, None) == [f"c-0:{TOPIC}", f"c-1:{TOPIC}", f"c-2:{TOPIC}"]


def test_a_batch_item_with_no_id_rejects_the_whole_batch():
    batch = {"events": [p.notification(TOPIC, p.evaluation_body(), correlation="c-0"),
                        p.notification(TOPIC, p.evaluation_body(), correlation=None)]}
    with pytest.raises(NotAnEvent) as caught:
        ids(batch, None)
    assert [e["path"] for e in caught.value.errors] == ["/events/1"]


def test_normalize_takes_the_index_as_given():
    [envelope] = parse_body(p.encode(p.notification(TOPIC, p.evaluation_body())))
    [event] = normalize(envelope, webhook_id="wh", index=4)
    assert event.delivery_id == "wh:4"


def test_a_normalized_cloudevent_keeps_its_data_and_time():
    data = {"conversation_id": p.CONV, "channel": "chat", "agent_id": p.AGENT, "t_talk_ms": 1000}
    [event] = normalize_all(parse_body(p.encode(p.cloudevent("conversation.ended", data))),
                            webhook_id=None)
    assert (event.type, event.subject, event.data) == ("conversation.ended", p.CONV, data)
    assert event.occurred_at == datetime(2024, 5, 1, 10, 0, 2, tzinfo=UTC)
    assert event.source_topic is None


def test_the_cloudevent_subject_attribute_wins_when_present():
    document = p.cloudevent("survey.completed", {"survey_id": "s-1", "conversation_id": p.CONV},
                            subject="custom")
    [event] = normalize_all(parse_body(p.encode(document)), webhook_id=None)
    assert event.subject == "custom"


@pytest.mark.parametrize(("event_type", "data", "paths"), [
    ("conversation.ended", {}, ["/data/conversation_id"]),
    ("conversation.ended", {"conversation_id": "c", "channel": "fax"}, ["/data/channel"]),
    ("conversation.ended", {"conversation_id": "c", "t_hold_ms": -1}, ["/data/t_hold_ms"]),
    ("conversation.sentiment", {"conversation_id": "c", "customer_score": 42},
     ["/data/customer_score"]),
    ("conversation.transcript", {"conversation_id": "c", "phrases": [{"party": "bot"}]},
     ["/data/phrases/0/party", "/data/phrases/0/text"]),
    ("evaluation.changed", {"evaluation_id": 7}, ["/data/status", "/data/evaluation_id"]),
    ("survey.completed", {"survey_id": "s"}, ["/data/conversation_id"]),
    ("schedule.changed", [], ["/data"]),
    ("user.changed", {}, ["/data/user_id"]),
    ("coaching.changed", {}, ["/data/user_id"]),
])
def test_a_normalized_cloudevent_with_bad_data_lists_every_path(event_type, data, paths):
    batch = {"events": [p.cloudevent("user.changed", {"user_id": "u"}),
                        p.cloudevent(event_type, data)]}
    with pytest.raises(NotAnEvent) as caught:
        normalize_all(parse_body(p.encode(batch)), webhook_id=None)
    assert sorted(e["path"] for e in caught.value.errors) == sorted(
        "/events/1" + path for path in paths)


def test_a_cloudevent_carrying_a_genesys_topic_is_mapped_like_the_notification():
    document = p.cloudevent(TOPIC, p.evaluation_body())
    [event] = normalize_all(parse_body(p.encode(document)), webhook_id=None)
    assert (event.type, event.source_topic, event.data["status"]) == (
        "evaluation.changed", TOPIC, "finished")


def test_a_cloudevent_of_an_unknown_type_is_not_an_event():
    with pytest.raises(NotAnEvent) as caught:
        normalize_all(parse_body(p.encode(p.cloudevent("com.example.thing", {}))),
                      webhook_id=None)
    assert caught.value.errors[0]["path"] == "/type"


def test_a_bad_eventbridge_time_is_reported_at_its_path():
    document = {**p.eventbridge(p.notification(TOPIC, p.evaluation_body())), "time": "yesterday"}
    with pytest.raises(NotAnEvent) as caught:
        normalize_all(parse_body(p.encode(document)), webhook_id=None)
    assert caught.value.errors == [{"path": "/time", "message": "is not a valid timestamp"}]


def test_a_domain_event_round_trips_through_json():
    [event] = normalize_all(parse_body(p.encode(p.notification(TOPIC, p.evaluation_body()))),
                            webhook_id="wh")
    import json

    wire = json.dumps(event.to_json())
    assert DomainEvent.from_json(wire) == event
    assert DomainEvent.from_json(json.loads(wire)) == event
    assert event.occurred_at.tzinfo is not None
