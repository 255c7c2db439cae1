"""The worker side of the inbox: retries with backoff, dead letters without stalling the batch,
replay, the sweeper for rows whose job was lost, `ignored` for unhandled types, and order-free
merging of one conversation's events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from extension.analytics.models.interactions import Interaction
from extension.coaching import automation as coaching
from extension.coaching import interactions
from extension.coaching.models import Flag
from extension.platform.models._types import utcnow
from extension.platform.models.inbox import InboxEvent
from extension.platform.queue import get_dispatcher
from handlers import jobs, normalize, parse
from handlers.inbox import event_row
from tests.helpers import dumps, notification, sentiment, signed_headers, transcript, user_end

ENDED_AT_MS = 1_767_000_000_000  # one fixed end time, so every permutation builds equal events
AGENT_RUDE = "This is useless, terrible, awful. I hate this. Stupid question."
CUSTOMER_UPSET = "This is awful, I am furious, worst service ever, terrible, horrible."


@pytest.fixture
def settings(settings):
    """Score transcripts with the lexicon model: these tests are about merging and retries, not
    the model, and must stay fast whichever default model is installed."""
    return settings.with_overrides(sentiment_model="vader")


def deliver(client, tenant, messages: list[dict]) -> None:
    tenant_id, secret = tenant
    body = dumps({"events": messages})
    response = client.post(f"/webhooks/{tenant_id}", data=body,
                           headers=signed_headers(secret, body))
    assert response.status_code == 202, response.get_data(as_text=True)


def drain(app, run_jobs, tenant_id: str) -> None:
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
    run_jobs()


def rows(db, **where) -> list[InboxEvent]:
    with db.session() as session:
        query = select(InboxEvent).order_by(InboxEvent.id)
        for name, value in where.items():
            query = query.where(getattr(InboxEvent, name) == value)
        return list(session.scalars(query))


def row_for(db, conversation_id: str, event_type: str) -> InboxEvent:
    [row] = [r for r in rows(db, subject=conversation_id) if r.type == event_type]
    return row


def interaction(db, tenant_id: str, conversation_id: str) -> Interaction | None:
    with db.session() as session:
        return session.get(Interaction, (tenant_id, conversation_id))


def make_due(db, row_id: int) -> None:
    """Stand in for the backoff delay passing."""
    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.id == row_id)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def fail_for(monkeypatch, conversation_id: str, *, times: int | None = None) -> list[int]:
    """Make the coaching evaluation raise for one conversation (all others pass through);
    after `times` failures it recovers. Returns the list of calls that raised, to count them."""
    real, raised = coaching.evaluate_interaction, []

    def flaky(interaction_, context):
        if interaction_.conversation_id == conversation_id and (times is None
                                                                 or len(raised) < times):
            raised.append(1)
            raise RuntimeError(f"policy engine crashed on {conversation_id}")
        return real(interaction_, context)

    monkeypatch.setattr(coaching, "evaluate_interaction", flaky)
    return raised


# ------------------------------------------------------------------ retries and dead letters


def test_a_failing_event_backs_off_then_dead_letters_while_the_batch_goes_on(
        app, client, db, run_jobs, tenant, monkeypatch):
    tenant_id, _ = tenant
    fail_for(monkeypatch, "c-bad")
    deliver(client, tenant, [sentiment("c-ok-1", -20), sentiment("c-bad", -20),
                             user_end("c-ok-2", "agent-2")])
    started = utcnow()
    run_jobs()
    finished = utcnow()

    bad = row_for(db, "c-bad", "conversation.sentiment")
    assert (bad.status, bad.attempts) == ("received", 1)
    assert "policy engine crashed on c-bad" in bad.last_error
    first_delay = timedelta(seconds=jobs.BACKOFF_SECONDS[0])
    assert started + first_delay <= bad.next_attempt_at <= finished + first_delay
    assert {r.subject: r.status for r in rows(db) if r.subject != "c-bad"} == {
        "c-ok-1": "done", "c-ok-2": "done"}
    assert interaction(db, tenant_id, "c-ok-1").customer_sentiment == pytest.approx(-0.2)
    assert interaction(db, tenant_id, "c-ok-2").agent_id == "agent-2"

    drain(app, run_jobs, tenant_id)  # not due yet: the backoff is respected
    assert row_for(db, "c-bad", "conversation.sentiment").attempts == 1

    previous = bad.next_attempt_at
    for attempt in range(2, jobs.MAX_ATTEMPTS + 1):
        make_due(db, bad.id)
        before = utcnow()
        drain(app, run_jobs, tenant_id)
        bad = row_for(db, "c-bad", "conversation.sentiment")
        assert bad.attempts == attempt
        if attempt < jobs.MAX_ATTEMPTS:
            assert bad.status == "received"
            delay = jobs.BACKOFF_SECONDS[min(attempt - 1, len(jobs.BACKOFF_SECONDS) - 1)]
            assert bad.next_attempt_at >= before + timedelta(seconds=delay)
            assert bad.next_attempt_at > previous  # the delay grows
            previous = bad.next_attempt_at
    assert bad.status == "failed"
    assert bad.processed_at is None


def test_replay_failed_reprocesses_dead_letters(app, client, db, run_jobs, tenant, monkeypatch):
    tenant_id, _ = tenant
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "MAX_ATTEMPTS", 1)
        fail_for(patch, "c-bad")
        deliver(client, tenant, [user_end("c-bad", "agent-1"), sentiment("c-bad", -30)])
        run_jobs()
    assert [r.status for r in rows(db)] == ["failed", "failed"]

    with app.app_context():
        assert jobs.replay(failed=True) == 2
    run_jobs()
    assert [(r.status, r.attempts, r.last_error) for r in rows(db)] == [("done", 0, None)] * 2
    merged = interaction(db, tenant_id, "c-bad")
    assert (merged.agent_id, merged.customer_sentiment) == ("agent-1", pytest.approx(-0.3))


def test_replay_of_one_event_leaves_other_dead_letters_alone(app, client, db, run_jobs, tenant,
                                                             monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "MAX_ATTEMPTS", 1)
        fail_for(patch, "c-bad")
        deliver(client, tenant, [sentiment("c-bad", -30), user_end("c-bad", "agent-1")])
        run_jobs()
    first, _second = rows(db)
    with app.app_context():
        assert jobs.replay(event_id=first.id) == 1
    run_jobs()
    assert [r.status for r in rows(db)] == ["done", "failed"]


def test_a_failed_merge_does_not_swallow_later_events_of_the_same_conversation(
        app, client, db, run_jobs, tenant, monkeypatch):
    """The first event's savepoint rolls back after it created the interaction; the second event
    of that conversation in the same batch must still be stored, and the retried first event
    must merge with it. (It fails twice: once in the whole-batch pass, once row by row.)"""
    tenant_id, _ = tenant
    real, raised = interactions.apply_sentiment, []

    def flaky(context, data):
        if data["conversation_id"] == "c-flaky" and len(raised) < 2:
            context.interaction("c-flaky")  # the merge had begun when it failed
            raised.append(1)
            raise RuntimeError("lost the connection mid-merge")
        return real(context, data)

    monkeypatch.setattr(interactions, "apply_sentiment", flaky)
    deliver(client, tenant, [sentiment("c-flaky", -30), user_end("c-flaky", "agent-1")])
    run_jobs()
    assert raised == [1, 1]
    assert [r.status for r in rows(db)] == ["received", "done"]
    stored = interaction(db, tenant_id, "c-flaky")
    assert stored is not None and stored.agent_id == "agent-1"

    make_due(db, rows(db)[0].id)
    drain(app, run_jobs, tenant_id)
    assert [r.status for r in rows(db)] == ["done", "done"]
    merged = interaction(db, tenant_id, "c-flaky")
    assert (merged.agent_id, merged.customer_sentiment) == ("agent-1", pytest.approx(-0.3))


def test_a_failed_evaluation_retries_every_event_of_that_conversation_only(
        client, db, run_jobs, tenant, monkeypatch):
    fail_for(monkeypatch, "c-bad")
    deliver(client, tenant, [user_end("c-bad", "agent-1"), sentiment("c-bad", -30),
                             user_end("c-ok", "agent-2"), sentiment("c-ok", -30)])
    run_jobs()
    assert {(r.subject, r.status, r.attempts) for r in rows(db)} == {
        ("c-bad", "received", 1), ("c-ok", "done", 0)}


# ------------------------------------------------------------------ the sweeper


def insert_received(db, tenant_id: str, message: dict, *, age: timedelta) -> int:
    """An accepted row whose drain job never reached the queue (Redis down at receipt)."""
    [event] = normalize.normalize_all(parse.parse_body(dumps(message)), webhook_id=None)
    row = event_row(tenant_id, event)
    row["received_at"] = row["next_attempt_at"] = utcnow() - age
    with db.session() as session:
        stored = InboxEvent(**row)
        session.add(stored)
        session.flush()
        return stored.id


def grace(app) -> timedelta:
    return timedelta(seconds=app.config["SETTINGS"].inbox_grace_seconds)


def test_sweep_re_enqueues_rows_stranded_past_the_grace_period(app, db, run_jobs, tenant):
    """Past the grace period a tenant's drain is enqueued whatever its flag says (a worker killed
    between taking the job and releasing the flag leaves one behind); within it, only when no
    drain is queued for the tenant."""
    from extension.platform import tenants as tenant_service

    tenant_id, _ = tenant
    with db.session() as session:
        tenant_service.create(session, app.extensions["coachwire.box"], name="Fresh",
                              tenant_id="fresh", api_base="https://api.example.test",
                              login_base="https://login.example.test")
    old = insert_received(db, tenant_id, sentiment("c-old", -40),
                          age=grace(app) + timedelta(seconds=5))
    young = insert_received(db, "fresh", sentiment("c-young", -40), age=timedelta(seconds=1))
    run_jobs()
    assert [r.status for r in rows(db)] == ["received", "received"]  # no job: nothing happens

    dispatcher = app.extensions["coachwire.queue"]
    assert dispatcher.claim_flag("drain:fresh", jobs.FLAG_TTL)  # fresh's drain is queued already
    with app.app_context():
        swept = jobs.sweep()
    assert swept["tenants"] == [tenant_id]  # within its grace and its drain queued: no second one
    run_jobs()
    statuses = {r.id: r.status for r in rows(db)}
    assert statuses == {old: "done", young: "received"}
    assert interaction(db, tenant_id, "c-old").customer_sentiment == pytest.approx(-0.4)

    # no drain queued for it (Redis was away, or restarted empty): drained now, not after the grace
    dispatcher.release_flag("drain:fresh")
    with app.app_context():
        assert jobs.sweep()["tenants"] == ["fresh"]
    run_jobs()
    assert {r.id: r.status for r in rows(db)} == {old: "done", young: "done"}


def test_an_event_accepted_while_the_queue_is_down_is_answered_and_later_swept(
        app, client, db, run_jobs, tenant, monkeypatch):
    tenant_id, _ = tenant
    dispatcher = app.extensions["coachwire.queue"]

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    with monkeypatch.context() as patch:
        patch.setattr(dispatcher, "claim_flag", down)
        patch.setattr(dispatcher, "enqueue", down)
        deliver(client, tenant, [sentiment("c-lost", -40)])  # 202: the row is committed first
    run_jobs()
    [row] = rows(db)
    assert row.status == "received"

    with db.session() as session:  # the grace period passes
        session.execute(update(InboxEvent).values(
            received_at=utcnow() - grace(app) - timedelta(seconds=1)))
    with app.app_context():
        assert jobs.sweep()["tenants"] == [tenant_id]
    run_jobs()
    assert rows(db)[0].status == "done"


# ------------------------------------------------------------------ unhandled types


def test_unknown_and_unhandled_event_types_are_marked_ignored(client, db, run_jobs, tenant):
    deliver(client, tenant, [
        notification("v2.routing.queues.q-1.members", {"id": "x"}),  # a topic we do not map
        notification("v2.users.u-1.presence", {  # mapped, no handler
            "presenceDefinition": {"id": "p-1", "systemPresence": "Available"}}),
        sentiment("c-1", -20),
    ])
    run_jobs()
    found = {r.type: (r.status, r.attempts, r.processed_at is not None) for r in rows(db)}
    assert found == {"unrouted": ("ignored", 0, True), "user.changed": ("ignored", 0, True),
                     "conversation.sentiment": ("done", 0, True)}


# ------------------------------------------------------------------ order of arrival


def conversation_messages(conversation_id: str, agent_id: str, *, sta_score: float = -80,
                          customer_text: str = CUSTOMER_UPSET) -> dict[str, dict]:
    ended = user_end(conversation_id, agent_id, talk_ms=240_000, hold_ms=15_000)
    ended["eventBody"]["eventTime"] = ENDED_AT_MS
    acw = notification(f"v2.detail.events.conversation.{conversation_id}.acw", {
        "eventTime": ENDED_AT_MS + 30_000, "conversationId": conversation_id, "userId": agent_id,
        "queueId": "q-1", "mediaType": "voice", "wrapupCode": "billing",
        "wrapupDurationMs": 30_000})
    words = transcript(conversation_id, [("customer", customer_text), ("agent", AGENT_RUDE)])
    return {"user.end": ended, "acw": acw, "transcript": words,
            "sentiment": sentiment(conversation_id, sta_score)}


def snapshot(db, tenant_id: str, conversation_id: str) -> dict:
    """Everything the merge decides, without the ids that differ per conversation."""
    found = interaction(db, tenant_id, conversation_id)
    assert found is not None, conversation_id
    with db.session() as session:
        flags = sorted(session.execute(select(Flag.rule_id, Flag.action).where(
            Flag.tenant_id == tenant_id, Flag.conversation_id == conversation_id)).all())
    columns = [c.name for c in Interaction.__table__.columns
               if c.name not in ("tenant_id", "conversation_id", "agent_id", "updated_at")]
    return {**{name: getattr(found, name) for name in columns}, "flags": flags}


ORDERS = list(itertools.permutations(["user.end", "acw", "transcript", "sentiment"]))


@pytest.mark.parametrize("delivery", ["one-batch", "one-drain-per-event"])
def test_any_arrival_order_merges_into_the_same_interaction(client, db, run_jobs, tenant,
                                                            delivery):
    tenant_id, _ = tenant
    plans = [(f"c-{i}", order, conversation_messages(f"c-{i}", f"agent-{i}"))
             for i, order in enumerate(ORDERS)]
    if delivery == "one-batch":
        deliver(client, tenant, [messages[part] for _, order, messages in plans for part in order])
        run_jobs()
    else:
        for position in range(4):
            deliver(client, tenant, [messages[order[position]] for _, order, messages in plans])
            run_jobs()
    assert {r.status for r in rows(db)} == {"done"}

    reference = snapshot(db, tenant_id, plans[0][0])
    assert reference["t_handle_ms"] == 240_000 + 15_000 + 30_000
    assert (reference["wrapup_code"], reference["channel"]) == ("billing", "voice")
    assert reference["ended_at"] == datetime.fromtimestamp(ENDED_AT_MS / 1000, tz=UTC)
    assert reference["customer_sentiment"] == pytest.approx(-0.8)  # the STA score wins
    assert reference["agent_sentiment"] < -0.3
    assert reference["outcomes"] == ["negative-interaction"]
    assert reference["flags"] == [("negative-interaction", "flag")]
    for conversation_id, order, _ in plans[1:]:
        assert snapshot(db, tenant_id, conversation_id) == reference, order


def test_order_does_not_matter_when_transcript_and_sta_disagree(client, db, run_jobs, tenant):
    """Once the host is known to score conversations, our transcript score waits for it."""
    tenant_id, _ = tenant
    early = conversation_messages("c-early", "agent-1", sta_score=-50)
    late = conversation_messages("c-late", "agent-2", sta_score=-50)
    for early_part, late_part in zip(("sentiment", "user.end", "acw", "transcript"),
                                     ("user.end", "acw", "transcript", "sentiment"), strict=True):
        deliver(client, tenant, [early[early_part], late[late_part]])
        run_jobs()
    assert snapshot(db, tenant_id, "c-early") == snapshot(db, tenant_id, "c-late")


def test_without_a_host_score_the_transcript_score_is_used_after_the_grace_period(
        app, client, db, run_jobs, tenant):
    """The host scores conversations (one STA event seen), but not this one: after the grace
    period the sweeper evaluates it with our own score of the customer's lines."""
    tenant_id, _ = tenant
    deliver(client, tenant, list(conversation_messages("c-scored", "agent-1", sta_score=10).values()))
    orphan = conversation_messages("c-orphan", "agent-2", sta_score=-50)
    deliver(client, tenant, [orphan["user.end"], orphan["acw"], orphan["transcript"]])
    run_jobs()
    waiting = interaction(db, tenant_id, "c-orphan")
    assert waiting.customer_sentiment is None and waiting.transcript_customer_sentiment < -0.6
    assert waiting.outcomes == []  # held back: the host's score may still come

    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(sta_grace_seconds=0)
    with app.app_context():
        jobs.sweep()
    run_jobs()
    released = interaction(db, tenant_id, "c-orphan")
    assert released.fallback_after is not None
    assert released.outcomes == ["negative-interaction"]
    with db.session() as session:
        assert session.scalar(select(Flag.rule_id).where(Flag.conversation_id == "c-orphan")) \
            == "negative-interaction"


# ------------------------------------------------------------------ rows that can never be processed


def insert_raw(db, tenant_id: str, delivery_id: str, payload_json: str) -> int:
    """A stored row whose payload text is given as is (what an older receiver let through)."""
    from sqlalchemy import bindparam, text

    from extension.platform.models._types import UTCDateTime

    now = utcnow()
    statement = text(
        "INSERT INTO inbox (tenant_id, delivery_id, type, payload, status, attempts, "
        "received_at, next_attempt_at) VALUES (:t, :d, 'conversation.sentiment', "
        + ("CAST(:p AS jsonb)" if db.is_postgres else ":p")
        + ", 'received', 0, :now, :now) RETURNING id"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    with db.session() as session:
        return session.execute(statement, {"t": tenant_id, "d": delivery_id, "p": payload_json,
                                           "now": now}).scalar_one()


def test_rows_that_cannot_be_decoded_fail_alone_and_the_batch_drains(
        app, client, db, run_jobs, tenant):
    """A payload nested far deeper than the receiver now allows, and one that is JSON but no
    domain event, sat at the head of the tenant's queue: every drain raised on them and the 44
    events behind them waited for good. Each is now dead-lettered alone, with its error, and
    audited; everything else in the batch is processed."""
    from extension.platform.models.audit import AuditEntry

    tenant_id, _ = tenant
    deep = insert_raw(db, tenant_id, "deep-1", '{"x":' * 5000 + "1" + "}" * 5000)
    not_event = insert_raw(db, tenant_id, "odd-1", '{"neither": "a domain event"}')
    deliver(client, tenant, [sentiment(f"c-{i}", -20) for i in range(44)])
    drain(app, run_jobs, tenant_id)

    with db.session() as session:
        statuses = dict(session.execute(select(InboxEvent.id, InboxEvent.status)).all())
        errors = dict(session.execute(select(InboxEvent.id, InboxEvent.last_error)).all())
        failed = session.scalars(select(AuditEntry.subject_id)
                                 .where(AuditEntry.action == "event.failed")).all()
    assert statuses.pop(deep) == "failed" and statuses.pop(not_event) == "failed"
    assert "RecursionError" in errors[deep] and "KeyError" in errors[not_event]
    assert sorted(failed) == sorted([str(deep), str(not_event)])
    assert len(statuses) == 44 and set(statuses.values()) == {"done"}
    assert interaction(db, tenant_id, "c-43").customer_sentiment == pytest.approx(-0.2)


def test_transcripts_are_scored_in_short_write_transactions(app, client, db, run_jobs, tenant,
                                                            monkeypatch):
    """Scoring transcripts is CPU work (a model) done inside the batch's write transaction; a
    batch of 45 transcripts used to be scored in one go with the lock held throughout. A batch
    now takes at most TRANSCRIPTS_PER_BATCH of them and commits; the rest follow in the next
    batches of the same drain, and every conversation is scored."""
    from extension.text import scoring

    tenant_id, _ = tenant
    sizes: list[int] = []
    real = scoring.party_scores_many

    def counted(transcripts):
        sizes.append(len(transcripts))
        return real(transcripts)

    monkeypatch.setattr(scoring, "party_scores_many", counted)
    deliver(client, tenant, [transcript(f"t-{i}", [("customer", CUSTOMER_UPSET),
                                                   ("agent", AGENT_RUDE)]) for i in range(45)])
    drain(app, run_jobs, tenant_id)
    assert sum(sizes) == 45
    assert max(sizes) <= jobs.TRANSCRIPTS_PER_BATCH
    assert {r.status for r in rows(db)} == {"done"}
    assert all(interaction(db, tenant_id, f"t-{i}").agent_sentiment is not None
               for i in range(45))
