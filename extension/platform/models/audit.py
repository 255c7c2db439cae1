from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import JSONType, TenantId, UTCDateTime, utcnow


class AuditEntry(Base):
    """Append-only; each row's hash covers its content and the previous row's hash per tenant.

    ``scheme`` 1: unkeyed SHA-256 (rows written before keyed chains); 2: HMAC-SHA256 under the
    audit key derived from the data key whose fingerprint is ``key_id``."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # "system:<job>" or "user:<id>"
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="1")
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditCheckpoint(Base):
    """The audit chain's head anchored outside its table: (head id, head hash) under an HMAC, so
    rows removed from the end up to this head, or a rewritten chain, no longer verify."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    head_id: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))
