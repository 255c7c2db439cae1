"""Tamper-evident audit trail: each row hashes its content with the tenant's previous hash."""

from __future__ import annotations

import hashlib
import json
import zlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from extension.platform.models._types import utcnow
from extension.platform.models.audit import AuditEntry

GENESIS = "0" * 64


def _lock_chain(session: Session, tenant_id: str) -> None:
    # Concurrent writers would fork the chain; a transaction-scoped advisory lock per tenant
    # serialises appends on PostgreSQL (SQLite already has a single writer).
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"audit:{tenant_id}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def entry_hash(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(entry: AuditEntry) -> dict:
    return {
        "tenant_id": entry.tenant_id, "at": entry.at.isoformat(), "actor": entry.actor,
        "action": entry.action, "subject_type": entry.subject_type,
        "subject_id": entry.subject_id, "details": entry.details,
    }


def record(session: Session, *, tenant_id: str, actor: str, action: str, subject_type: str,
           subject_id: str, details: dict | None = None) -> AuditEntry:
    _lock_chain(session, tenant_id)
    prev = session.scalar(
        select(AuditEntry.hash).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.id.desc()).limit(1)
    ) or GENESIS
    entry = AuditEntry(tenant_id=tenant_id, at=utcnow().replace(microsecond=0), actor=actor,
                       action=action, subject_type=subject_type, subject_id=str(subject_id),
                       details=details or {}, prev_hash=prev)
    entry.hash = entry_hash(prev, _fields(entry))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session, tenant_id: str) -> int | None:
    """Return the id of the first row whose hash does not match, or None when intact."""
    prev = GENESIS
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.id)
    )
    for entry in rows:
        if entry.prev_hash != prev or entry.hash != entry_hash(prev, _fields(entry)):
            return entry.id
        prev = entry.hash
    return None
