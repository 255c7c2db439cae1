"""Calibration sessions: blind scoring of the same interactions by several evaluators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow

ID = String(36)


class CalibrationSession(Base):
    """A QA lead's session: one form version, a set of conversations, the evaluators, an optional
    expert, the drift threshold (QA points). ``report`` is computed once, when it is closed."""

    __tablename__ = "calibration_sessions"
    __table_args__ = (Index("ix_calibration_sessions_tenant_status", "tenant_id", "status", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    form_id: Mapped[str] = mapped_column(ID)  # quality_forms.id (the form service checks it)
    form_version: Mapped[int] = mapped_column(Integer)
    conversation_ids: Mapped[list] = mapped_column(JSONType, default=list)
    evaluator_ids: Mapped[list] = mapped_column(JSONType, default=list)
    expert_id: Mapped[str | None] = mapped_column(HostId)
    drift_threshold: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    report: Mapped[dict | None] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalibrationScore(Base):
    """One evaluator's answers for one conversation of a session (replaced while it is open)."""

    __tablename__ = "calibration_scores"
    __table_args__ = (
        UniqueConstraint("session_id", "evaluator_id", "conversation_id",
                         name="uq_calibration_scores_session_evaluator_conversation"),
        Index("ix_calibration_scores_tenant_session", "tenant_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ID, ForeignKey("calibration_sessions.id", ondelete="CASCADE"))
    evaluator_id: Mapped[str] = mapped_column(HostId)
    conversation_id: Mapped[str] = mapped_column(HostId)
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)  # {question_id: {option_id, na}}
    na_groups: Mapped[list] = mapped_column(JSONType, default=list)
    total_score: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
