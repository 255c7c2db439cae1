"""History sync: the host's conversation details become interaction facts, resumably.

A run covers [start, end) in chunks: one UTC day per synchronous details query (paged), or
seven days per async details job (long ranges). Every page is mapped (``map_conversation``),
merged with the stored fact (fields only other sources know are kept) and stored through
analytics.upsert_facts in its own transaction; the tenant's cursor (``sync_cursors``) moves to
the end of a chunk in the transaction of the chunk's last page. An interrupted run (Ctrl-C, a
crash, a host error) leaves the cursor at the last complete chunk, and the next run starts there
(``restart`` ignores it). A job in flight is remembered with the results cursor of its last
stored page, so a resumed run reads on from there while the host still holds the results.

A conversation still in progress (no ``conversationEnd``) holds the cursor at its start, so a
later run picks it up once it has ended. Likewise an async job's ``dataAvailabilityDate`` (the
host has data "up to at least" then) holds the cursor there: late data after it is read again
by the next run instead of being skipped for good.

Live events and sync agree on a conversation's fact: ``ended_at`` is the end of the handling
agent's last non-wrap-up segment (the user.end event time), talk/hold/ACW are that agent's
tTalk/tHeld/tAcw (the events' interacting/held/wrap-up durations), handle time is their sum
(as the live merge computes it), the inquiry is the wrap-up code id, and the customer key comes
from the same session fields (ani/dnis/addressFrom/addressTo) the user.end event carries.
``n_hold`` counts the handling agent's ``hold`` segments over the same sessions whose tHeld is
the hold time; live events carry no such count, so a conversation only they know has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.errors import NotFound
from connectors.genesys.analytics import DetailsExport, JobFailed
from extension.analytics import facts as analytics
from extension.analytics import fcr
from extension.analytics import outcome as analytics_model
from extension.analytics.domain import fcr as fcr_rule
from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.sync import SyncCursor
from extension.platform import hosts
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant

STREAM = "conversations"
QUERY_CHUNK = timedelta(days=1)
JOB_CHUNK = timedelta(days=7)
AUTO_JOBS_AFTER = timedelta(days=7)  # longer ranges go through async jobs in "auto" mode
MODES = ("auto", "query", "jobs")
COMPARED = ("agent_id", "team_id", "queue_id", "inquiry", "channel", "ended_at", "t_talk_ms",
            "t_hold_ms", "t_acw_ms", "t_handle_ms", "transferred", "customer_key")
_CHANNELS = {"voice": "voice", "callback": "voice", "chat": "chat", "email": "email",
             "message": "message"}
_SOCIAL = frozenset({"TWITTER", "FACEBOOK", "INSTAGRAM", "LINKEDIN"})
_CUSTOMER_PURPOSES = ("customer", "external")


class SyncError(RuntimeError):
    """The host refused or failed the export; the cursor stays at the last complete chunk."""


# ---- mapping (pure) ---------------------------------------------------------------------------

def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _channel(session: dict[str, Any]) -> str | None:
    media = (session.get("mediaType") or "").lower()
    if media == "message" and (session.get("messageType") or "").upper() in _SOCIAL:
        return "social"
    return _CHANNELS.get(media)


def _handling(conversation: dict[str, Any]) -> tuple[dict, dict, datetime] | None:
    """The agent participant and session that handled the customer last, and when it ended."""
    best: tuple[dict, dict, datetime] | None = None
    for participant in conversation.get("participants") or []:
        if participant.get("purpose") != "agent" or not participant.get("userId"):
            continue
        for session in participant.get("sessions") or []:
            parsed = [_parse(s.get("segmentEnd")) for s in session.get("segments") or []
                      if s.get("segmentType") in ("interact", "hold")]
            ends = [e for e in parsed if e is not None]
            if ends and (best is None or max(ends) > best[2]):
                best = (participant, session, max(ends))
    return best


def _address(conversation: dict[str, Any], session: dict[str, Any]) -> str | None:
    def of(s: dict[str, Any]) -> str | None:
        return fcr_rule.customer_address(direction=s.get("direction"), ani=s.get("ani"),
                                         dnis=s.get("dnis"), address_from=s.get("addressFrom"),
                                         address_to=s.get("addressTo"))

    found = of(session)
    if found is None:
        for participant in conversation.get("participants") or []:
            if participant.get("purpose") in _CUSTOMER_PURPOSES:
                for other in participant.get("sessions") or []:
                    found = found or of(other)
    return found


def map_conversation(conversation: dict[str, Any]) -> dict[str, Any] | None:
    """A fact record (with ``customer_address``) for an ended conversation an agent handled;
    None for one still in progress or never answered by an agent."""
    if not conversation.get("conversationEnd"):
        return None
    handling = _handling(conversation)
    if handling is None:
        return None
    participant, session, ended = handling
    metrics: dict[str, int] = {}
    for each in participant.get("sessions") or []:
        for metric in each.get("metrics") or []:
            if isinstance(metric.get("value"), int):
                metrics[metric["name"]] = metrics.get(metric["name"], 0) + metric["value"]
    segments = session.get("segments") or []
    interacting = [s for s in segments if s.get("segmentType") in ("interact", "hold")]
    wrapups = [s for s in segments if s.get("segmentType") == "wrapup" and s.get("wrapUpCode")]
    queue_id = next((s["queueId"] for s in reversed(interacting) if s.get("queueId")), None) or \
        next((s["queueId"] for s in segments if s.get("queueId")), None)
    talk, hold, acw = metrics.get("tTalk"), metrics.get("tHeld", 0), metrics.get("tAcw")
    holds = sum(1 for each in participant.get("sessions") or [] for s in each.get("segments") or []
                if s.get("segmentType") == "hold")
    parts = [talk, hold, acw]
    handle = sum(p or 0 for p in parts) if talk is not None or acw is not None else metrics.get("tHandle")
    return {
        "conversation_id": conversation["conversationId"],
        "agent_id": participant["userId"],
        "team_id": participant.get("teamId"),
        "queue_id": queue_id,
        "inquiry": wrapups[-1]["wrapUpCode"] if wrapups else None,
        "channel": _channel(session),
        "ended_at": ended,
        "t_talk_ms": talk,
        "t_hold_ms": hold,
        "n_hold": holds,
        "t_acw_ms": acw,
        "t_handle_ms": handle,
        "transferred": metrics.get("nTransferred", 0) > 0,
        "customer_address": _address(conversation, session),
    }


def merge(mapped: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The host's values over the stored fact; what only other sources know stays."""
    record = {k: v for k, v in (stored or {}).items() if k in (*analytics.FACT_FIELDS, "conversation_id")}
    record.update({k: v for k, v in mapped.items() if v is not None and k != "customer_address"})
    return record


def chunks(start: datetime, end: datetime, step: timedelta) -> list[tuple[datetime, datetime]]:
    found, moment = [], start
    while moment < end:
        found.append((moment, min(moment + step, end)))
        moment += step
    return found


# ---- runs -------------------------------------------------------------------------------------

@dataclass
class Counts:
    chunks: int = 0
    pages: int = 0
    conversations: int = 0
    skipped: int = 0  # in progress or never handled by an agent
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    resumed_from: datetime | None = None
    synced_until: datetime | None = None

    def line(self) -> str:
        return (f"{self.conversations} conversations: {self.inserted} new, {self.updated} changed, "
                f"{self.unchanged} unchanged, {self.skipped} skipped")


@dataclass
class Plan:
    tenant_id: str
    start: datetime
    end: datetime
    mode: str
    chunks: list[tuple[datetime, datetime]] = field(default_factory=list)
    resumed_from: datetime | None = None


def plan(session: Session, *, tenant_id: str, start: datetime, end: datetime, mode: str = "auto",
         restart: bool = False) -> Plan:
    """The chunks still to do: from the stored cursor when ``start`` lies inside the interval
    synced without a gap (an incremental run, or the resumption of an interrupted one)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if end <= start:
        raise ValueError("the end of the range must be after its start")
    if mode == "auto":
        mode = "jobs" if end - start > AUTO_JOBS_AFTER else "query"
    cursor = session.get(SyncCursor, (tenant_id, STREAM))
    begin, resumed = start, None
    if (not restart and cursor is not None and cursor.synced_from is not None
            and cursor.synced_until is not None and cursor.synced_from <= start < cursor.synced_until):
        begin = resumed = min(cursor.synced_until, end)
    step = JOB_CHUNK if mode == "jobs" else QUERY_CHUNK
    return Plan(tenant_id=tenant_id, start=start, end=end, mode=mode,
                chunks=chunks(begin, end, step), resumed_from=resumed)


def run(db, tenant: Tenant, work: Plan, *, export: DetailsExport | None = None,
        now: datetime | None = None, page_size: int = 100, poll_seconds: float = 2.0,
        on_chunk: Callable[[Counts], None] | None = None) -> Counts:
    """Do the plan: facts stored page by page, the cursor moved chunk by chunk."""
    export = export or DetailsExport(hosts.genesys_for(tenant).transport)
    counts = Counts(resumed_from=work.resumed_from)
    hold_at: datetime | None = None  # the earliest start of a conversation still in progress
    for chunk_start, chunk_end in work.chunks:
        pages = (_query_pages(export, chunk_start, chunk_end, page_size) if work.mode == "query"
                 else _job_pages(db, export, work.tenant_id, chunk_start, chunk_end,
                                 page_size=page_size, poll_seconds=poll_seconds))
        for page, job_cursor, available, last in _lookahead(pages):
            counts.pages += 1
            if available is not None and available < chunk_end:
                # late data: the host may still add conversations after this moment
                hold_at = available if hold_at is None else min(hold_at, available)
            with db.session() as session:
                hold_at = _store_page(session, tenant, page, counts, hold_at=hold_at, now=now)
                cursor = _cursor(session, work.tenant_id)
                if work.mode == "jobs":
                    cursor.job_cursor = job_cursor
                if last:
                    if work.resumed_from is None or cursor.synced_from is None:
                        cursor.synced_from = work.start
                    cursor.synced_until = chunk_end if hold_at is None else min(chunk_end, hold_at)
                    cursor.job_id = cursor.job_interval = cursor.job_cursor = None
                    counts.synced_until = cursor.synced_until
        counts.chunks += 1
        if on_chunk is not None:
            on_chunk(counts)
    return counts


Page = tuple[list[dict], str | None, datetime | None]  # conversations, job cursor, available


def _lookahead(pages: Iterator[Page]
               ) -> Iterator[tuple[list[dict], str | None, datetime | None, bool]]:
    """(page, cursor, data availability, is_last): the last page carries the cursor move. An
    empty export still yields one empty page so the chunk is marked done."""
    previous: Page | None = None
    for item in pages:
        if previous is not None:
            yield (*previous, False)
        previous = item
    yield (*(previous or ([], None, None)), True)


def _query_pages(export: DetailsExport, start: datetime, end: datetime, page_size: int):
    try:
        for page in export.conversation_detail_pages(start=start, end=end, order="asc",
                                                     order_by="conversationStart", page_size=page_size):
            yield page, None, None
    except NotFound as exc:
        raise SyncError(f"the host has no details query: {exc}") from exc


def _interval(start: datetime, end: datetime) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


def _job_pages(db, export: DetailsExport, tenant_id: str, start: datetime, end: datetime, *,
               page_size: int, poll_seconds: float):
    with db.session() as session:
        cursor = _cursor(session, tenant_id)
        job_id, resume_at = None, None
        if cursor.job_id and cursor.job_interval == _interval(start, end):
            job_id, resume_at = cursor.job_id, cursor.job_cursor
    if job_id is not None:
        try:
            export.wait_for_details_job(job_id, poll_seconds=poll_seconds)
        except (JobFailed, NotFound):
            job_id = resume_at = None  # expired or forgotten by the host: ask again
    if job_id is None:
        job_id = export.submit_details_job(start=start, end=end, order="asc", order_by="conversationStart")
        with db.session() as session:
            cursor = _cursor(session, tenant_id)
            cursor.job_id, cursor.job_interval, cursor.job_cursor = job_id, _interval(start, end), None
        try:
            export.wait_for_details_job(job_id, poll_seconds=poll_seconds)
        except JobFailed as exc:
            raise SyncError(str(exc)) from exc
    yield from export.details_job_pages(job_id, cursor=resume_at, page_size=page_size)


def _cursor(session: Session, tenant_id: str) -> SyncCursor:
    cursor = session.get(SyncCursor, (tenant_id, STREAM))
    if cursor is None:
        cursor = SyncCursor(tenant_id=tenant_id, stream=STREAM)
        session.add(cursor)
    return cursor


def records_for(session: Session, tenant_id: str, conversations: Iterable[dict[str, Any]], *,
                create_secret: bool = True) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(fact records with customer keys, conversations skipped) for a page of conversations."""
    mapped, skipped = [], []
    for conversation in conversations:
        record = map_conversation(conversation)
        if record is None:
            skipped.append(conversation)
            continue
        key = fcr.key_for(session, tenant_id, record["customer_address"], create=create_secret)
        if key is not None:
            record["customer_key"] = key
        mapped.append(record)
    return mapped, skipped


def _store_page(session: Session, tenant: Tenant, page: list[dict], counts: Counts, *,
                hold_at: datetime | None, now: datetime | None) -> datetime | None:
    mapped, skipped = records_for(session, tenant.id, page)
    for conversation in skipped:
        started = _parse(conversation.get("conversationStart"))
        if not conversation.get("conversationEnd") and started is not None:
            hold_at = started if hold_at is None else min(hold_at, started)
    counts.conversations += len(page)
    counts.skipped += len(skipped)
    if mapped:
        stored = analytics.stored_facts(session, tenant_id=tenant.id,
                                        ids=sorted({r["conversation_id"] for r in mapped}))
        records = {r["conversation_id"]: merge(r, stored.get(r["conversation_id"])) for r in mapped}
        fitted = analytics_model.predicted_if_fitted(session, tenant.id, list(records.values()))
        result = analytics.upsert_facts(session, tenant_id=tenant.id, records=fitted,
                                        tz=tenant.timezone, now=now)
        for name in ("inserted", "updated", "unchanged"):
            setattr(counts, name, getattr(counts, name) + result[name])
    return hold_at


def cursor_of(session: Session, tenant_id: str) -> datetime | None:
    found = session.get(SyncCursor, (tenant_id, STREAM))
    return found.synced_until if found else None


# ---- reconciliation (read-only) ---------------------------------------------------------------

@dataclass
class Report:
    host: int = 0
    stored: int = 0
    missing_here: list[str] = field(default_factory=list)
    missing_there: list[str] = field(default_factory=list)
    differing: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.missing_here or self.missing_there or self.differing)


def host_conversations(tenant: Tenant, *, start: datetime, end: datetime,
                       export: DetailsExport | None = None, page_size: int = 100) -> list[list[dict]]:
    """The host's conversation pages for :func:`reconcile`, asked from a day before ``start``
    (the query matches start times). Call it with no transaction open (on SQLite the first read
    takes the write lock, which must not be held across host I/O)."""
    export = export or DetailsExport(hosts.genesys_for(tenant).transport)
    return [page for chunk_start, chunk_end in chunks(start - QUERY_CHUNK, end, QUERY_CHUNK)
            for page, _, _ in _query_pages(export, chunk_start, chunk_end, page_size)]


def reconcile(session: Session, tenant: Tenant, *, start: datetime, end: datetime,
              pages: list[list[dict]]) -> Report:
    """Host (``pages`` from :func:`host_conversations`) vs stored facts for conversations that
    ended in [start, end); asks the host nothing and writes nothing."""
    host: dict[str, dict[str, Any]] = {}
    for page in pages:
        mapped, _skipped = records_for(session, tenant.id, page, create_secret=False)
        host.update((r["conversation_id"], r) for r in mapped if start <= r["ended_at"] < end)
    facts = InteractionFact.__table__
    stored = {row.conversation_id: dict(row._mapping) for row in session.execute(
        select(facts).where(facts.c.tenant_id == tenant.id, facts.c.ended_at >= start,
                            facts.c.ended_at < end))}
    report = Report(host=len(host), stored=len(stored),
                    missing_here=sorted(set(host) - set(stored)),
                    missing_there=sorted(set(stored) - set(host)))
    for conversation_id in sorted(set(host) & set(stored)):
        ours, theirs = stored[conversation_id], host[conversation_id]
        diff = {name: (theirs.get(name), ours.get(name)) for name in COMPARED
                if theirs.get(name) is not None and theirs.get(name) != ours.get(name)}
        if diff:
            report.differing[conversation_id] = diff
    session.rollback()
    return report


def default_until() -> datetime:
    return utcnow().replace(microsecond=0)
