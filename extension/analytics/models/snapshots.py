"""Stored peer snapshots: the per-agent sums the agent view ranks against, built by the worker.

One row per (tenant, interval): the arrays of :class:`extension.analytics.peers.PeerSnapshot`
serialized (``extension.analytics.snapshots``), the moment the data was last known current
(``as_of``), when it was built and the facts watermark it was built from. Every web process
loads a row in milliseconds instead of summing the tenant's rollups in the request.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import TenantId, UTCDateTime


class StoredPeerSnapshot(Base):
    __tablename__ = "peer_snapshots"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    start_day: Mapped[date] = mapped_column(Date, primary_key=True)
    end_day: Mapped[date] = mapped_column(Date, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # data known current at this moment
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    layout: Mapped[int] = mapped_column(Integer)  # the payload's format (snapshots._FORMAT)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
