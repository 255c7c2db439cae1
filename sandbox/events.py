"""Pure builders for generated conversations, as Genesys Notification messages.

No I/O here: tests script exact scenarios with `build_conversation`, the CLI and the WebSocket
push draw realistic ones with `random_conversation`. Each conversation yields, in order:
user.end, acw, transcription, sentiment (the order Genesys emits them in)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.ids import new_id, stable_id
from sandbox.phrases import AGENT, CUSTOMER, INQUIRY_LINES, OPENING
from sandbox.timeutil import iso

MEDIA = {"voice": "VOICE", "chat": "CHAT", "email": "EMAIL", "message": "MESSAGE"}
CHANNEL_MIX = {"voice": 0.55, "chat": 0.2, "message": 0.15, "email": 0.1}
INQUIRY_MIX = {"Billing dispute": 0.25, "Technical fault": 0.25, "Cancellation request": 0.1,
               "Order status": 0.25, "Account update": 0.15}
HANDLE_SECONDS = {"voice": 360, "chat": 600, "message": 900, "email": 480}
TONES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Conversation:
    """Everything the messages are built from; `ended_at` is when the agent's segment ended."""
    conversation_id: str
    agent_id: str
    queue_id: str
    media: str
    inquiry: str
    customer_sentiment: float  # -1..1
    agent_tone: str
    ended_at: datetime
    interacting_ms: int
    held_ms: int
    wrapup_ms: int
    disconnect_type: str


def envelope(topic: str, body: dict, *, correlation_id: str) -> dict:
    return {"topicName": topic, "version": "2", "eventBody": body,
            "metadata": {"CorrelationId": correlation_id}}


def webhook_id(message: dict) -> str:
    """Stable per message, so redelivering a message is a true duplicate to the receiver."""
    return "msg_" + stable_id(message["topicName"], message["metadata"]["CorrelationId"])


def build_conversation(world, *, agent_id: str, ended_at: datetime, rng: random.Random,
                       customer_sentiment: float = -0.8, agent_tone: str = "negative",
                       media: str | None = None, queue_id: str | None = None,
                       inquiry: str | None = None, conversation_id: str | None = None
                       ) -> list[dict]:
    """The four messages of one conversation, with the given scenario and random details."""
    if agent_tone not in TONES:
        raise ValueError(f"agent_tone must be one of {TONES}")
    media = media or _weighted(rng, CHANNEL_MIX)
    spec = Conversation(
        conversation_id=conversation_id or new_id(rng), agent_id=agent_id,
        queue_id=queue_id or _queue_for(world, media, rng), media=media,
        inquiry=inquiry or _weighted(rng, INQUIRY_MIX),
        customer_sentiment=max(-1.0, min(1.0, customer_sentiment)), agent_tone=agent_tone,
        ended_at=ended_at, interacting_ms=_duration_ms(rng, media),
        held_ms=rng.choice([0, 0, 0, rng.randint(15, 120) * 1000]) if media == "voice" else 0,
        wrapup_ms=rng.randint(20, 120) * 1000,
        disconnect_type=rng.choices(["CLIENT", "ENDPOINT", "PEER", "TRANSFER"], [4, 3, 3, 1])[0])
    return messages_for(world, spec, rng)


def random_conversation(world, *, rng: random.Random, ended_at: datetime) -> list[dict]:
    """A conversation drawn from the org's distributions: struggling agents are rude more
    often, and the customer's sentiment follows the agent's tone."""
    agent = rng.choice(world.agents)
    tone = _tone_for(agent.skill, rng)
    centre = {"negative": -0.7, "neutral": 0.1, "positive": 0.75}[tone]
    sentiment = round(max(-1.0, min(1.0, rng.gauss(centre, 0.2))), 2)
    return build_conversation(world, agent_id=agent.id, ended_at=ended_at, rng=rng,
                              customer_sentiment=sentiment, agent_tone=tone)


def messages_for(world, spec: Conversation, rng: random.Random) -> list[dict]:
    correlation = [new_id(rng) for _ in range(4)]
    cid = spec.conversation_id
    return [
        envelope(f"v2.detail.events.conversation.{cid}.user.end", _user_end(world, spec, rng),
                 correlation_id=correlation[0]),
        envelope(f"v2.detail.events.conversation.{cid}.acw", _acw(world, spec, rng),
                 correlation_id=correlation[1]),
        envelope(f"v2.conversations.{cid}.transcription", _transcription(world, spec, rng),
                 correlation_id=correlation[2]),
        envelope(f"v2.speechandtextanalytics.conversation.{cid}.sentiment",
                 _sentiment(world, spec, rng), correlation_id=correlation[3]),
    ]


def conversation_metrics(messages: list[dict]) -> dict:
    """ConversationMetrics for GET /api/v2/speechandtextanalytics/conversations/{id}, derived
    from the messages so the API and the events always agree."""
    by_kind = {m["topicName"].rsplit(".", 1)[-1]: m["eventBody"] for m in messages}
    sentiment, end = by_kind["sentiment"], by_kind["end"]
    trend = sentiment["sentimentTrendScore"]
    agent_share = _agent_share(by_kind["transcription"])
    return {"conversation": {"id": end["conversationId"],
                             "selfUri": f"/api/v2/conversations/{end['conversationId']}"},
            "sentimentScore": sentiment["sentimentOverallScore"], "sentimentTrend": trend,
            "sentimentTrendClass": _trend_class(trend),
            "empathyScores": [{"userId": end["userId"], "score": 0.0}],
            "participantMetrics": {"agentDurationPercentage": agent_share,
                                   "customerDurationPercentage": round(90 - agent_share, 1),
                                   "silenceDurationPercentage": 8.0,
                                   "overtalkDurationPercentage": 2.0, "overtalkCount": 1}}


def _tone_for(skill: float, rng: random.Random) -> str:
    roll = rng.random()
    negative = 0.55 * (1 - skill)
    if roll < negative:
        return "negative"
    return "positive" if roll < negative + 0.35 * skill else "neutral"


def _weighted(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _queue_for(world, media: str, rng: random.Random) -> str:
    matching = [q.id for q in world.queues if q.media_type == media]
    return rng.choice(matching or [q.id for q in world.queues])


def _duration_ms(rng: random.Random, media: str) -> int:
    return int(rng.lognormvariate(0, 0.45) * HANDLE_SECONDS[media] * 1000)


def _common(world, spec: Conversation, rng: random.Random, when: datetime) -> dict:
    return {"eventTime": int(when.timestamp() * 1000), "conversationId": spec.conversation_id,
            "participantId": stable_id(spec.conversation_id, "agent"),
            "sessionId": stable_id(spec.conversation_id, "session"),
            "mediaType": MEDIA[spec.media], "provider": "PureCloud", "direction": "INBOUND",
            "userId": spec.agent_id, "queueId": spec.queue_id}


def _user_end(world, spec: Conversation, rng: random.Random) -> dict:
    return {**_common(world, spec, rng, spec.ended_at), "disconnectType": spec.disconnect_type,
            "divisionId": world.division_id, "interactingDurationMs": spec.interacting_ms,
            "heldDurationMs": spec.held_ms, "alertingDurationMs": rng.randint(2, 12) * 1000}


def _acw(world, spec: Conversation, rng: random.Random) -> dict:
    done = spec.ended_at + timedelta(milliseconds=spec.wrapup_ms)
    return {**_common(world, spec, rng, done), "wrapupCode": world.wrapup_codes[spec.inquiry],
            "wrapupNotes": spec.inquiry, "wrapupDurationMs": spec.wrapup_ms}


def _transcription(world, spec: Conversation, rng: random.Random) -> dict:
    lines = _dialogue(world, spec, rng)
    step = max(2000, spec.interacting_ms // max(1, len(lines)))
    transcripts = [_utterance(rng, channel, text, offset=i * step, length=step - 500)
                   for i, (channel, text) in enumerate(lines)]
    started = spec.ended_at - timedelta(milliseconds=spec.interacting_ms)
    return {"eventTime": iso(spec.ended_at), "organizationId": world.org_id,
            "conversationId": spec.conversation_id,
            "communicationId": stable_id(spec.conversation_id, "communication"),
            "sessionStartTimeMs": int(started.timestamp() * 1000),
            "transcriptionStartTimeMs": int(started.timestamp() * 1000),
            "transcripts": transcripts, "status": {"offsetMs": spec.interacting_ms,
                                                   "status": "SESSION_ENDED"}}


def _dialogue(world, spec: Conversation, rng: random.Random) -> list[tuple[str, str]]:
    """INTERNAL is the agent's channel and EXTERNAL the customer's, as in Genesys."""
    mood = _bucket(spec.customer_sentiment)
    agent_name = world.people[spec.agent_id].name.split()[0]
    agent_lines = rng.sample(AGENT[spec.agent_tone], 3)
    customer_lines = rng.sample(CUSTOMER[mood], 2)
    return [("INTERNAL", OPENING[spec.media].format(agent=agent_name)),
            ("EXTERNAL", INQUIRY_LINES[spec.inquiry]),
            ("INTERNAL", agent_lines[0]), ("EXTERNAL", customer_lines[0]),
            ("INTERNAL", agent_lines[1]), ("EXTERNAL", customer_lines[1]),
            ("INTERNAL", agent_lines[2])]


def _utterance(rng: random.Random, channel: str, text: str, *, offset: int, length: int) -> dict:
    return {"utteranceId": new_id(rng), "isFinal": True, "channel": channel,
            "dialect": "en-US", "engineProvider": "GENESYS",
            "alternatives": [{"confidence": round(rng.uniform(0.82, 0.98), 2),
                              "offsetMs": offset, "durationMs": length, "transcript": text}]}


def _sentiment(world, spec: Conversation, rng: random.Random) -> dict:
    score = round(spec.customer_sentiment * 100, 1)
    trend = round(max(-100.0, min(100.0, score * 0.5 + rng.uniform(-15, 15))), 1)
    return {"conversationId": spec.conversation_id, "sentimentOverallScore": score,
            "sentimentTrendScore": trend, "queueIds": [spec.queue_id],
            "divisionIds": [world.division_id], "flowIds": []}


def _bucket(sentiment: float) -> str:
    if sentiment < -0.3:
        return "negative"
    return "positive" if sentiment > 0.3 else "neutral"


def _trend_class(trend: float) -> str:
    for limit, name in ((-30, "Declining"), (-10, "SlightlyDeclining"), (10, "NoChange"),
                        (30, "SlightlyImproving")):
        if trend < limit:
            return name
    return "Improving"


def _agent_share(transcription: dict) -> float:
    words = {"INTERNAL": 0, "EXTERNAL": 0}
    for item in transcription["transcripts"]:
        words[item["channel"]] += len(item["alternatives"][0]["transcript"].split())
    total = sum(words.values()) or 1
    return round(90 * words["INTERNAL"] / total, 1)
