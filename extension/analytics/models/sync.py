"""History sync from the host: per-tenant cursors; per-tenant analytics settings (FCR).

``sync_cursors`` holds, per tenant and stream, the interval synced without a gap:
``synced_from`` (where that run started) to ``synced_until`` (the end of the last fully synced
chunk, committed with the chunk's facts), so an interrupted run resumes there. ``job_*`` remember
an async details job in flight (its id, its interval and the results cursor of the last stored
page), so a resumed run continues that job instead of asking the host for a new one.

``analytics_settings`` holds the FCR window and the per-tenant secret (sealed with the data keys)
that salts customer keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import TenantId, UTCDateTime, utcnow


class SyncCursor(Base):
    __tablename__ = "sync_cursors"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(32), primary_key=True)  # "conversations"
    synced_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[str | None] = mapped_column(String(100))
    job_interval: Mapped[str | None] = mapped_column(String(100))
    job_cursor: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AnalyticsSettings(Base):
    __tablename__ = "analytics_settings"
    __sealed__ = ("customer_secret_enc",)  # re-encrypted by ``flask tenants reseal``

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    fcr_window_days: Mapped[int] = mapped_column(Integer, default=7)
    customer_secret_enc: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
