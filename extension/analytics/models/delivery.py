"""Outcome models per tenant, alert settings, and the idempotent alert deliveries.

``outcome_models`` keeps a fitted model as plain JSON parameters (coefficients, scaler, category
vocabularies), never a pickle: it can be read, diffed and applied without scikit-learn, and no
stored bytes are ever executed. ``alert_deliveries`` holds one row per (alert raise, channel),
written under a unique key before any email or webhook call, so a retried job resumes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import JSONType, TenantId, UTCDateTime, utcnow


class OutcomeModel(Base):
    """One fitted target (``satisfaction`` or ``resolution``) of a tenant's outcome model."""

    __tablename__ = "outcome_models"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    target: Mapped[str] = mapped_column(String(16), primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    n: Mapped[int] = mapped_column(Integer)
    brier: Mapped[float | None] = mapped_column(Float)  # on the held-out split
    brier_base: Mapped[float | None] = mapped_column(Float)  # base-rate predictor, same split
    params: Mapped[dict] = mapped_column(JSONType)
    report: Mapped[dict] = mapped_column(JSONType, default=dict)  # calibration deciles, split sizes


class AlertSettings(Base):
    """Per-tenant alerting: threshold rules, cool-down, and where raised alerts are delivered."""

    __tablename__ = "alert_settings"
    __sealed__ = ("webhook_secret_enc",)  # re-encrypted by ``flask tenants reseal``

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    rules: Mapped[list] = mapped_column(JSONType, default=list)  # [{rule_id, metric, op, value}]
    cooldown_hours: Mapped[int] = mapped_column(Integer, default=72)
    email_enabled: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret_enc: Mapped[str | None] = mapped_column(String(2000))  # SecretBox token
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertDelivery(Base):
    """One channel's delivery of one raise of an alert; ``idempotency_key`` is unique."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "alert_key", "raise_id", "channel",
                         name="uq_alert_deliveries_raise_channel"),
        UniqueConstraint("idempotency_key", name="uq_alert_deliveries_idempotency_key"),
        Index("ix_alert_deliveries_status", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(TenantId, ForeignKey("tenants.id", ondelete="CASCADE"))
    alert_key: Mapped[str] = mapped_column(String(300))
    raise_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # panel | email | webhook
    idempotency_key: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
