"""Erasure requests: one row per (tenant, subject), so an erasure is idempotent and resumable.

``pseudonym`` is drawn at random once per subject and kept, so a resumed erasure moves the rest of
the subject's rows to the same pseudonym (rollup cells stay one series) and no key can map the
pseudonym back to the person. ``steps`` records each table's count as it is committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import JSONType, TenantId, UTCDateTime, utcnow


class Erasure(Base):
    __tablename__ = "privacy_erasures"
    __table_args__ = (UniqueConstraint("tenant_id", "subject_kind", "subject_ref",
                                       name="uq_privacy_erasures_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(16))  # person | customer
    subject_ref: Mapped[str] = mapped_column(String(100))  # host user id or customer key
    pseudonym: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done
    steps: Mapped[dict] = mapped_column(JSONType, default=dict)  # table -> rows changed
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
