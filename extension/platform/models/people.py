from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, TenantId, UTCDateTime, utcnow


class Person(Base):
    """A host user known to Coachwire (agent, supervisor, analyst, manager, admin)."""

    __tablename__ = "people"
    __table_args__ = (Index("ix_people_tenant_supervisor", "tenant_id", "supervisor_id"),)

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(HostId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    # "mapped": the tenant's role mapping decides (sign-in, people sync); "override": an admin
    # set the role and the mapping leaves it alone
    role_source: Mapped[str] = mapped_column(String(16), default="mapped",
                                             server_default="mapped")
    team_id: Mapped[str | None] = mapped_column(HostId)
    supervisor_id: Mapped[str | None] = mapped_column(HostId)
    active: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # `flask tokens revoke --person`: tokens issued before this instant are refused
    tokens_not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """One revoked bearer token (its ``jti``), kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    tenant_id: Mapped[str] = mapped_column(
        TenantId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(HostId)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
