"""Sampling plans, their runs and picks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow

ID = String(36)


class SamplingPlanRow(Base):
    """A tenant's sampling plan document (``domain.sampling_plan``); ``version`` grows on every
    change so a run records exactly which plan it followed. Deleting deactivates."""

    __tablename__ = "sampling_plans"
    __table_args__ = (Index("ix_sampling_plans_tenant_active", "tenant_id", "active"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SamplingRun(Base):
    """One ``select`` over a period. ``run_key`` (plan, plan version, period, seed) is unique: the
    same request returns the same run instead of drawing again."""

    __tablename__ = "sampling_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "run_key", name="uq_sampling_runs_tenant_run_key"),
        Index("ix_sampling_runs_tenant_plan", "tenant_id", "plan_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    plan_id: Mapped[str] = mapped_column(ID, ForeignKey("sampling_plans.id", ondelete="CASCADE"))
    plan_version: Mapped[int] = mapped_column(Integer)
    plan_document: Mapped[dict] = mapped_column(JSONType)
    run_key: Mapped[str] = mapped_column(String(300))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)  # inclusive, tenant-local
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive
    seed: Mapped[str] = mapped_column(String(200))
    eligible: Mapped[int] = mapped_column(Integer, default=0)
    budget: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    fairness: Mapped[list] = mapped_column(JSONType, default=list)  # per-agent report lines
    form_id: Mapped[str | None] = mapped_column(ID)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SamplingPick(Base):
    """One interaction a run chose, why, and (once assigned) its evaluation."""

    __tablename__ = "sampling_picks"
    __table_args__ = (
        UniqueConstraint("run_id", "conversation_id", name="uq_sampling_picks_run_conversation"),
        Index("ix_sampling_picks_tenant_conversation", "tenant_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("sampling_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(HostId)
    agent_id: Mapped[str] = mapped_column(HostId)
    component: Mapped[str] = mapped_column(String(16))  # risk | random | targeted | fairness
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    evaluation_id: Mapped[str | None] = mapped_column(ID)
