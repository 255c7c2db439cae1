"""Worker side of the inbox: drain accepted events in batches, sweep, replay.

One job per event cannot keep up with a busy tenant (an RQ job costs ~2.5-10 ms of overhead), so
a committed request only sets a per-tenant "drain pending" flag and, if it was not set, enqueues
one drain job. The drain job claims rows in batches (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers share a backlog), processes each under a savepoint, and marks the batch in one
commit. A worker killed mid-batch rolls its transaction back, leaving the rows `received`; the
sweeper re-enqueues any tenant with rows waiting longer than a grace period.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from extension.coaching import booking, transcripts_fetch
from extension.coaching.interactions import BatchContext, release_transcript_fallbacks
from extension.platform import audit, metrics
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.models.inbox import InboxEvent
from extension.platform.queue import get_dispatcher, job
from extension.quality import host_evaluations
from extension.text import interaction_analytics
from handlers import routes
from handlers.normalize import DomainEvent

log = logging.getLogger("coachwire.jobs")
BATCH = 500
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (2, 10, 60, 300)
FLAG_TTL = 120
TRANSCRIBED = "coachwire.transcribed"  # session.info key: conversations whose transcript grew
ENDED_VOICE = "coachwire.ended_voice"  # session.info key: voice conversation -> STA communication ids
ANALYSIS_CHUNK = 100
# Transcripts are scored (CPU, a model) at the end of the batch, inside its write transaction:
# a batch takes at most this many, so the lock is never held for 500 scorings; the rest of the
# claimed rows go in the next batch, committed separately.
TRANSCRIPTS_PER_BATCH = 20
MORE = "coachwire.more"  # session.info key: the batch was cut short, rows are left to drain


def notify_tenants(app, tenant_ids) -> list[str]:
    """Enqueue a drain for each tenant that has none queued (its drain flag); the tenants it
    enqueued for."""
    dispatcher = get_dispatcher(app)
    enqueued = []
    for tenant_id in tenant_ids:
        if dispatcher.claim_flag(f"drain:{tenant_id}", FLAG_TTL):
            try:
                dispatcher.enqueue(drain_inbox, tenant_id)
            except Exception:
                # no job behind the flag: without this, the tenant's next events would find it
                # set and wait out its TTL (or the sweep) although Redis is back
                with contextlib.suppress(Exception):
                    dispatcher.release_flag(f"drain:{tenant_id}")
                raise
            enqueued.append(tenant_id)
    return enqueued


@job(queue="events", retries=3, intervals=(1, 5, 30))
def drain_inbox(tenant_id: str) -> int:
    """Process every due `received` row of one tenant; returns how many rows it handled."""
    get_dispatcher().release_flag(f"drain:{tenant_id}")
    db, total, transcribed, ended, mirror = get_db(), 0, set(), {}, False
    while True:
        with db.session() as session:
            handled = process_batch(session, tenant_id=tenant_id, limit=BATCH)
            batch = set(session.info.get(TRANSCRIBED, ()))
            batch_ended = dict(session.info.get(ENDED_VOICE, {}))
            batch_mirror = tenant_id in session.info.get(host_evaluations.DUE, ())
            more = bool(session.info.get(MORE))
        transcribed |= batch  # only once the batch is committed
        ended.update(batch_ended)
        mirror = mirror or batch_mirror
        total += handled
        metrics.count_drained(tenant_id, handled)
        if handled < BATCH and not more:
            break
    after_drain(tenant_id, transcribed, ended)
    if mirror:  # host evaluations to fetch: their own job, outside any transaction
        host_evaluations.dispatch(tenant_id)
    log.debug("drained %d events", total)
    return total


def after_drain(tenant_id: str, transcribed: set[str] | None = None,
                ended: dict[str, list[str]] | None = None) -> None:
    """Effects of the committed batches: bookings and recognitions, then the full text analytics
    of new transcripts on its own queue (slower than the pipeline's sentiment, so never in it),
    then STA transcript fetches for ended voice conversations that have no transcript."""
    booking.dispatch_effects(tenant_id)
    ids = sorted(transcribed or ())
    for start in range(0, len(ids), ANALYSIS_CHUNK):
        get_dispatcher().enqueue(interaction_analytics.analyse_conversations, tenant_id,
                                 ids[start:start + ANALYSIS_CHUNK])
    transcripts_fetch.enqueue_fetches(tenant_id, ended or {})


def claim(session: Session, *, tenant_id: str, limit: int) -> list[InboxEvent]:
    return _claim(session, tenant_id=tenant_id, limit=limit)[0]


def _due(tenant_id: str, columns, limit: int, postgres: bool):
    query = (select(*columns)
             .where(InboxEvent.tenant_id == tenant_id, InboxEvent.status == "received",
                    InboxEvent.next_attempt_at <= utcnow())
             .order_by(InboxEvent.id).limit(limit))
    return query.with_for_update(skip_locked=True) if postgres else query


def _claim(session: Session, *, tenant_id: str, limit: int) -> tuple[list[InboxEvent], int]:
    """The due rows of a batch, loaded; and how many rows could not even be loaded (their
    stored payload does not decode): those are marked failed here, alone, so they neither
    stop the batch nor come back to block the next one."""
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        return list(session.scalars(_due(tenant_id, (InboxEvent,), limit, postgres))), 0
    except Exception:
        log.warning("a batch of %s does not load; loading its rows one by one", tenant_id)
    ids = list(session.scalars(_due(tenant_id, (InboxEvent.id,), limit, postgres)))
    rows, broken = [], 0
    for row_id in ids:
        try:
            with session.begin_nested():
                rows.append(session.scalars(select(InboxEvent).where(
                    InboxEvent.id == row_id).execution_options(populate_existing=True)).one())
        except Exception as exc:
            _fail_now(session, tenant_id, row_id, exc)
            broken += 1
    return rows, broken


def _fail_now(session: Session, tenant_id: str, row_id: int, exc: BaseException) -> None:
    """Dead-letter one row that can never be processed (retrying cannot help), audited."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.error("event %s of %s cannot be processed: %s", row_id, tenant_id, error)
    session.execute(update(InboxEvent).where(InboxEvent.id == row_id)
                    .values(status="failed", last_error=error, processed_at=None)
                    .execution_options(synchronize_session=False))
    _audit_failed(session, tenant_id, row_id, error)


def _audit_failed(session: Session, tenant_id: str, row_id: int, error: str) -> None:
    audit.record(session, tenant_id=tenant_id, actor="system:inbox", action="event.failed",
                 subject_type="inbox", subject_id=str(row_id), details={"error": error})


def process_batch(session: Session, *, tenant_id: str, limit: int) -> int:
    """Handle a claimed batch under ONE savepoint (two statements, not two per event); only if
    something raises is the batch redone row by row, each under its own savepoint, so one bad
    event is retried alone while the rest complete."""
    rows, broken = _claim(session, tenant_id=tenant_id, limit=limit)
    rows = _bounded(session, _decodable(session, tenant_id, rows))
    if not rows:
        return broken
    context = _context(session, tenant_id, rows)
    handled: list[bool | None]  # None: failed and set up for retry
    try:
        with session.begin_nested():
            handled = [routes.handle(DomainEvent.from_json(row.payload), context) for row in rows]
    except Exception:
        log.warning("batch of %d for %s failed; retrying row by row", len(rows), tenant_id)
        context = _context(session, tenant_id, rows)
        handled = [_process_row(session, row, context) for row in rows]
    failed = context.finish()
    session.info.setdefault(TRANSCRIBED, set()).update(context.needs_sentiment - set(failed))
    session.info.setdefault(ENDED_VOICE, {}).update(
        (cid, ids) for cid, ids in transcripts_fetch.ended_voice(r.payload for r in rows).items()
        if cid not in failed)
    for index, row in enumerate(rows):
        conversation_id = (row.payload.get("data") or {}).get("conversation_id")
        if conversation_id in failed and handled[index] is not None:
            _retry_later(row, failed[conversation_id])
            handled[index] = None
    for row, outcome in zip(rows, handled, strict=True):
        if outcome is None and row.status == "failed":  # out of attempts: dead-lettered
            _audit_failed(session, tenant_id, row.id, row.last_error or "")
    _mark(session, rows, handled)
    return len(rows) + broken


def _bounded(session: Session, rows: list[InboxEvent]) -> list[InboxEvent]:
    """The head of the batch holding at most TRANSCRIPTS_PER_BATCH transcripts; when rows are
    left out, session.info[MORE] tells the drain to take another batch (they stay `received`)."""
    seen = 0
    for index, row in enumerate(rows):
        if row.type == "conversation.transcript":
            seen += 1
            if seen > TRANSCRIPTS_PER_BATCH:
                session.info[MORE] = True
                return rows[:index]
    return rows


def _decodable(session: Session, tenant_id: str, rows: list[InboxEvent]) -> list[InboxEvent]:
    """Rows whose payload is a domain event; any other is dead-lettered alone (a payload that
    does not decode today will not decode on a retry)."""
    good = []
    for row in rows:
        try:
            DomainEvent.from_json(row.payload)
        except Exception as exc:
            _fail_now(session, tenant_id, row.id, exc)
            session.expire(row)
            continue
        good.append(row)
    return good


def _context(session: Session, tenant_id: str, rows: list[InboxEvent]) -> BatchContext:
    context = BatchContext(session=session, tenant_id=tenant_id)
    context.prefetch({(row.payload.get("data") or {}).get("conversation_id") for row in rows})
    return context


def _process_row(session: Session, row: InboxEvent, context) -> bool | None:
    """True/False when handled (done/ignored); None when it failed and was set up for retry."""
    try:
        with session.begin_nested():
            return routes.handle(DomainEvent.from_json(row.payload), context)
    except Exception as exc:
        log.exception("event %s (%s) failed", row.id, row.type)
        _retry_later(row, exc)
        return None


def _mark(session: Session, rows: list[InboxEvent], handled: list[bool | None]) -> None:
    """Set done/ignored with one UPDATE per status instead of one per row."""
    now = utcnow()
    for status, outcome in (("done", True), ("ignored", False)):
        ids = [row.id for row, result in zip(rows, handled, strict=True) if result is outcome]
        if ids:
            session.execute(update(InboxEvent).where(InboxEvent.id.in_(ids))
                            .values(status=status, processed_at=now)
                            .execution_options(synchronize_session=False))


def _retry_later(row: InboxEvent, exc: Exception) -> None:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    row.processed_at = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    row.status = "received"
    delay = BACKOFF_SECONDS[min(row.attempts - 1, len(BACKOFF_SECONDS) - 1)]
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)


@job(queue="events", retries=0)
def sweep() -> dict:
    """Enqueue the drain of tenants with due rows nobody drains (e.g. Redis was down at
    receipt, or a restarted Redis lost the queued drains): through the drain flag, so a tenant
    whose drain is already queued gets no second one; and unconditionally for rows waiting
    longer than the grace period (a flag left behind by a worker killed in between)."""
    db = get_db()
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config["SETTINGS"].inbox_grace_seconds)
    with db.session() as session:
        oldest = dict(session.execute(
            select(InboxEvent.tenant_id, func.min(InboxEvent.received_at)).where(
                InboxEvent.status == "received", InboxEvent.next_attempt_at <= now)
            .group_by(InboxEvent.tenant_id)).tuples().all())
    dispatcher = get_dispatcher()
    stale = {t for t, received in oldest.items() if received <= cutoff}
    for tenant_id in sorted(stale):
        dispatcher.enqueue(drain_inbox, tenant_id)
    tenant_ids = stale | set(notify_tenants(current_app, sorted(set(oldest) - stale)))
    with db.session() as session:
        grace = timedelta(seconds=current_app.config["SETTINGS"].sta_grace_seconds)
        released = release_transcript_fallbacks(session, grace=grace)
    for tenant_id in released:
        booking.dispatch_effects(tenant_id)
    effects = booking.sweep_effects()
    transcripts = transcripts_fetch.enqueue_due()  # STA transcript fetches whose next try is due
    mirrors = host_evaluations.sweep_due()  # host evaluations due to be mirrored
    return {"tenants": sorted(tenant_ids), "effects": effects, "transcripts": transcripts,
            "mirrors": mirrors}


def replay(*, event_id: int | None = None, failed: bool = False,
           tenant_id: str | None = None) -> int:
    """Put dead-lettered (or one given) rows back to `received` and enqueue their drains."""
    db = get_db()
    query = update(InboxEvent).values(status="received", attempts=0, next_attempt_at=utcnow(),
                                      last_error=None)
    if event_id is not None:
        query = query.where(InboxEvent.id == event_id)
    elif failed:
        query = query.where(InboxEvent.status == "failed")
    else:
        raise ValueError("give an event id or failed=True")
    if tenant_id:
        query = query.where(InboxEvent.tenant_id == tenant_id)
    with db.session() as session:
        count = session.execute(query.returning(InboxEvent.tenant_id)).all()
        per_tenant = Counter(row[0] for row in count)
        for tenant_id_, replayed in sorted(per_tenant.items()):
            audit.record(session, tenant_id=tenant_id_, actor="system:cli",
                         action="events.replayed", subject_type="inbox",
                         subject_id=str(event_id) if event_id is not None else "failed",
                         details={"count": replayed})
    for tenant_id_ in per_tenant:
        get_dispatcher(current_app).enqueue(drain_inbox, tenant_id_)
    return len(count)
