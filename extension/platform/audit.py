"""Tamper-evident audit trail: a per-tenant chain of HMACs, anchored by signed checkpoints.

Each row's ``hash`` is HMAC-SHA256 (key derived from the data keys, see
:class:`extension.platform.crypto.AuditKeys`) over the previous row's hash and the row's content,
so nobody without the data keys can edit a row and re-chain what follows. Rows written before
the chain was keyed (``scheme`` 1, plain SHA-256) still verify, but only before the first keyed
row: an unkeyed row after a keyed one is a forgery. Deleting the newest rows leaves a valid
shorter chain, so the head is checkpointed outside the table (``audit_checkpoints``: head id,
head hash, HMAC over both) by a periodic job; verification names the first bad row, or the
checkpoint whose head is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from extension.platform.crypto import AuditKeys
from extension.platform.models._types import utcnow
from extension.platform.models.audit import AuditCheckpoint, AuditEntry
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job

GENESIS = "0" * 64
LEGACY, KEYED = 1, 2
log = logging.getLogger(__name__)


def _lock_chain(session: Session, tenant_id: str) -> None:
    # Concurrent writers would fork the chain; a transaction-scoped advisory lock per tenant
    # serialises appends on PostgreSQL (SQLite already has a single writer).
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"audit:{tenant_id}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def keys_of(session: Session) -> AuditKeys:
    """The audit keys the app's Database put on every session it makes."""
    keys = session.info.get("coachwire.audit_keys")
    if keys is None:
        raise RuntimeError("this session carries no audit keys (not made by the app's Database)")
    return keys


def _canonical(prev_hash: str, fields: dict) -> bytes:
    return (prev_hash + json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)).encode()


def entry_hash(prev_hash: str, fields: dict) -> str:
    """The unkeyed scheme-1 hash of rows written before the chain was keyed."""
    return hashlib.sha256(_canonical(prev_hash, fields)).hexdigest()


def keyed_hash(keys: AuditKeys, key_id: str, prev_hash: str, fields: dict) -> str:
    return keys.mac(_canonical(prev_hash, fields), key_id)


def _fields(entry: AuditEntry) -> dict:
    return {
        "tenant_id": entry.tenant_id, "at": entry.at.isoformat(), "actor": entry.actor,
        "action": entry.action, "subject_type": entry.subject_type,
        "subject_id": entry.subject_id, "details": entry.details,
    }


def record(session: Session, *, tenant_id: str, actor: str, action: str, subject_type: str,
           subject_id: str, details: dict | None = None) -> AuditEntry:
    keys = keys_of(session)
    _lock_chain(session, tenant_id)
    prev = session.scalar(
        select(AuditEntry.hash).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.id.desc()).limit(1)
    ) or GENESIS
    entry = AuditEntry(tenant_id=tenant_id, at=utcnow().replace(microsecond=0), actor=actor,
                       action=action, subject_type=subject_type, subject_id=str(subject_id),
                       details=details or {}, prev_hash=prev, scheme=KEYED, key_id=keys.current_id)
    entry.hash = keyed_hash(keys, keys.current_id, prev, _fields(entry))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Failure:
    """Where a tenant's chain stops verifying: the first bad row and/or checkpoint, and why."""

    tenant_id: str
    reason: str
    row_id: int | None = None
    checkpoint_id: int | None = None

    def __str__(self) -> str:
        where = [f"row {self.row_id}"] if self.row_id is not None else []
        where += [f"checkpoint {self.checkpoint_id}"] if self.checkpoint_id is not None else []
        return f"tenant {self.tenant_id}: {', '.join(where)}: {self.reason}"


@dataclass(frozen=True)
class Head:
    row_id: int
    hash: str


def _checkpoint_message(cp: AuditCheckpoint) -> bytes:
    return f"checkpoint|{cp.tenant_id}|{cp.head_id}|{cp.head_hash}|{cp.at.isoformat()}".encode()


def verify(session: Session, tenant_id: str) -> tuple[Failure | None, Head | None]:
    """Walk the tenant's chain from genesis; (first failure or None, the verified head)."""
    keys = keys_of(session)
    checkpoints = list(session.scalars(select(AuditCheckpoint)
                                       .where(AuditCheckpoint.tenant_id == tenant_id)
                                       .order_by(AuditCheckpoint.id)))
    anchors: dict[int, AuditCheckpoint] = {}
    for cp in checkpoints:
        if keys.get(cp.key_id) is None:
            return Failure(tenant_id, f"the checkpoint's data key {cp.key_id!r} is not configured",
                           checkpoint_id=cp.id), None
        if not hmac.compare_digest(cp.mac, keys.mac(_checkpoint_message(cp), cp.key_id)):
            return Failure(tenant_id, "the checkpoint's signature does not match (forged or "
                                      "edited)", checkpoint_id=cp.id), None
        anchors.setdefault(cp.head_id, cp)
    prev, keyed_seen, head = GENESIS, False, None
    rows = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
                           .order_by(AuditEntry.id).execution_options(yield_per=1000))
    for entry in rows:
        bad = _check_row(keys, entry, prev, keyed_seen)
        if bad:
            return Failure(tenant_id, bad, row_id=entry.id), head
        anchor = anchors.pop(entry.id, None)
        if anchor is not None and not hmac.compare_digest(anchor.head_hash, entry.hash):
            return Failure(tenant_id, "the row differs from the checkpointed head",
                           row_id=entry.id, checkpoint_id=anchor.id), head
        keyed_seen = keyed_seen or entry.scheme == KEYED
        prev, head = entry.hash, Head(entry.id, entry.hash)
    if anchors:
        cp = anchors[min(anchors)]
        return Failure(tenant_id, "the checkpointed head row is missing: rows were deleted "
                                  "from the end of the chain", row_id=cp.head_id,
                       checkpoint_id=cp.id), head
    return None, head


def _check_row(keys: AuditKeys, entry: AuditEntry, prev: str, keyed_seen: bool) -> str | None:
    if entry.prev_hash != prev:
        return "the row does not link to the row before it (a row before it was deleted or edited)"
    if entry.scheme == LEGACY:
        if keyed_seen:
            return "an unkeyed row after keyed rows (forged)"
        expected = entry_hash(prev, _fields(entry))
    elif entry.scheme == KEYED:
        if keys.get(entry.key_id) is None:
            return f"the row's data key {entry.key_id!r} is not configured"
        expected = keyed_hash(keys, entry.key_id or "", prev, _fields(entry))
    else:
        return f"unknown hash scheme {entry.scheme!r}"
    if not hmac.compare_digest(entry.hash, expected):
        return "the row's content does not match its hash (edited)"
    return None


def verify_chain(session: Session, tenant_id: str) -> int | None:
    """The id of the first bad row (0 when only a checkpoint is bad), or None when intact."""
    failure, _ = verify(session, tenant_id)
    if failure is None:
        return None
    return failure.row_id if failure.row_id is not None else 0


def checkpoint(session: Session, tenant_id: str, head: Head) -> AuditCheckpoint | None:
    """Sign ``head`` (a verified head) unless the newest checkpoint already holds it."""
    keys = keys_of(session)
    last = session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.tenant_id == tenant_id)
                          .order_by(AuditCheckpoint.id.desc()).limit(1))
    if last is not None and last.head_id >= head.row_id:
        return None
    cp = AuditCheckpoint(tenant_id=tenant_id, at=utcnow().replace(microsecond=0),
                         head_id=head.row_id, head_hash=head.hash, key_id=keys.current_id, mac="")
    cp.mac = keys.mac(_checkpoint_message(cp))
    session.add(cp)
    session.flush()
    # the log keeps a copy of each head outside the database
    log.info("audit checkpoint tenant=%s head_id=%s head_hash=%s", tenant_id, head.row_id, head.hash)
    return cp


def verify_tenants(session_factory, tenant_ids: list[str] | None = None, *,
                   anchor: bool = False) -> list[Failure]:
    """Verify each tenant's chain in its own session; with ``anchor``, checkpoint intact heads."""
    if tenant_ids is None:
        with session_factory() as session:
            tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    failures = []
    for tenant_id in tenant_ids:
        with session_factory() as session:
            failure, head = verify(session, tenant_id)
            if failure is not None:
                failures.append(failure)
            elif anchor and head is not None:
                checkpoint(session, tenant_id, head)
    return failures


AlertHook = Callable[[Failure], None]


@job(queue="default", retries=0, timeout=3600)
def verify_all() -> dict[str, str]:
    """The periodic job: verify every tenant's chain, checkpoint intact heads, and on a broken
    chain log an ERROR and call the alert hooks capabilities registered
    (``app.extensions["coachwire.audit_alerts"]``)."""
    from extension.platform import context

    failures = verify_tenants(context.extension("db").session, anchor=True)
    for failure in failures:
        log.error("audit chain broken: %s", failure)
        for hook in context.extension("audit_alerts"):
            try:
                hook(failure)
            except Exception:  # one failing alert path must not silence the others
                log.exception("audit alert hook %r failed", hook)
    return {failure.tenant_id: str(failure) for failure in failures}


def add_alert_hook(app, hook: AlertHook) -> None:
    """Another capability's alert path for a broken chain (e.g. analytics' alert delivery)."""
    app.extensions["coachwire.audit_alerts"].append(hook)
