"""STA transcripts end to end through the sandbox host: a voice conversation ends (user.end with
its sessionId, no live transcription), the drain queues a fetch, the worker gets the pre-signed
URL, downloads the document (the sandbox, like S3, refuses a request carrying our bearer token),
stores it and analyses it with the tenant's phrase lists. Plus the sandbox's own answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import requests

from extension.analytics.models.interactions import Interaction
from extension.platform import hosts, tenants
from extension.platform.queue import get_dispatcher
from extension.text import phrase_lists as lists_service
from extension.text.models import InteractionTextAnalytics
from handlers import jobs
from tests.helpers import dumps, serving, signed_headers


@pytest.fixture
def settings(settings):
    return settings.with_overrides(sentiment_model="vader")


@pytest.fixture
def sandbox():
    from sandbox.app import create_app as create_sandbox

    app = create_sandbox(seed=5)
    with serving(app) as base:
        yield base, app


@pytest.fixture
def sbx(app, sandbox):
    hosts.forget()
    lists_service.forget()
    with app.extensions["coachwire.db"].session() as session:
        created, secret = tenants.create(
            session, app.extensions["coachwire.box"], name="Sandbox org", tenant_id="sbx",
            api_base=sandbox[0], login_base=sandbox[0], client_id="sandbox-client",
            client_secret="sandbox-secret", timezone="UTC")
    yield created.id, secret
    hosts.forget()


def conversation(sandbox_app, *, tone: str = "negative") -> list[dict]:
    from sandbox.events import build_conversation

    world = sandbox_app.extensions["sandbox"].world
    return build_conversation(world, agent_id=world.agents[0].id, media="voice", agent_tone=tone,
                              ended_at=datetime.now(UTC) - timedelta(minutes=10), rng=random.Random(3))


def control(base: str, **body) -> dict:
    answer = requests.post(f"{base}/sandbox/control/sta", json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def deliver_and_drain(app, client, run_jobs, tenant, messages: list[dict]) -> None:
    tenant_id, secret = tenant
    body = dumps({"events": messages})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
    run_jobs()
    run_jobs()


def test_an_ended_voice_call_gets_its_sta_transcript_analysed(app, client, db, run_jobs, sandbox, sbx):
    base, sandbox_app = sandbox
    messages = conversation(sandbox_app)
    cid = messages[0]["eventBody"]["conversationId"]
    assert control(base, messages=messages)["registered"] == 1
    without_live_transcript = [m for m in messages if not m["topicName"].endswith(".transcription")]
    deliver_and_drain(app, client, run_jobs, sbx, without_live_transcript)
    with db.session() as session:
        interaction = session.get(Interaction, ("sbx", cid))
        analytics = session.get(InteractionTextAnalytics, ("sbx", cid))
        assert interaction.transcript
        assert {p["party"] for p in interaction.transcript} == {"agent", "customer"}
        assert analytics is not None and analytics.channel == "voice"
        assert analytics.prohibited_count >= 1  # the rude agent lines of the generated call
    assert requests.get(f"{base}/sandbox/control/sta", timeout=5).json()["calls"] == 1


def test_a_transcript_not_ready_yet_is_fetched_by_the_sweep_once_due(app, client, db, run_jobs, sandbox, sbx):
    from extension.text.models import StaTranscriptFetch

    base, sandbox_app = sandbox
    messages = conversation(sandbox_app)
    cid = messages[0]["eventBody"]["conversationId"]
    control(base, messages=messages, notReadyCalls=1)
    without_live_transcript = [m for m in messages if "transcription" not in m["topicName"]]
    deliver_and_drain(app, client, run_jobs, sbx, without_live_transcript)
    with db.session() as session:
        row = session.get(StaTranscriptFetch, ("sbx", cid))
        assert (row.status, row.attempts) == ("pending", 1)
        assert session.get(Interaction, ("sbx", cid)).transcript is None
        row.due_at = datetime.now(UTC) - timedelta(seconds=1)
    with app.app_context():
        assert jobs.sweep()["transcripts"] == 1
    run_jobs()
    with db.session() as session:
        assert session.get(StaTranscriptFetch, ("sbx", cid)).status == "done"
        assert session.get(InteractionTextAnalytics, ("sbx", cid)) is not None
    assert requests.get(f"{base}/sandbox/control/sta", timeout=5).json()["calls"] == 2


def test_a_conversation_with_a_live_transcript_is_not_fetched(app, client, db, run_jobs, sandbox, sbx):
    base, sandbox_app = sandbox
    messages = conversation(sandbox_app, tone="positive")
    control(base, messages=messages)
    deliver_and_drain(app, client, run_jobs, sbx, messages)
    assert requests.get(f"{base}/sandbox/control/sta", timeout=5).json()["calls"] == 0
    with db.session() as session:
        assert session.get(Interaction, ("sbx", messages[0]["eventBody"]["conversationId"])).transcript


def test_the_sandbox_serves_the_reference_shapes_and_refuses_a_token_on_the_document(sandbox):
    base, sandbox_app = sandbox
    messages = conversation(sandbox_app)
    cid = messages[0]["eventBody"]["conversationId"]
    session_id = messages[0]["eventBody"]["sessionId"]
    control(base, messages=messages, notReadyCalls=1)
    token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"), timeout=5).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    path = (f"{base}/api/v2/speechandtextanalytics/conversations/{cid}/communications/{session_id}"
            "/transcripturl")
    assert requests.get(path, timeout=5).status_code == 401
    assert requests.get(path, headers=bearer, timeout=5).status_code == 404  # not ready yet
    answer = requests.get(path, headers=bearer, timeout=5)
    assert answer.status_code == 200 and set(answer.json()) == {"url"}  # TranscriptUrl has only url
    url = answer.json()["url"]
    assert requests.get(url, headers=bearer, timeout=5).status_code == 400
    document = requests.get(url, timeout=5).json()
    from extension.text.domain.transcripts import from_genesys

    utterances = from_genesys(document)
    assert [u["party"] for u in utterances][:2] == ["agent", "customer"] and utterances[0]["offset_ms"] == 0
    assert requests.get(path.replace(session_id, "other"), headers=bearer, timeout=5).status_code == 404
    control(base, mode="forbidden")
    assert requests.get(path, headers=bearer, timeout=5).status_code == 403
