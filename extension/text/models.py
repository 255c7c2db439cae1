"""Text-analytics results per interaction, and per-tenant settings: phrase lists, and whether
the host's transcripts are reachable.

``interaction_text_analytics`` holds one interaction's analysis of its redacted transcript.

``tenant_phrase_lists`` holds one row per (tenant, kind) once a tenant has edited that kind.
``rules`` is the whole list (``[{key, wordings, party, threshold, active}]``), or NULL after a
revert: the defaults apply again, yet ``version`` keeps growing, so a cache keyed by version
never serves a list the tenant has since replaced or reverted.

``sta_transcript_fetches`` is the backoff state of fetching one voice conversation's STA
transcript (pending until stored, refused or given up), so retries survive a lost queue and the
periodic sweep re-queues the due ones.

``tenant_sta_status`` records once that the host refused the tenant's transcripts (403: no
Speech and Text Analytics licence or permission), so fetches stop until ``unavailable_until``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow


class TenantPhraseList(Base):
    """One tenant's list of one kind (``required`` or ``prohibited``)."""

    __tablename__ = "tenant_phrase_lists"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    rules: Mapped[list | None] = mapped_column(JSONType)  # None: the built-in defaults apply
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(HostId)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TenantStaStatus(Base):
    """The host refused this tenant's STA transcripts; no fetch is queued before ``unavailable_until``."""

    __tablename__ = "tenant_sta_status"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    unavailable_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaTranscriptFetch(Base):
    """One voice conversation whose STA transcript is being fetched; ``due_at`` is the next try."""

    __tablename__ = "sta_transcript_fetches"
    __table_args__ = (Index("ix_sta_transcript_fetches_status_due", "status", "due_at"),)

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    communication_ids: Mapped[list] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|unavailable|gave_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InteractionTextAnalytics(Base):
    """Text analytics of one interaction, computed on the PII-redacted transcript: every offset in
    ``result`` indexes the redacted utterances stored there. The flat columns feed sampling."""

    __tablename__ = "interaction_text_analytics"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    customer_sentiment: Mapped[float | None] = mapped_column(Float)
    agent_sentiment: Mapped[float | None] = mapped_column(Float)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    compliance_miss: Mapped[bool] = mapped_column(Boolean, default=False)
    prohibited_count: Mapped[int] = mapped_column(Integer, default=0)
    silence_ratio: Mapped[float | None] = mapped_column(Float)
    overtalk_ratio: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict] = mapped_column(JSONType, default=dict)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
