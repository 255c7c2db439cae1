"""The platform's tables: tenants, people, the directory, the audit trail, the inbox, periodic
leases and worker heartbeats, sign-in states and panel sessions."""

from extension.platform.models import (  # noqa: F401  (register tables)
    audit,
    directory,
    inbox,
    ops,
    people,
    sessions,
    tenants,
)
from extension.platform.models.audit import AuditEntry
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant

__all__ = ["AuditEntry", "InboxEvent", "Person", "Tenant"]
