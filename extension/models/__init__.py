"""All tables, one module per concept; importing this package registers them on Base.metadata."""

from extension.models.analytics import InteractionFact, KpiRollupDaily, PerformanceAlert
from extension.models.audit import AuditEntry
from extension.models.coaching import Appointment, Flag, Recognition, Task
from extension.models.inbox import InboxEvent
from extension.models.interactions import Interaction
from extension.models.people import Person
from extension.models.tenants import Tenant

__all__ = [
    "Appointment",
    "AuditEntry",
    "Flag",
    "InboxEvent",
    "Interaction",
    "InteractionFact",
    "KpiRollupDaily",
    "PerformanceAlert",
    "Person",
    "Recognition",
    "Task",
    "Tenant",
]
