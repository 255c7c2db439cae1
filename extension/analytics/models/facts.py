"""Analytics storage: one fact row per interaction, daily sums per dimension cell, alerts.

Facts are a separate table (not more columns on ``interactions``) because they are filled from
two sources, live events and the host's history sync, while ``interactions`` is the coaching
pipeline's merge buffer (transcripts, outcomes). Keeping them apart lets the sync upsert
millions of history rows without touching, locking or bloating the pipeline's rows.

``kpi_rollups_daily`` holds SUMS and COUNTS per (tenant, local day, agent, team, queue, inquiry,
channel): any interval and grouping is a sum of rows, and every KPI (means, rates, NPS, AES) is
a ratio of sums, so a rollup answers exactly what the raw facts would. Unknown dimension values
are stored as '' because primary-key columns cannot be NULL; the service maps them back to None.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow

DIM = String(200)  # inquiry and wrap-up names are longer than host ids


class InteractionFact(Base):
    __tablename__ = "interaction_facts"
    __table_args__ = (
        Index("ix_interaction_facts_tenant_day", "tenant_id", "local_day"),
        Index("ix_interaction_facts_tenant_agent_day", "tenant_id", "agent_id", "local_day"),
        Index("ix_interaction_facts_tenant_customer", "tenant_id", "customer_key", "ended_at"),
        Index("ix_interaction_facts_tenant_fcr_open", "tenant_id", "fcr", "ended_at"),
        # the peer-snapshot job's watermark (max updated_at of a tenant), an index-only lookup
        Index("ix_interaction_facts_tenant_updated", "tenant_id", "updated_at"),
    )

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    agent_id: Mapped[str | None] = mapped_column(HostId)
    team_id: Mapped[str | None] = mapped_column(HostId)
    queue_id: Mapped[str | None] = mapped_column(HostId)
    inquiry: Mapped[str | None] = mapped_column(DIM)
    channel: Mapped[str | None] = mapped_column(String(16))
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_day: Mapped[date] = mapped_column(Date)  # in the tenant's zone when stored
    t_talk_ms: Mapped[int | None] = mapped_column(BigInteger)
    t_hold_ms: Mapped[int | None] = mapped_column(BigInteger)
    n_hold: Mapped[int | None] = mapped_column(Integer)  # the agent's hold segments (sync only)
    t_acw_ms: Mapped[int | None] = mapped_column(BigInteger)
    t_handle_ms: Mapped[int | None] = mapped_column(BigInteger)
    transferred: Mapped[bool | None]
    fcr: Mapped[bool | None]
    # HMAC of the customer's address (extension.analytics.domain.fcr.customer_key), never the address
    customer_key: Mapped[str | None] = mapped_column(String(64))
    csat: Mapped[float | None] = mapped_column(Float)
    nps: Mapped[int | None] = mapped_column(Integer)
    qa_score: Mapped[float | None] = mapped_column(Float)
    customer_sentiment: Mapped[float | None] = mapped_column(Float)
    agent_sentiment: Mapped[float | None] = mapped_column(Float)
    p_satisfaction: Mapped[float | None] = mapped_column(Float)
    p_resolution: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RollupSums:
    """The period buckets and the additive sums every rollup table holds (analytics_sums)."""

    # bucket starts stored with the day so every period groups by a plain column on any engine
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    quarter: Mapped[date] = mapped_column(Date)
    volume: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    handle_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    talk_n: Mapped[int] = mapped_column(Integer, default=0)
    talk_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    hold_n: Mapped[int] = mapped_column(Integer, default=0)
    hold_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    acw_n: Mapped[int] = mapped_column(Integer, default=0)
    acw_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    transfer_n: Mapped[int] = mapped_column(Integer, default=0)
    transfer_yes: Mapped[int] = mapped_column(Integer, default=0)
    fcr_n: Mapped[int] = mapped_column(Integer, default=0)
    fcr_yes: Mapped[int] = mapped_column(Integer, default=0)
    csat_n: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[float] = mapped_column(Float, default=0.0)
    nps_n: Mapped[int] = mapped_column(Integer, default=0)
    nps_promoters: Mapped[int] = mapped_column(Integer, default=0)
    nps_detractors: Mapped[int] = mapped_column(Integer, default=0)
    qa_n: Mapped[int] = mapped_column(Integer, default=0)
    qa_sum: Mapped[float] = mapped_column(Float, default=0.0)
    csent_n: Mapped[int] = mapped_column(Integer, default=0)
    csent_sum: Mapped[float] = mapped_column(Float, default=0.0)
    asent_n: Mapped[int] = mapped_column(Integer, default=0)
    asent_sum: Mapped[float] = mapped_column(Float, default=0.0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    scored_handle_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    expected: Mapped[float] = mapped_column(Float, default=0.0)



class KpiRollupDaily(RollupSums, Base):
    __tablename__ = "kpi_rollups_daily"
    __table_args__ = (
        Index("ix_kpi_rollups_daily_tenant_agent_day", "tenant_id", "agent_id", "day"),
        Index("ix_kpi_rollups_daily_tenant_team_day", "tenant_id", "team_id", "day"),
    )

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    team_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    queue_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    inquiry: Mapped[str] = mapped_column(DIM, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)


class KpiRollupAgentDaily(RollupSums, Base):
    """The same sums per (tenant, local day, agent) only: the agent series and the team view
    (its members by day) read a few rows per agent-day here instead of one per queue x inquiry x
    channel cell. Maintained with ``kpi_rollups_daily`` from the same deltas, in the same
    transaction (extension.analytics.facts.apply_deltas)."""

    __tablename__ = "kpi_rollups_agent_daily"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class PerformanceAlert(Base):
    """A raised alert; ``key`` (domain.alerts.alert_key) makes a re-raise update, not duplicate."""

    __tablename__ = "performance_alerts"
    __table_args__ = (Index("ix_performance_alerts_tenant_status", "tenant_id", "status", "raised_at"),)

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # threshold | deviation
    subject_type: Mapped[str] = mapped_column(String(16))  # agent | team
    subject_id: Mapped[str] = mapped_column(HostId)
    metric: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cooldown_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
