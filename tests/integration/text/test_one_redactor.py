"""One PII redactor on every stored path (issue 13): live webhook events, the Notification API
listener, STA transcript fetches, the history sync's fetches and API input (CloudEvents) all store
transcripts redacted by ``extension.text.domain.pii.redact`` and nothing else. On each path a
spelled-out email and a spoken phone number never reach the database in clear, while a tracking
number and an order number (not personal data) are kept as said.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
import responses
from sqlalchemy import select

from extension.analytics.models.interactions import Interaction
from extension.coaching import transcripts_fetch
from extension.platform import hosts
from extension.platform.models.inbox import InboxEvent
from extension.text import phrase_lists as lists_service
from extension.text.models import InteractionTextAnalytics
from handlers.listener_sink import InboxSink
from tests.helpers import dumps, signed_headers, transcript

EMAIL_SAID = "jo dot smith at gmail dot com"
PHONE_SAID = "oh seven seven double oh, nine double oh, four five six"
TRACKING = "9400 1000 0000 0000 0000 00"
ORDER = "40 5521 8876"
CUSTOMER = f"Sure, it's {EMAIL_SAID}, and my mobile is {PHONE_SAID}."
AGENT = f"Thanks. Your tracking number is {TRACKING} and the order number is {ORDER}."
SECRETS = ("jo dot smith", "gmail", "seven seven double oh", "four five six")

API = "https://api.mypurecloud.ie"
LOGIN = "https://login.mypurecloud.ie"
S3 = "https://bucket.s3.example/transcripts/pii.json"


@pytest.fixture
def settings(settings):
    return settings.with_overrides(sentiment_model="vader")


def assert_clean(copies: dict[str, str]) -> None:
    """Each stored copy on its own: no secret in clear, both placeholders, both references kept."""
    for where, stored in copies.items():
        for secret in SECRETS:
            assert secret not in stored, f"{secret!r} stored in clear in the {where}: {stored}"
        assert "[EMAIL]" in stored and "[PHONE]" in stored, f"{where}: {stored}"
        assert TRACKING in stored and ORDER in stored, f"a reference blanked in the {where}: {stored}"


def stored_everywhere(db, conversation_id: str) -> dict[str, str]:
    """Every stored copy of the conversation's text: inbox rows, the interaction, its analytics."""
    with db.session() as session:
        copies = {f"inbox row {row.id}": json.dumps(row.payload) for row in session.scalars(
            select(InboxEvent).where(InboxEvent.subject == conversation_id))}
        interaction = session.get(Interaction, ("acme", conversation_id))
        analytics = session.get(InteractionTextAnalytics, ("acme", conversation_id))
        assert interaction is not None and interaction.transcript, "no transcript stored"
        assert analytics is not None, "no text analytics stored"
        copies["interaction transcript"] = json.dumps(interaction.transcript)
        copies["text analytics"] = json.dumps(analytics.result)
        return copies


def test_live_webhook_events(client, db, run_jobs, tenant):
    tenant_id, secret = tenant
    body = dumps(transcript("c-live", [("customer", CUSTOMER), ("agent", AGENT)]))
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202
    run_jobs()
    assert_clean(stored_everywhere(db, "c-live"))


def test_api_input_cloudevents(app, client, db, run_jobs, tenant):
    from extension.platform import tenants
    from extension.platform.models.tenants import Tenant

    tenant_id, _ = tenant
    with db.session() as session:
        key = tenants.add_api_key(session, app.extensions["coachwire.box"], session.get(Tenant, tenant_id))
    body = dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:example:host",
                  "type": "conversation.transcript", "time": datetime.now(UTC).isoformat(),
                  "data": {"conversation_id": "c-api", "channel": "chat", "phrases": [
                      {"party": "customer", "text": CUSTOMER, "offset_ms": 0},
                      {"party": "agent", "text": AGENT, "offset_ms": 4000}]}})
    response = client.post(f"/webhooks/{tenant_id}", data=body,
                           headers={"x-api-key": key, "content-type": "application/json"})
    assert response.status_code == 202, response.get_data(as_text=True)
    run_jobs()
    assert_clean(stored_everywhere(db, "c-api"))


def test_notification_listener_frames(app, db, run_jobs, tenant):
    sink = InboxSink(app.extensions["coachwire.inbox"], "acme", stop=threading.Event())
    frame = json.dumps(transcript("c-listen", [("customer", CUSTOMER), ("agent", AGENT)]))
    sink(frame)
    with app.app_context():
        from extension.platform.queue import get_dispatcher
        from handlers import jobs

        get_dispatcher().enqueue(jobs.drain_inbox, "acme")
    run_jobs()
    assert_clean(stored_everywhere(db, "c-listen"))


DOCUMENT = {"conversationId": "c-sta", "communicationId": "s1", "mediaType": "call", "transcripts": [{
    "transcriptId": "t1", "language": "en-us", "phrases": [
        {"text": CUSTOMER, "startTimeMs": 1000, "duration": {"milliseconds": 3000},
         "participantPurpose": "external"},
        {"text": AGENT, "startTimeMs": 5000, "duration": {"milliseconds": 2000},
         "participantPurpose": "internal"}]}]}


@pytest.fixture
def host(app, tenant):
    hosts.forget()
    lists_service.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "tok-1", "expires_in": 86400})
        for conversation_id in ("c-sta", "c-sync"):
            rsps.get(f"{API}/api/v2/speechandtextanalytics/conversations/{conversation_id}/communications/"
                     f"s1/transcripturl", json={"url": S3 + "?X-Amz-Signature=abc"})
        rsps.get(S3, json=DOCUMENT)
        yield rsps
    hosts.forget()


def test_sta_transcript_fetch(app, db, host):
    with app.app_context():
        assert transcripts_fetch.fetch_transcripts("acme", "c-sta", ["s1"]) == "stored"
    assert_clean(stored_everywhere(db, "c-sta"))


def test_history_sync_fetches(app, db, run_jobs, host):
    details = {"participants": [{"purpose": "agent",
                                 "sessions": [{"sessionId": "s1", "mediaType": "voice"}]}]}
    with app.app_context():
        ids = transcripts_fetch.communication_ids_from_details(details)
        assert transcripts_fetch.enqueue_fetches("acme", {"c-sync": ids}) == 1
    run_jobs()
    assert_clean(stored_everywhere(db, "c-sync"))


def test_there_is_one_redactor():
    """The pipeline's module keeps no redactor of its own (the crude one blanked order numbers)."""
    from extension.text import scoring
    from extension.text.domain import pii

    assert scoring.redact is pii.redact
    assert not hasattr(scoring, "PHONE") and not hasattr(scoring, "CARD")
