"""Host evaluations due to be mirrored: what the drain records instead of calling the host.

A ``v2.quality.evaluations`` notification only names an evaluation; mirroring it needs host
GETs (the evaluation, maybe its form). The drain stores one row per (tenant, host evaluation,
host version + change time) and commits; ``host_evaluations.mirror_due`` does the GETs outside
any transaction, under the tenant's host budget, and applies each answer in a short one. The
unique key makes a redelivered notification a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow

# pending -> fetching (leased by a job) -> done | skipped | failed; back to pending on a
# transient host failure (with next_attempt_at) or when the tenant's budget says "not yet"
FETCH_STATES = ("pending", "fetching", "done", "skipped", "failed")


class EvaluationFetch(Base):
    __tablename__ = "evaluation_fetches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "host_evaluation_id", "version_key"),
        Index("ix_evaluation_fetches_due", "tenant_id", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    host_evaluation_id: Mapped[str] = mapped_column(HostId)
    version_key: Mapped[str] = mapped_column(String(80))  # "<version>|<changedDate>" as notified
    data: Mapped[dict] = mapped_column(JSONType)  # the evaluation.changed event's data
    status: Mapped[str] = mapped_column(String(12), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(16))  # created | updated | unchanged | ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
