"""fetch_transcripts with the Genesys host faked by `responses`: a ready transcript is stored
(redacted) and analysed with the tenant's lists; "not ready" (404) moves the next try by the
backoff interval, the sweep re-queues it when due, then it succeeds or is given up; a 403 is
recorded and audited once and pauses the tenant's fetches; fetches are queued once per
conversation and only for voice conversations without a transcript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import select

from extension.analytics.models.interactions import Interaction
from extension.coaching import transcripts_fetch
from extension.platform import hosts
from extension.platform.models.audit import AuditEntry
from extension.text import phrase_lists as lists_service
from extension.text.models import InteractionTextAnalytics, StaTranscriptFetch, TenantStaStatus

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"
S3 = "https://bucket.s3.example/transcripts/c1.json"


def url_of(conversation_id: str = "c1", communication_id: str = "s1") -> str:
    return (f"{API}/api/v2/speechandtextanalytics/conversations/{conversation_id}/communications/"
            f"{communication_id}/transcripturl")


DOCUMENT = {"conversationId": "c1", "communicationId": "s1", "mediaType": "call", "transcripts": [{
    "transcriptId": "t1", "language": "en-us", "phrases": [
        {"text": "Hi, this call is being recorded. My number is +44 20 7946 0958.", "startTimeMs": 1000,
         "duration": {"milliseconds": 3000}, "participantPurpose": "internal"},
        {"text": "I want to speak to a manager right now.", "startTimeMs": 5000,
         "duration": {"milliseconds": 2000}, "participantPurpose": "external"},
        {"text": "Please hold.", "startTimeMs": 8000, "participantPurpose": "acd"}]}]}


@pytest.fixture
def settings(settings):
    return settings.with_overrides(sentiment_model="vader")


@pytest.fixture
def host(app, tenant):
    hosts.forget()
    lists_service.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "tok-1", "expires_in": 86400})
        yield rsps
    hosts.forget()


def fetch(app, conversation_id="c1", communication_ids=("s1",)):
    with app.app_context():
        return transcripts_fetch.fetch_transcripts("acme", conversation_id, list(communication_ids))


def stored(db, conversation_id="c1"):
    with db.session() as session:
        interaction = session.get(Interaction, ("acme", conversation_id))
        analytics = session.get(InteractionTextAnalytics, ("acme", conversation_id))
        return (interaction.transcript if interaction else None), (analytics.result if analytics else None)


def actions(db, action: str) -> int:
    with db.session() as session:
        return len(session.scalars(select(AuditEntry.id).where(AuditEntry.tenant_id == "acme",
                                                               AuditEntry.action == action)).all())


def test_a_ready_transcript_is_stored_redacted_and_analysed(app, db, host):
    host.get(url_of(), json={"url": S3 + "?X-Amz-Signature=abc"})
    host.get(S3, json=DOCUMENT)
    assert fetch(app) == "stored"
    transcript, result = stored(db)
    assert [p["party"] for p in transcript] == ["agent", "customer"]  # the IVR/ACD line is not a party
    assert "7946" not in str(transcript) and "[PHONE]" in transcript[0]["text"]
    assert result["compliance"]["recording_disclosure"]["present"] is True
    assert result["escalation"]["present"] is True
    download = next(c for c in host.calls if c.request.url.startswith(S3))
    assert "Authorization" not in download.request.headers
    assert actions(db, "interaction.text_analysed") == 1
    assert fetch(app) == "present"  # a second run finds the transcript and calls nothing
    assert len([c for c in host.calls if "transcripturl" in c.request.url]) == 1


def fetch_row(db, conversation_id="c1") -> StaTranscriptFetch | None:
    with db.session() as session:
        return session.get(StaTranscriptFetch, ("acme", conversation_id))


def record_enqueues(app, monkeypatch) -> list:
    from extension.platform.queue import get_dispatcher

    queued: list = []
    with app.app_context():
        monkeypatch.setattr(get_dispatcher(), "enqueue",
                            lambda func, *a, job_id=None: queued.append((func.__name__, a, job_id)))
    return queued


def test_not_ready_backs_off_then_the_sweep_requeues_and_it_succeeds(app, db, host, monkeypatch):
    assert transcripts_fetch.INTERVALS == (60, 300, 900)
    host.get(url_of(), status=404, json={"code": "not.found", "status": 404, "message": "Not found"})
    assert fetch(app) == "not-ready"
    assert stored(db) == (None, None)
    row = fetch_row(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert 50 <= (row.due_at - datetime.now(UTC)).total_seconds() <= 61
    queued = record_enqueues(app, monkeypatch)
    with app.app_context():
        assert transcripts_fetch.enqueue_due() == 0  # not due yet
        with db.session() as session:
            session.get(StaTranscriptFetch, ("acme", "c1")).due_at = datetime.now(UTC) - timedelta(seconds=1)
        assert transcripts_fetch.enqueue_due() == 1
        assert transcripts_fetch.enqueue_due() == 0  # that try is already queued
    assert queued == [("fetch_transcripts", ("acme", "c1", ["s1"]), "sta-fetch.acme.c1.1")]
    host.replace(responses.GET, url_of(), json={"url": S3})
    host.get(S3, json=DOCUMENT)
    assert fetch(app) == "stored"
    assert fetch_row(db).status == "done"
    assert stored(db)[1]["compliance"]["recording_disclosure"]["present"] is True


def test_a_transcript_that_never_comes_is_given_up_after_the_last_interval(app, db, host):
    host.get(url_of(), status=404, json={"code": "not.found", "status": 404, "message": "Not found"})
    outcomes = [fetch(app) for _ in range(len(transcripts_fetch.INTERVALS) + 1)]
    assert outcomes == ["not-ready"] * len(transcripts_fetch.INTERVALS) + ["gave_up"]
    assert fetch_row(db).status == "gave_up"


def test_forbidden_is_recorded_once_and_pauses_the_tenant(app, db, host, monkeypatch):
    host.get(url_of(), status=403, json={"code": "not.authorized", "status": 403, "message": "No licence"})
    assert fetch(app) == "unavailable"
    assert fetch(app, "c2", ["s2"]) == "paused"  # no second call to the host while paused
    assert len([c for c in host.calls if "transcripturl" in c.request.url]) == 1
    assert actions(db, "sta.unavailable") == 1
    with db.session() as session:
        assert session.get(TenantStaStatus, "acme").reason.startswith("Forbidden")
    queued = record_enqueues(app, monkeypatch)
    with app.app_context():
        assert transcripts_fetch.enqueue_fetches("acme", {"c3": ["s3"]}) == 0
        with db.session() as session:
            session.add(StaTranscriptFetch(tenant_id="acme", conversation_id="c4", communication_ids=["s4"],
                                           status="pending", attempts=1, due_at=datetime.now(UTC)))
        assert transcripts_fetch.enqueue_due() == 0
    assert queued == []
    assert fetch_row(db).status == "unavailable"


def test_fetches_are_queued_once_and_only_without_a_transcript(app, db, tenant, monkeypatch):
    with db.session() as session:
        session.add(Interaction(tenant_id="acme", conversation_id="has", channel="voice",
                                transcript=[{"party": "agent", "text": "hi", "offset_ms": 0}]))
    queued = record_enqueues(app, monkeypatch)
    with app.app_context():
        ended = {"has": ["s0"], "new": ["s1", "s2"]}
        assert transcripts_fetch.enqueue_fetches("acme", ended) == 1
        assert transcripts_fetch.enqueue_fetches("acme", ended) == 0
    assert queued == [("fetch_transcripts", ("acme", "new", ["s1", "s2"]), "sta-fetch.acme.new.0")]
    assert fetch_row(db, "new").status == "pending" and fetch_row(db, "has") is None


def test_ended_voice_reads_the_user_end_session_ids():
    events = [
        {"type": "conversation.ended", "data": {"part": "user_end", "conversation_id": "v",
                                                "channel": "voice", "communication_id": "s1"}},
        {"type": "conversation.ended", "data": {"part": "user_end", "conversation_id": "v",
                                                "channel": "voice", "communication_id": "s1"}},
        {"type": "conversation.ended", "data": {"part": "acw", "conversation_id": "v", "channel": None}},
        {"type": "conversation.ended", "data": {"conversation_id": "chat", "channel": "chat",
                                                "communication_id": "s9"}},
        {"type": "conversation.ended", "data": {"conversation_id": "old", "channel": "voice"}},
        {"type": "conversation.sentiment", "data": {"conversation_id": "v"}}]
    assert transcripts_fetch.ended_voice(events) == {"v": ["s1"]}


def test_the_voice_sessions_of_conversation_details():
    details = {"participants": [
        {"purpose": "customer", "sessions": [{"sessionId": "cust", "mediaType": "voice"}]},
        {"purpose": "agent", "sessions": [{"sessionId": "ag", "mediaType": "voice"},
                                          {"sessionId": "cb", "mediaType": "callback"}]}]}
    assert transcripts_fetch.communication_ids_from_details(details) == ["ag", "cust"]


@pytest.fixture
def delayed(settings):
    """Production's first-try delay (the test configuration asks at once)."""
    return settings.with_overrides(sta_fetch_delay_seconds=180)


def test_the_first_try_waits_for_the_host_to_have_made_the_transcript(
        app, db, tenant, monkeypatch, delayed):
    app.config["SETTINGS"] = delayed
    queued = record_enqueues(app, monkeypatch)
    with app.app_context():
        assert transcripts_fetch.enqueue_fetches("acme", {"c1": ["s1"]}) == 0
        assert transcripts_fetch.enqueue_due() == 0  # not due for three minutes
    row = fetch_row(db)
    assert row.status == "pending" and row.attempts == 0
    assert 170 <= (row.due_at - datetime.now(UTC)).total_seconds() <= 181
    with db.session() as session:
        session.get(StaTranscriptFetch, ("acme", "c1")).due_at = datetime.now(UTC) - timedelta(seconds=1)
    with app.app_context():
        assert transcripts_fetch.enqueue_due() == 1
    assert queued == [("fetch_transcripts", ("acme", "c1", ["s1"]), "sta-fetch.acme.c1.0")]


def test_one_sweep_queues_a_bounded_number_of_tries_per_tenant(app, db, tenant, monkeypatch):
    from extension.platform.models.tenants import Tenant

    queued = record_enqueues(app, monkeypatch)
    due = datetime.now(UTC) - timedelta(seconds=5)
    count = 10 + transcripts_fetch.PER_TENANT_PER_SWEEP + 7
    with db.session() as session:
        session.add(Tenant(id="quiet", name="Quiet", api_base=API, login_base=LOGIN, timezone="UTC"))
    with db.session() as session:
        session.add_all(StaTranscriptFetch(tenant_id="acme", conversation_id=f"c{i:03d}", attempts=0,
                                           communication_ids=[f"s{i}"], status="pending",
                                           due_at=due + timedelta(milliseconds=i))
                        for i in range(count))
        # due later than all of acme's backlog, and still not kept out by it
        session.add(StaTranscriptFetch(tenant_id="quiet", conversation_id="q1", attempts=0,
                                       communication_ids=["s"], status="pending",
                                       due_at=datetime.now(UTC) - timedelta(seconds=1)))
    with app.app_context():
        assert transcripts_fetch.enqueue_due(limit=10) == 10 + 1
        assert transcripts_fetch.enqueue_due() == transcripts_fetch.PER_TENANT_PER_SWEEP
        assert transcripts_fetch.enqueue_due() == 7  # the rest at a later sweep, oldest first
        assert transcripts_fetch.enqueue_due() == 0
    acme = [a[1] for _, a, _ in queued if a[0] == "acme"]
    assert acme == [f"c{i:03d}" for i in range(count)]
    assert [a[1] for _, a, _ in queued if a[0] == "quiet"] == ["q1"]


RUDE = {"conversationId": "c7", "communicationId": "s7", "mediaType": "call", "transcripts": [{
    "transcriptId": "t7", "language": "en-us", "phrases": [
        {"text": "This is useless, three days without broadband and nobody helps.", "startTimeMs": 1000,
         "participantPurpose": "external"},
        {"text": "Not my problem. That is a stupid question and I hate these calls.",
         "startTimeMs": 5000, "participantPurpose": "internal"}]}]}


def test_a_fetched_transcript_goes_through_the_pipeline_like_a_live_one(app, db, host):
    """The agent's side of the sentiment is only known from the transcript: scoring it and
    evaluating the conversation's policies again is what lets a late transcript coach."""
    with db.session() as session:
        session.add(Interaction(tenant_id="acme", conversation_id="c7", agent_id="a1", channel="voice",
                                t_talk_ms=200_000, t_handle_ms=230_000, outcomes=[],
                                ended_at=datetime.now(UTC) - timedelta(minutes=4)))
    host.get(url_of("c7", "s7"), json={"url": S3})
    host.get(S3, json=RUDE)
    assert fetch(app, "c7", ("s7",)) == "stored"
    with db.session() as session:
        interaction = session.get(Interaction, ("acme", "c7"))
        assert interaction.agent_sentiment is not None and interaction.agent_sentiment < 0
        assert interaction.transcript_customer_sentiment is not None
        assert interaction.transcript_customer_sentiment < 0
        assert interaction.channel == "voice" and interaction.agent_id == "a1"
