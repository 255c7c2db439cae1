"""Operations tables: one lease row per periodic job and one heartbeat row per process.

They belong to the deployment, not to a tenant (no ``tenant_id``): a periodic job such as the
inbox sweep serves every tenant, and a worker process drains every tenant's queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import UTCDateTime


class PeriodicLease(Base):
    """Who runs a periodic job next: whoever moves ``due_at`` forward first (compare-and-set on
    ``name`` and ``due_at <= now``) runs that tick; every other process skips it."""

    __tablename__ = "periodic_leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    every_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(12))  # ok | error
    last_error: Mapped[str | None] = mapped_column(String(500))


class WorkerHeartbeat(Base):
    """A process that takes jobs says it is alive every few seconds. ``role`` is ``worker`` (an
    RQ worker process) or ``embedded`` (a process running the in-process queue)."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = (Index("ix_worker_heartbeats_role_seen", "role", "seen_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    role: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_job_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
