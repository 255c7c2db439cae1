"""map_conversation: AnalyticsConversation -> fact record (pure; no database needed)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from extension.analytics.sync import chunks, map_conversation, merge


def seg(kind, start, end, **extra):
    return {"segmentType": kind, "segmentStart": f"2025-06-10T{start}Z", "segmentEnd": f"2025-06-10T{end}Z",
            **extra}


def agent(user, segments, metrics, *, media="voice", direction="inbound", team=None, **addresses):
    body = {"purpose": "agent", "userId": user,
            "sessions": [{"mediaType": media, "direction": direction, **addresses, "segments": segments,
                          "metrics": [{"name": n, "value": v} for n, v in metrics.items()]}]}
    if team:
        body["teamId"] = team
    return body


def conversation(*participants, ended=True):
    body = {"conversationId": "c1", "conversationStart": "2025-06-10T09:00:00.000Z",
            "participants": list(participants)}
    if ended:
        body["conversationEnd"] = "2025-06-10T10:00:00.000Z"
    return body


FIRST = agent("u1", [seg("alert", "09:00:00", "09:00:05", queueId="q1"),
                     seg("interact", "09:00:05", "09:05:00", queueId="q1", disconnectType="transfer"),
                     seg("wrapup", "09:05:00", "09:06:00", wrapUpCode="wc-1")],
              {"tTalk": 295000, "tAcw": 60000, "nTransferred": 1}, ani="tel:+447700900001", team="t1")
SECOND = agent("u2", [seg("interact", "09:06:00", "09:10:00", queueId="q2"),
                      seg("hold", "09:10:00", "09:11:00", queueId="q2"),
                      seg("interact", "09:11:00", "09:12:00", queueId="q2"),
                      seg("wrapup", "09:12:00", "09:13:00", wrapUpCode="wc-2")],
               {"tTalk": 300000, "tHeld": 60000, "tAcw": 60000, "tHandle": 999}, ani="tel:+447700900001")


def test_the_last_handling_agent_and_its_own_timings_make_the_fact():
    record = map_conversation(conversation(FIRST, SECOND))
    assert record == {
        "conversation_id": "c1", "agent_id": "u2", "team_id": None, "queue_id": "q2", "inquiry": "wc-2",
        "channel": "voice", "ended_at": datetime(2025, 6, 10, 9, 12, tzinfo=UTC), "t_talk_ms": 300000,
        "t_hold_ms": 60000, "n_hold": 1, "t_acw_ms": 60000, "t_handle_ms": 420000, "transferred": False,
        "customer_address": "tel:+447700900001"}
    only_first = map_conversation(conversation(FIRST))
    assert (only_first["agent_id"], only_first["team_id"], only_first["transferred"]) == ("u1", "t1", True)
    assert only_first["t_hold_ms"] == 0  # no tHeld metric: never on hold


def test_in_progress_or_never_answered_conversations_are_skipped():
    assert map_conversation(conversation(FIRST, ended=False)) is None
    ivr_only = {"purpose": "ivr", "sessions": [{"mediaType": "voice", "segments": []}]}
    alert_only = agent("u3", [seg("alert", "09:00:00", "09:00:30", queueId="q1")], {})
    assert map_conversation(conversation(ivr_only, alert_only)) is None


def test_outbound_social_and_customer_participant_addresses():
    outbound = agent("u1", [seg("interact", "09:00:00", "09:01:00")], {"tTalk": 60000}, direction="outbound",
                     ani="tel:+448000000100", dnis="tel:+447700900002")
    assert map_conversation(conversation(outbound))["customer_address"] == "tel:+447700900002"
    social = agent("u1", [seg("interact", "09:00:00", "09:01:00")], {"tTalk": 1}, media="message")
    social["sessions"][0]["messageType"] = "facebook"
    customer = {"purpose": "customer", "sessions": [{"direction": "inbound", "addressFrom": "fb-123"}]}
    record = map_conversation(conversation(social, customer))
    assert (record["channel"], record["customer_address"]) == ("social", "fb-123")


def test_merge_keeps_what_only_other_sources_know():
    stored = {"conversation_id": "c1", "csat": 4.0, "customer_sentiment": -0.2, "t_talk_ms": 1,
              "tenant_id": "x", "updated_at": "later"}
    mapped = {"conversation_id": "c1", "t_talk_ms": 5, "team_id": None, "customer_address": "a"}
    merged = merge(mapped, stored)
    assert merged == {"conversation_id": "c1", "csat": 4.0, "customer_sentiment": -0.2, "t_talk_ms": 5}


def test_chunks_cover_the_range_exactly():
    start, end = datetime(2025, 6, 1, 12, tzinfo=UTC), datetime(2025, 6, 3, 6, tzinfo=UTC)
    parts = chunks(start, end, timedelta(days=1))
    assert parts[0][0] == start and parts[-1][1] == end and len(parts) == 2
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
