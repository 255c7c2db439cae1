from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow


class InboxEvent(Base):
    """A normalized event accepted from the host, written before the 2xx answer.

    Unique on (tenant, delivery id): the sender's delivery id is the idempotency key, so a
    redelivery is acknowledged and never processed twice.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("tenant_id", "delivery_id"),
        Index("ix_inbox_status_due", "status", "next_attempt_at", "id"),
        Index("ix_inbox_tenant_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(HostId)
    source_topic: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(12), default="received")
    # received -> done | ignored | failed (dead letter, replayable)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
