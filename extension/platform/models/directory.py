"""The host's groups and routing queues, and who belongs to them (directory sync).

Rows are upserted by extension.platform.directory from ``GET /api/v2/groups`` (+ members) and
``GET /api/v2/routing/queues`` (+ members). A group or queue the host no longer lists is kept
with ``active = false`` (facts and KPIs still name it); memberships are plain links and are
deleted when the host drops them. ``person_id`` is the host user id: it is not a foreign key to
``people`` because a member may be a user Coachwire has not synced (e.g. an inactive one).
``synced_at`` is when a sync last changed the row, so a sync that finds nothing new writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extension.platform.db import Base
from extension.platform.models._types import HostId, TenantId, UTCDateTime, utcnow

NAME = String(200)


class Group(Base):
    __tablename__ = "directory_groups"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    tenant_id: Mapped[str] = mapped_column(TenantId, primary_key=True)
    id: Mapped[str] = mapped_column(HostId, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, default="")
    type: Mapped[str | None] = mapped_column(String(16))  # Group.type: official | social
    visibility: Mapped[str | None] = mapped_column(String(16))  # public | owners | members
    member_count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Queue(Base):
    __tablename__ = "directory_queues"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    tenant_id: Mapped[str] = mapped_column(TenantId, primary_key=True)
    id: Mapped[str] = mapped_column(HostId, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, default="")
    division_id: Mapped[str | None] = mapped_column(HostId)
    division_name: Mapped[str | None] = mapped_column(NAME)
    member_count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "group_id"],
                             ["directory_groups.tenant_id", "directory_groups.id"], ondelete="CASCADE"),
        Index("ix_group_members_tenant_person", "tenant_id", "person_id"),
    )

    tenant_id: Mapped[str] = mapped_column(TenantId, primary_key=True)
    group_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    person_id: Mapped[str] = mapped_column(HostId, primary_key=True)


class QueueMember(Base):
    __tablename__ = "queue_members"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "queue_id"],
                             ["directory_queues.tenant_id", "directory_queues.id"], ondelete="CASCADE"),
        Index("ix_queue_members_tenant_person", "tenant_id", "person_id"),
    )

    tenant_id: Mapped[str] = mapped_column(TenantId, primary_key=True)
    queue_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    person_id: Mapped[str] = mapped_column(HostId, primary_key=True)
    joined: Mapped[bool | None]  # QueueMember.joined: the member takes the queue's interactions
