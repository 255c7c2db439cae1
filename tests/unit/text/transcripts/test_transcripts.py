"""The STA transcript adapter and the chat/email shapes."""

from __future__ import annotations

import pytest

from extension.text.domain.transcripts import from_email, from_genesys, from_messages, normalise

GENESYS = {
    "conversationId": "conv-1", "communicationId": "comm-1", "mediaType": "call",
    "transcripts": [
        {"transcriptId": "t2", "language": "en-us", "phrases": [
            {"text": "I want to speak to a manager", "startTimeMs": 1700000004000,
             "duration": {"milliseconds": 2500}, "participantPurpose": "external"},
        ]},
        {"transcriptId": "t1", "language": "en-us", "phrases": [
            {"text": "Thanks for calling, this call may be recorded.", "startTimeMs": 1700000000500,
             "duration": {"milliseconds": 3000}, "participantPurpose": "internal"},
            {"text": "  ", "startTimeMs": 1700000003600, "duration": {"milliseconds": 100},
             "participantPurpose": "external"},
            {"text": "Please hold", "startTimeMs": 1700000001000, "duration": 400,
             "participantPurpose": "acd"},
        ]},
    ],
}


def test_genesys_phrases_merge_in_time_order_with_relative_offsets():
    utterances = from_genesys(GENESYS)
    assert [u["party"] for u in utterances] == ["agent", "acd", "customer"]
    assert [u["offset_ms"] for u in utterances] == [0, 500, 3500]
    assert [u["duration_ms"] for u in utterances] == [3000, 400, 2500]
    assert utterances[2]["text"] == "I want to speak to a manager"


def test_an_earlier_document_start_time_is_the_origin():
    utterances = from_genesys({**GENESYS, "startTime": 1700000000000})
    assert utterances[0]["offset_ms"] == 500


def test_a_document_without_transcripts_is_refused():
    with pytest.raises(ValueError, match="transcripts"):
        from_genesys({"conversationId": "x"})


def test_chat_messages_and_email_paragraphs():
    chat = from_messages([{"from": "customer", "body": "hi there"}, {"purpose": "agent", "text": ""},
                          {"party": "agent", "text": "Hello!", "offset_ms": 1200}])
    assert chat == [{"party": "customer", "text": "hi there", "offset_ms": None, "duration_ms": None},
                    {"party": "agent", "text": "Hello!", "offset_ms": 1200, "duration_ms": None}]
    mail = from_email("Dear team,\r\n\r\nMy order is late.\n\n\n", party="external")
    assert [u["text"] for u in mail] == ["Dear team,", "My order is late."]
    assert {u["party"] for u in mail} == {"customer"}


def test_normalise_accepts_each_shape():
    assert normalise(GENESYS)[0]["party"] == "agent"
    assert normalise("Para one.\n\nPara two.", channel="email")[1]["text"] == "Para two."
    assert normalise([{"party": "agent", "text": "ok", "offset_ms": "5"}])[0]["offset_ms"] == 5
    with pytest.raises(ValueError):
        normalise(42)
