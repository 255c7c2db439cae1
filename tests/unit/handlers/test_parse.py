import pytest

from handlers.parse import MAX_BATCH, Envelope, parse_body
from handlers.verify import BadJSON, NotAnEvent, TooManyEvents
from tests.unit.handlers.payloads import (
    cloudevent,
    encode,
    evaluation_body,
    eventbridge,
    notification,
)

EVAL_TOPIC = "v2.quality.evaluations"


def test_a_genesys_notification_parses_without_an_own_id():
    [envelope] = parse_body(encode(notification(EVAL_TOPIC, evaluation_body())))
    assert envelope == Envelope(kind="genesys", payload=envelope.payload, own_id=None)
    assert envelope.index is None


def test_an_eventbridge_envelope_carries_its_id():
    [envelope] = parse_body(encode(eventbridge(notification(EVAL_TOPIC, {}), event_id="eb-9")))
    assert (envelope.kind, envelope.own_id) == ("eventbridge", "eb-9")


def test_a_cloudevent_carries_its_id():
    [envelope] = parse_body(encode(cloudevent("evaluation.changed", {}, event_id="ce-9")))
    assert (envelope.kind, envelope.own_id) == ("cloudevents", "ce-9")


def test_the_heartbeat_parses_so_the_normalizer_can_drop_it():
    heartbeat = notification("channel.metadata", {"message": "WebSocket Heartbeat"})
    assert parse_body(encode(heartbeat))[0].kind == "genesys"


def test_a_batch_mixes_forms_and_records_positions():
    batch = {"events": [notification(EVAL_TOPIC, {}), eventbridge(notification(EVAL_TOPIC, {})),
                        cloudevent("user.changed", {"user_id": "u"})]}
    envelopes = parse_body(encode(batch))
    assert [(e.kind, e.index) for e in envelopes] == [
        ("genesys", 0), ("eventbridge", 1), ("cloudevents", 2)]


def test_a_batch_of_exactly_the_limit_is_accepted():
    batch = {"events": [notification(EVAL_TOPIC, {}, correlation=f"c{i}") for i in range(500)]}
    assert len(parse_body(encode(batch))) == MAX_BATCH == 500


def test_a_batch_over_the_limit_is_rejected_as_too_many():
    batch = {"events": [notification(EVAL_TOPIC, {}) for _ in range(501)]}
    with pytest.raises(TooManyEvents) as caught:
        parse_body(encode(batch))
    assert caught.value.status == 422
    message = "at most 500 events per batch, got 501"
    assert caught.value.errors == [{"path": "/events", "message": message}]


def test_one_bad_item_rejects_the_whole_batch_with_its_path():
    items = [notification(EVAL_TOPIC, {}) for _ in range(5)]
    items[3] = {"version": "2", "eventBody": {}}
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode({"events": items}))
    assert caught.value.errors == [{"path": "/events/3", "message": "missing topicName"}]


def test_every_bad_item_is_reported():
    items = [{"eventBody": {}}, notification(EVAL_TOPIC, {}), "text", cloudevent("x", {}, id=None)]
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode({"events": items}))
    assert [e["path"] for e in caught.value.errors] == ["/events/0", "/events/2", "/events/3"]


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100000,
                                  "\ufeff{}".encode()])
def test_bytes_that_are_not_json_are_bad_json(body):
    with pytest.raises(BadJSON) as caught:
        parse_body(body)
    assert caught.value.status == 400


@pytest.mark.parametrize(("document", "path", "message"), [
    ([], "", "must be an object"),
    ({"hello": "world"}, "", "missing topicName"),
    ({"topicName": "v2.x"}, "", "missing eventBody object"),
    ({"topicName": "v2.x", "eventBody": {}, "metadata": []}, "/metadata", "must be an object"),
    ({"events": {}}, "/events", "must be an array"),
    ({"events": []}, "/events", "must not be empty"),
])
def test_json_that_is_not_an_event_is_422_with_the_failing_path(document, path, message):
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode(document))
    assert {"path": path, "message": message} in caught.value.errors
    assert caught.value.status == 422


@pytest.mark.parametrize(("change", "path"), [
    ({"source": "aws.events"}, "/source"),
    ({"detail": {"eventBody": {}}}, "/detail"),
    ({"id": ""}, ""),
    ({"id": "x" * 201}, "/id"),
])
def test_a_malformed_eventbridge_envelope_is_not_an_event(change, path):
    document = {**eventbridge(notification(EVAL_TOPIC, {})), **change}
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode(document))
    assert path in [e["path"] for e in caught.value.errors]


@pytest.mark.parametrize(("change", "path"), [
    ({"specversion": "0.3"}, "/specversion"),
    ({"type": ""}, ""),
    ({"source": None}, ""),
    ({"time": 5}, "/time"),
    ({"data_base64": "AAAA"}, "/data_base64"),
])
def test_a_malformed_cloudevent_is_not_an_event(change, path):
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode(cloudevent("user.changed", {"user_id": "u"}, **change)))
    assert path in [e["path"] for e in caught.value.errors]


def test_problem_details_list_the_errors():
    with pytest.raises(NotAnEvent) as caught:
        parse_body(b'{"hello": 1}')
    problem = caught.value.to_problem()
    assert problem["status"] == 422
    assert problem["errors"] == [{"path": "", "message": "missing topicName"},
                                 {"path": "", "message": "missing eventBody object"}]


def test_text_a_database_cannot_store_is_refused_with_every_path():
    body = notification(EVAL_TOPIC, evaluation_body())
    body["eventBody"]["comment"] = "bad \u0000 byte"
    body["eventBody"]["a/b~c"] = ["fine", "lone \udc00 low surrogate"]
    body["eventBody"]["key \u0000"] = 1
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode(body))
    paths = [error["path"] for error in caught.value.errors]
    assert paths == ["/eventBody/a~1b~0c/1", "/eventBody/comment", "/eventBody/key \u0000"]


def test_escapes_that_only_look_unstorable_are_accepted():
    body = notification(EVAL_TOPIC, evaluation_body())
    body["eventBody"]["comment"] = "a literal \\u0000, and an emoji \U0001F600"
    raw = encode(body)
    assert b"\\\\u0000" in raw and b"\\ud83d\\ude00" in raw  # escaped as the sender would
    [envelope] = parse_body(raw)
    assert envelope.payload["eventBody"]["comment"] == "a literal \\u0000, and an emoji \U0001F600"


def _nested(levels: int) -> dict:
    """A Genesys notification whose whole document is `levels` containers deep."""
    inner: object = 1
    for _ in range(levels - 2):  # the envelope and eventBody are the first two levels
        inner = [inner]
    return notification(EVAL_TOPIC, {"deep": inner})


def test_nesting_up_to_the_bound_is_accepted_and_one_more_level_is_not():
    from handlers.parse import MAX_DEPTH

    assert len(parse_body(encode(_nested(MAX_DEPTH)))) == 1
    with pytest.raises(NotAnEvent) as caught:
        parse_body(encode(_nested(MAX_DEPTH + 1)))
    [error] = caught.value.errors
    assert error["path"] == "/eventBody/deep" + "/0" * (MAX_DEPTH - 2)
    assert error["message"] == f"nested deeper than {MAX_DEPTH} levels"
