"""Quality management: forms (versioned), evaluations, answers, disputes, evaluator workload.

Every table carries ``tenant_id`` and every query filters on it. Surrogate string ids (uuid4 hex)
keep foreign keys simple; the tenant is still checked on every lookup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, JSONType, TenantId, UTCDateTime, utcnow

ID = String(36)

# evaluation lifecycle states; ``retracted`` is terminal and frees the (conversation, form) slot
EVALUATION_STATES = ("assigned", "in_progress", "submitted", "released", "acknowledged", "retracted")
OPEN_STATES = ("assigned", "in_progress")  # work an evaluator still has to do


class QualityForm(Base):
    """A form and its selectors; its content lives in versions."""

    __tablename__ = "quality_forms"
    __table_args__ = (Index("ix_quality_forms_tenant_name", "tenant_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    interaction_type: Mapped[str | None] = mapped_column(String(32))  # voice, chat, email, ...
    department: Mapped[str | None] = mapped_column(String(200))
    customer_segment: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer)
    genesys_form_id: Mapped[str | None] = mapped_column(HostId)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QualityFormVersion(Base):
    """One version's document; a published version is never changed (evaluations point at it)."""

    __tablename__ = "quality_form_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "form_id", "version",
                                       name="uq_quality_form_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    form_id: Mapped[str] = mapped_column(ID, ForeignKey("quality_forms.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|published|superseded
    document: Mapped[dict] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Evaluation(Base):
    """One interaction scored against one form version.

    ``active_key`` is ``conversation_id|form_id`` while the evaluation is not retracted and NULL
    after: the unique constraint makes assignment idempotent per (tenant, conversation, form)
    even under concurrent sampling runs, and frees the slot once retracted. Evaluations mirrored
    from the host have ``host_evaluation_id`` (unique per tenant) and no ``active_key``: the
    host decided to evaluate, so they do not take Coachwire's assignment slot.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "active_key", name="uq_evaluations_active"),
        UniqueConstraint("tenant_id", "host_evaluation_id", name="uq_evaluations_host"),
        Index("ix_evaluations_tenant_evaluator_status", "tenant_id", "evaluator_id", "status"),
        Index("ix_evaluations_tenant_agent_status", "tenant_id", "agent_id", "status"),
        Index("ix_evaluations_tenant_conversation", "tenant_id", "conversation_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(HostId)
    agent_id: Mapped[str] = mapped_column(HostId)
    evaluator_id: Mapped[str] = mapped_column(HostId)
    form_id: Mapped[str] = mapped_column(ID, ForeignKey("quality_forms.id"))
    form_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    active_key: Mapped[str | None] = mapped_column(String(120))
    # {question_id: {option_id, na, text, source, auto_option_id, override_reason}}
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    na_groups: Mapped[list] = mapped_column(JSONType, default=list)
    scoring: Mapped[dict | None] = mapped_column(JSONType)  # EvaluationScoringSet
    total_score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[dict | None] = mapped_column(JSONType)  # why it was sampled
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_day: Mapped[str] = mapped_column(String(10))  # tenant-local ISO day, for daily caps
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retract_reason: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Mirrored from the host (services.host_evaluations); NULL for Coachwire's own evaluations.
    host_evaluation_id: Mapped[str | None] = mapped_column(HostId)
    host_status: Mapped[str | None] = mapped_column(String(16))  # PENDING, INPROGRESS, FINISHED...
    host_version: Mapped[int | None] = mapped_column(Integer)  # Evaluation.version
    host_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # Evaluation.changedDate
    host_total_score: Mapped[float | None] = mapped_column(Float)  # the host's own totalScore


class Dispute(Base):
    """An agent's challenge of named questions of a released evaluation."""

    __tablename__ = "evaluation_disputes"
    __table_args__ = (
        Index("ix_evaluation_disputes_tenant_evaluation", "tenant_id", "evaluation_id"),
        Index("ix_evaluation_disputes_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    evaluation_id: Mapped[str] = mapped_column(ID, ForeignKey("evaluations.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(HostId)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|upheld|rejected|partially
    items: Mapped[list] = mapped_column(JSONType, default=list)  # [{question_id, reason}]
    resolver_id: Mapped[str | None] = mapped_column(HostId)
    resolution_note: Mapped[str | None] = mapped_column(String(2000))
    changes: Mapped[dict | None] = mapped_column(JSONType)  # {question_id: {before, after}}
    score_before: Mapped[float | None] = mapped_column(Float)
    score_after: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvaluatorCap(Base):
    """An evaluator's daily assignment cap (overrides the tenant default)."""

    __tablename__ = "evaluator_caps"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    evaluator_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    daily_cap: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QualitySettings(Base):
    """Per-tenant quality settings; a missing row means the defaults in services.workload."""

    __tablename__ = "quality_settings"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    dispute_window_days: Mapped[int] = mapped_column(Integer, default=7)
    max_disputes_per_evaluation: Mapped[int] = mapped_column(Integer, default=2)
    max_open_disputes_per_evaluation: Mapped[int] = mapped_column(Integer, default=1)
    default_daily_cap: Mapped[int] = mapped_column(Integer, default=20)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
