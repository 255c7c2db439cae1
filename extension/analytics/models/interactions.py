from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow


class Interaction(Base):
    """One conversation, merged from partial events that may arrive in any order."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_tenant_agent_ended", "tenant_id", "agent_id", "ended_at"),
    )

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    agent_id: Mapped[str | None] = mapped_column(HostId)
    queue_id: Mapped[str | None] = mapped_column(HostId)
    channel: Mapped[str | None] = mapped_column(String(16))
    wrapup_code: Mapped[str | None] = mapped_column(String(200))
    t_talk_ms: Mapped[int | None]
    t_hold_ms: Mapped[int | None]
    n_hold: Mapped[int | None]  # hold segments of the handling agent; None = unknown (live events)
    t_acw_ms: Mapped[int | None]
    t_handle_ms: Mapped[int | None]
    transferred: Mapped[bool | None]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_sentiment: Mapped[float | None]  # from the host (Genesys STA), -1..1
    transcript_customer_sentiment: Mapped[float | None]  # our own score of the customer's lines
    fallback_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sentiment_trend: Mapped[float | None]
    agent_sentiment: Mapped[float | None]
    transcript: Mapped[list | None] = mapped_column(JSONType)
    outcomes: Mapped[list] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
