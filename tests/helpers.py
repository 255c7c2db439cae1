"""Test helpers: sign like a real sender, build host payloads from reference field names."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server


def signed_headers(secret: str, body: bytes, *, msg_id: str | None = None,
                   timestamp: datetime | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}


def notification(topic: str, body: dict, *, correlation_id: str | None = None) -> dict:
    return {"topicName": topic, "version": "2", "eventBody": body,
            "metadata": {"CorrelationId": correlation_id or str(uuid.uuid4())}}


def user_end(conversation_id: str, agent_id: str, *, talk_ms: int = 240_000, hold_ms: int = 0,
             media: str = "voice", queue_id: str = "q-1") -> dict:
    return notification(f"v2.detail.events.conversation.{conversation_id}.user.end", {
        "eventTime": int(time.time() * 1000), "conversationId": conversation_id,
        "userId": agent_id, "queueId": queue_id, "mediaType": media,
        "interactingDurationMs": talk_ms, "heldDurationMs": hold_ms, "disconnectType": "client",
    })


def sentiment(conversation_id: str, score_100: float) -> dict:
    return notification(f"v2.speechandtextanalytics.conversation.{conversation_id}.sentiment", {
        "conversationId": conversation_id, "sentimentOverallScore": score_100,
        "sentimentTrendScore": 0.0,
    })


def transcript(conversation_id: str, lines: list[tuple[str, str]]) -> dict:
    results = [{"utteranceId": str(i), "isFinal": True,
                "channel": "INTERNAL" if party == "agent" else "EXTERNAL",
                "alternatives": [{"transcript": text, "offsetMs": i * 4000, "durationMs": 3000,
                                  "confidence": 0.9}]}
               for i, (party, text) in enumerate(lines)]
    return notification(f"v2.conversations.{conversation_id}.transcription", {
        "eventTime": datetime.now(UTC).isoformat(), "conversationId": conversation_id,
        "communicationId": str(uuid.uuid4()), "transcripts": results,
        "status": {"status": "SESSION_ENDED", "offsetMs": 0},
    })


def dumps(value) -> bytes:
    return json.dumps(value).encode()


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` on a real threaded loopback server (WebSockets and outbound HTTP need one); yields
    its base URL and stops it on the way out."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
