from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow


class Flag(Base):
    """A policy rule matched one interaction. Unique per rule so re-evaluation is idempotent."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", "rule_id"),
        Index("ix_flags_tenant_agent_at", "tenant_id", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(HostId)
    agent_id: Mapped[str] = mapped_column(HostId)
    rule_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))  # flag|recognize|alert
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appointment(Base):
    """An automated coaching appointment, from decision to booking on the host.

    The (agent, ISO week, seq) unique key is the weekly rate limit enforced by the database, so two
    workers deciding at once cannot both book.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "agent_id", "week_key", "week_seq"),
        UniqueConstraint("tenant_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(HostId)
    facilitator_id: Mapped[str | None] = mapped_column(HostId)
    week_key: Mapped[str] = mapped_column(String(10))  # e.g. 2026-W47 in the tenant's time zone
    week_seq: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # pending -> booking -> booked | manual (no slot: supervisor asked) | failed; a transient
    # failure puts it back to pending with a later next_attempt_at (retrying, not failed)
    conversation_ids: Mapped[list] = mapped_column(JSONType, default=list)
    date_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    length_minutes: Mapped[int] = mapped_column(default=30)
    host_appointment_id: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[dict] = mapped_column(JSONType, default=dict)
    slot_reason: Mapped[dict | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: due now
    # False: booked while the supervisor's calendar could not be read ("calendar not checked");
    # None: no calendar to check (none configured, or no supervisor email)
    calendar_checked: Mapped[bool | None] = mapped_column()
    calendar_failures: Mapped[int] = mapped_column(default=0)  # transient, across attempts
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Recognition(Base):
    """A recognition for a highly positive interaction, sent to the host once."""

    __tablename__ = "recognitions"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(HostId)
    conversation_id: Mapped[str] = mapped_column(HostId)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), default="ThankYou")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    host_recognition_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: due now
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Task(Base):
    """Work for a person in their panel inbox, e.g. 'schedule this coaching by hand'."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_tasks_tenant_assignee_status", "tenant_id", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    assignee_id: Mapped[str | None] = mapped_column(HostId)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    idempotency_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
