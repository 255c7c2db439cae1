"""Event builders, generator determinism and Standard Webhooks signatures."""

import json
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sandbox.events import build_conversation, conversation_metrics, webhook_id
from sandbox.generate import batches, plan, retrying, run, signed_request, webhook_sender
from sandbox.phrases import AGENT
from sandbox.world import build_world

SECRET = "whsec_" + "c2FuZGJveC1zZWNyZXQtZm9yLXRlc3Rz"
START = datetime(2025, 6, 11, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world():
    return build_world(seed=7, now=START)


def test_a_conversation_is_four_messages_in_genesys_order(world):
    agent = world.agents[0]
    messages = build_conversation(world, agent_id=agent.id, ended_at=START, rng=random.Random(1),
                                  customer_sentiment=-0.8, agent_tone="negative")
    cid = messages[0]["eventBody"]["conversationId"]
    assert [m["topicName"] for m in messages] == [
        f"v2.detail.events.conversation.{cid}.user.end",
        f"v2.detail.events.conversation.{cid}.acw", f"v2.conversations.{cid}.transcription",
        f"v2.speechandtextanalytics.conversation.{cid}.sentiment"]
    assert all(m["version"] == "2" and m["metadata"]["CorrelationId"] for m in messages)
    end, acw, transcript, sentiment = (m["eventBody"] for m in messages)
    assert end["userId"] == agent.id and end["eventTime"] == int(START.timestamp() * 1000)
    assert acw["wrapupCode"] in world.wrapup_codes.values()
    assert sentiment["sentimentOverallScore"] == -80.0
    assert {t["channel"] for t in transcript["transcripts"]} == {"INTERNAL", "EXTERNAL"}
    assert all(t["isFinal"] for t in transcript["transcripts"])


def test_scripted_tones_read_as_scripted_to_a_lexicon_model(world):
    vader = SentimentIntensityAnalyzer()

    def agent_score(tone, sentiment):
        messages = build_conversation(world, agent_id=world.agents[0].id, ended_at=START,
                                      rng=random.Random(2), customer_sentiment=sentiment,
                                      agent_tone=tone)
        lines = [t["alternatives"][0]["transcript"] for t in messages[2]["eventBody"]
                 ["transcripts"] if t["channel"] == "INTERNAL"][1:]  # skip the greeting
        customer = [t["alternatives"][0]["transcript"] for t in messages[2]["eventBody"]
                    ["transcripts"] if t["channel"] == "EXTERNAL"][1:]
        mean = lambda xs: sum(vader.polarity_scores(x)["compound"] for x in xs) / len(xs)  # noqa: E731
        return mean(lines), mean(customer)
    rude_agent, angry_customer = agent_score("negative", -0.8)
    kind_agent, happy_customer = agent_score("positive", 0.9)
    assert rude_agent < -0.3 and kind_agent > 0.3
    assert angry_customer < -0.3 and happy_customer > 0.3


def test_every_rude_agent_line_scores_negative():
    vader = SentimentIntensityAnalyzer()
    assert all(vader.polarity_scores(line)["compound"] < -0.05 for line in AGENT["negative"])


def test_sta_metrics_agree_with_the_sentiment_event(world):
    messages = build_conversation(world, agent_id=world.agents[0].id, ended_at=START,
                                  rng=random.Random(4), customer_sentiment=0.9,
                                  agent_tone="positive")
    metrics = conversation_metrics(messages)
    assert metrics["sentimentScore"] == messages[3]["eventBody"]["sentimentOverallScore"] == 90.0


def test_plans_are_deterministic_per_seed(world):
    def dump(seed):
        return json.dumps([p.message for p in plan(world, seed=seed, count=20, rate=5, step=0.2,
                                                  start=START)])
    assert dump(7) == dump(7)
    assert dump(7) != dump(8)


def test_struggling_agents_get_more_negative_interactions(world):
    planned = plan(world, seed=7, count=600, rate=100, step=0.0, start=START)
    struggling = {a.id for a in world.agents if a.struggling}
    scores = {"struggling": [], "others": []}
    by_conv = {}
    for p in planned:
        by_conv.setdefault(p.message["eventBody"]["conversationId"], []).append(p.message)
    for msgs in by_conv.values():
        key = "struggling" if msgs[0]["eventBody"]["userId"] in struggling else "others"
        scores[key].append(msgs[3]["eventBody"]["sentimentOverallScore"])
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    assert len(struggling) == 2 and mean["struggling"] < mean["others"] - 20


def test_signatures_verify_with_standard_webhooks(world):
    messages = [p.message for p in plan(world, seed=7, count=1, rate=1, step=0, start=START)]
    body, headers = signed_request(messages[:1], secret=SECRET, now=datetime.now(UTC),
                                   batched=False)
    assert Webhook(SECRET).verify(body, headers) == messages[0]
    assert headers["webhook-id"] == webhook_id(messages[0])
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"version", b"versiom"), headers)


def test_redelivery_keeps_the_webhook_id_and_batches_are_signed_too(world):
    messages = [p.message for p in plan(world, seed=7, count=2, rate=1, step=0, start=START)]
    _, first = signed_request(messages[:1], secret=SECRET, now=START, batched=False)
    _, again = signed_request(messages[:1], secret=SECRET, now=datetime.now(UTC), batched=False)
    assert first["webhook-id"] == again["webhook-id"]
    body, headers = signed_request(messages, secret=SECRET, now=datetime.now(UTC), batched=True)
    assert Webhook(SECRET).verify(body, headers) == {"events": messages}


def test_batches_never_exceed_500(world):
    planned = plan(world, seed=7, count=300, rate=100, step=0, start=START)
    assert max(len(b) for b in batches(planned, 10_000)) == 500


def test_run_paces_sends_and_counts_failures(world):
    planned = plan(world, seed=7, count=2, rate=1, step=0.2, start=START)
    sleeps, statuses = [], iter([202, 202, 500, 202, 202, 202, 202, 202])
    result = run(batches(planned, 1), lambda msgs: next(statuses), sleep=sleeps.append,
                 clock=lambda: 0.0, progress=lambda _: None)
    assert result == {"sent": 8, "failed": 1}
    assert sleeps[0] == pytest.approx(0.2) and max(sleeps) == pytest.approx(1.6)


class _Answer:
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        self.status_code, self.headers = status, ({"Retry-After": retry_after} if retry_after else {})


class _Session:
    """A requests-like session whose answers are scripted: statuses, or exceptions to raise."""

    def __init__(self, answers) -> None:
        self.answers, self.posts = list(answers), []

    def post(self, url, data, headers, timeout):
        self.posts.append(headers)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_the_sender_retries_5xx_429_and_lost_connections_like_a_host_and_never_dies(world):
    messages = [p.message for p in plan(world, seed=7, count=1, rate=1, step=0, start=START)][:1]
    session = _Session([_Answer(503, "3"), ConnectionError("refused"), _Answer(429), _Answer(500),
                        _Answer(202)])
    sleeps = []
    send = webhook_sender(session, target="http://127.0.0.1:9", tenant="demo", secret=SECRET,
                          batched=False, sleep=sleeps.append)
    assert send(messages) == 202
    assert len(session.posts) == 5
    assert {h["webhook-id"] for h in session.posts} == {webhook_id(messages[0])}  # one delivery
    assert sleeps[0] >= 3  # Retry-After honoured
    assert all(0 < s <= 30 for s in sleeps)


def test_the_sender_gives_up_after_its_tries_with_the_last_status_and_no_exception():
    sleeps = []
    attempts = iter([ConnectionError("down")] * 3)

    def attempt():
        raise next(attempts)

    assert retrying(attempt, tries=3, sleep=sleeps.append, log=lambda _: None) == 599
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.5


def test_client_errors_are_not_retried():
    calls = []

    def attempt():
        calls.append(1)
        return 401, None

    assert retrying(attempt, sleep=lambda _: None) == 401 and len(calls) == 1
