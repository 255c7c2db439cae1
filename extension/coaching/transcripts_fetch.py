"""Voice transcripts from the host's Speech and Text Analytics (STA) transcript URL.

Live transcription notifications are optional (and need their own subscription); STA keeps a
transcript of every analysed voice communication. The communication id is the Genesys session
id: ``sessionId`` of the live ``user.end`` event, or ``participants[].sessions[].sessionId`` in
conversation details. After the drain commits, each ended voice conversation without a stored
transcript gets a ``sta_transcript_fetches`` row and one ``fetch_transcripts`` job (deduplicated
by a flag and the job id, per attempt), which gets the pre-signed URL, downloads the document,
stores it redacted where live transcripts go (``interactions.transcript``) and analyses it with
the tenant's phrase lists.

Transcripts appear minutes after the call, so a new row is first due ``sta_fetch_delay_seconds``
(default 3 minutes) after the drain saw the call end, and the sweep queues it then; asking at
once would cost the tenant's host budget a 404 for nearly every call. The sweep queues at most
``PER_TENANT_PER_SWEEP`` tries per tenant (with the 15 s sweep, 60 host requests a minute, a
fifth of the 300/min budget that bookings and syncs share); a busier tenant's fetches wait
their turn (live transcription is the better source at that volume).

A 404 ("not ready") or a transient failure moves the row's ``due_at`` by ``INTERVALS`` (1, 5, 15
minutes) and the periodic sweep re-queues due rows; after the last interval the row is
``gave_up``. The backoff lives in the row, not in the queue's retry, so it survives a lost Redis
and never parks a worker (nor the embedded queue) for minutes.
A 403 means no STA licence or permission: recorded once per tenant (``tenant_sta_status`` +
audit ``sta.unavailable``), and nothing is fetched or queued for that tenant for ``PAUSE``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.errors import Forbidden, NotFound, Transient
from extension.analytics.models.interactions import Interaction
from extension.coaching import booking
from extension.coaching.interactions import BatchContext, apply_transcript
from extension.platform import audit, context, hosts
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.platform.queue import get_dispatcher, job
from extension.text import interaction_analytics
from extension.text import scoring as text
from extension.text.domain.transcripts import from_genesys
from extension.text.models import StaTranscriptFetch, TenantStaStatus

log = logging.getLogger("coachwire.transcripts")
PAUSE = timedelta(hours=6)
INTERVALS = (60, 300, 900)  # seconds before the 2nd, 3rd and 4th try
FLAG_TTL = 3600
SWEEP_LIMIT = 500
PER_TENANT_PER_SWEEP = 15
VOICE = "voice"


def ended_voice(payloads: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """conversation id -> communication ids, from normalized events: the ``user_end`` parts of
    voice ``conversation.ended`` events that carry a communication id."""
    found: dict[str, list[str]] = {}
    for payload in payloads:
        data = payload.get("data") or {}
        if payload.get("type") != "conversation.ended" or data.get("channel") != VOICE:
            continue
        cid, communication = data.get("conversation_id"), data.get("communication_id")
        if cid and communication and communication not in found.setdefault(cid, []):
            found[cid].append(communication)
    return {cid: ids for cid, ids in found.items() if ids}


def communication_ids_from_details(conversation: Mapping[str, Any]) -> list[str]:
    """The voice session ids of a conversation details record (``AnalyticsConversation``):
    ``participants[].sessions[].sessionId`` where ``mediaType`` is ``voice``, agent side first."""
    ordered = sorted(conversation.get("participants") or [],
                     key=lambda p: p.get("purpose") not in ("agent", "user"))
    ids: list[str] = []
    for participant in ordered:
        for session in participant.get("sessions") or []:
            sid = session.get("sessionId")
            if sid and str(session.get("mediaType") or "").lower() == VOICE and sid not in ids:
                ids.append(sid)
    return ids


def sta_paused(session: Session, tenant_id: str) -> bool:
    status = session.get(TenantStaStatus, tenant_id)
    return status is not None and status.unavailable_until > utcnow()


def job_id(tenant_id: str, conversation_id: str, attempt: int) -> str:
    """The RQ job id of one try (RQ ids must not contain a colon)."""
    return f"sta-fetch.{tenant_id}.{conversation_id}.{attempt}".replace(":", "_")


def _enqueue(tenant_id: str, conversation_id: str, communication_ids: list[str], attempt: int) -> bool:
    dispatcher = get_dispatcher()
    if not dispatcher.claim_flag(f"sta-fetch:{tenant_id}:{conversation_id}:{attempt}", FLAG_TTL):
        return False
    dispatcher.enqueue(fetch_transcripts, tenant_id, conversation_id, list(communication_ids),
                       job_id=job_id(tenant_id, conversation_id, attempt))
    return True


def enqueue_fetches(tenant_id: str, ended: Mapping[str, list[str]]) -> int:
    """Queue a fetch for each ended voice conversation with no stored transcript and no fetch
    under way; nothing while the tenant's STA is paused. Returns how many were queued. Also the
    entry point for the history sync (``communication_ids_from_details`` gives the ids)."""
    if not ended:
        return 0
    with get_db().session() as session:
        if sta_paused(session, tenant_id):
            return 0
        wanted = sorted(ended)
        have = set(session.scalars(select(Interaction.conversation_id).where(
            Interaction.tenant_id == tenant_id, Interaction.conversation_id.in_(wanted),
            Interaction.transcript.is_not(None))))
        known = set(session.scalars(select(StaTranscriptFetch.conversation_id).where(
            StaTranscriptFetch.tenant_id == tenant_id, StaTranscriptFetch.conversation_id.in_(wanted))))
        new = [cid for cid in wanted if cid not in have | known]
        delay = timedelta(seconds=context.settings().sta_fetch_delay_seconds)
        session.add_all(StaTranscriptFetch(tenant_id=tenant_id, conversation_id=cid, attempts=0,
                                           communication_ids=list(ended[cid]), status="pending",
                                           due_at=utcnow() + delay) for cid in new)
    if delay:
        return 0  # the sweep queues them when due
    return sum(_enqueue(tenant_id, cid, ended[cid], 0) for cid in new)


def enqueue_due(*, limit: int = SWEEP_LIMIT) -> int:
    """The sweep's part: queue the fetches whose next try is due (tenants not paused), oldest
    first and at most ``PER_TENANT_PER_SWEEP`` per tenant. Rows are read per tenant, so one
    tenant's backlog cannot keep another's due rows out of the window."""
    now, todo = utcnow(), []
    pending = (StaTranscriptFetch.status == "pending", StaTranscriptFetch.due_at <= now)
    with get_db().session() as session:
        tenant_ids = session.scalars(select(StaTranscriptFetch.tenant_id).where(*pending)
                                     .distinct().order_by(StaTranscriptFetch.tenant_id)).all()
        for tenant_id in tenant_ids:
            if sta_paused(session, tenant_id):
                continue
            rows = session.scalars(select(StaTranscriptFetch).where(
                StaTranscriptFetch.tenant_id == tenant_id, *pending)
                .order_by(StaTranscriptFetch.due_at).limit(min(limit, 4 * PER_TENANT_PER_SWEEP)))
            todo += [(r.tenant_id, r.conversation_id, list(r.communication_ids), r.attempts)
                     for r in rows]
    # tries newly queued per tenant (one already in the queue does not count)
    queued: Counter[str] = Counter()
    for item in todo:
        if queued[item[0]] < PER_TENANT_PER_SWEEP and _enqueue(*item):
            queued[item[0]] += 1
    return sum(queued.values())


@job(queue="default", retries=0)
def fetch_transcripts(tenant_id: str, conversation_id: str, communication_ids: list[str]) -> str:
    """One try at one voice conversation's STA transcript. Returns what happened: ``stored``,
    ``present`` (a transcript arrived meanwhile), ``not-ready`` (404, tried again later),
    ``unavailable`` (403), ``paused``, ``no-url`` or ``gave_up``."""
    with get_db().session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or sta_paused(session, tenant_id):
            return "paused"
        interaction = session.get(Interaction, (tenant_id, conversation_id))
        present = interaction is not None and bool(interaction.transcript)
        client = None if present else hosts.genesys_for(tenant)
    if client is None:
        return _finish(tenant_id, conversation_id, "done", outcome="present")
    try:
        documents = [d for d in (client.sta.transcript(conversation_id, m) for m in communication_ids) if d]
    except (NotFound, Transient) as exc:
        return _later(tenant_id, conversation_id, communication_ids, exc)
    except Forbidden as exc:
        _mark_unavailable(tenant_id, conversation_id, exc)
        return _finish(tenant_id, conversation_id, "unavailable", outcome="unavailable")
    if not documents:
        return _finish(tenant_id, conversation_id, "done", outcome="no-url")
    outcome = _store(tenant_id, conversation_id, documents)
    return _finish(tenant_id, conversation_id, "done", outcome=outcome)


def _row(session: Session, tenant_id: str, conversation_id: str,
         communication_ids: list[str] | None = None) -> StaTranscriptFetch:
    row = session.get(StaTranscriptFetch, (tenant_id, conversation_id))
    if row is None:  # queued by hand or by the sync without a row
        row = StaTranscriptFetch(tenant_id=tenant_id, conversation_id=conversation_id, attempts=0,
                                 communication_ids=list(communication_ids or []), status="pending",
                                 due_at=utcnow())
        session.add(row)
    return row


def _finish(tenant_id: str, conversation_id: str, status: str, *, outcome: str) -> str:
    with get_db().session() as session:
        row = _row(session, tenant_id, conversation_id)
        row.status = status
    return outcome


def _later(tenant_id: str, conversation_id: str, communication_ids: list[str], error: Exception) -> str:
    """Not ready (or a transient failure): the next try after the next interval, or give up."""
    with get_db().session() as session:
        row = _row(session, tenant_id, conversation_id, communication_ids)
        row.attempts += 1
        row.last_error = str(error)[:500]
        if row.attempts > len(INTERVALS):
            row.status = "gave_up"
            log.info("no STA transcript for %s after %d tries", conversation_id, row.attempts)
            return "gave_up"
        row.due_at = utcnow() + timedelta(seconds=INTERVALS[row.attempts - 1])
    return "not-ready"


def _utterances(documents: list[Any]) -> list[dict[str, Any]]:
    merged = {"transcripts": [t for d in documents for t in (d or {}).get("transcripts") or []]}
    return from_genesys(merged)


def _store(tenant_id: str, conversation_id: str, documents: list[Any]) -> str:
    """Store the transcript through the pipeline's own path, as a live transcript would be:
    redacted, scored per party, and the conversation's coaching policies evaluated again (the
    agent side of the sentiment may only be known now); then its text analytics."""
    phrases = [u for u in _utterances(documents) if u["party"] in text.PARTIES]
    with get_db().session() as session:
        context = BatchContext(session=session, tenant_id=tenant_id)
        interaction = context.interaction(conversation_id)
        if interaction.transcript:
            return "present"
        interaction.channel = interaction.channel or VOICE
        apply_transcript(context, {"conversation_id": conversation_id, "phrases": phrases})
        context.touched.add(conversation_id)
        failed = context.finish()
        if conversation_id in failed:
            raise failed[conversation_id]
        session.flush()
        interaction_analytics.analyse_and_store(session, tenant_id, conversation_id, interaction.transcript,
                                                interaction.channel, actor="system:sta")
    booking.dispatch_effects(tenant_id)  # flags the new sentiment raised, once committed
    return "stored"


def _mark_unavailable(tenant_id: str, conversation_id: str, error: Exception) -> None:
    """Record once (until the pause ends) that the host refuses this tenant's transcripts."""
    with get_db().session() as session:
        status = session.get(TenantStaStatus, tenant_id)
        if status is not None and status.unavailable_until > utcnow():
            return
        if status is None:
            status = TenantStaStatus(tenant_id=tenant_id)
            session.add(status)
        status.unavailable_until, status.recorded_at = utcnow() + PAUSE, utcnow()
        status.reason = str(error)[:500]
        session.flush()
        audit.record(session, tenant_id=tenant_id, actor="system:sta", action="sta.unavailable",
                     subject_type="tenant", subject_id=tenant_id,
                     details={"conversation_id": conversation_id, "reason": str(error)[:200],
                              "paused_until": status.unavailable_until.isoformat()})
    log.warning("STA transcripts unavailable for %s (%s); pausing fetches", tenant_id, error)
