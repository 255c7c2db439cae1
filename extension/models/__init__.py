"""All tables, one module per concept; importing this package registers them on Base.metadata."""

from extension.analytics.models.delivery import AlertDelivery, AlertSettings, OutcomeModel  # noqa: F401
from extension.analytics.models.facts import (
    InteractionFact,
    KpiRollupAgentDaily,
    KpiRollupDaily,
    PerformanceAlert,
)
from extension.analytics.models.interactions import Interaction
from extension.coaching.models import Appointment, Flag, Recognition, Task
from extension.models.audit import AuditEntry
from extension.models.inbox import InboxEvent
from extension.models.people import Person
from extension.models.tenants import Tenant

# modules filled by the quality and sync work; imported so their tables register
from extension.quality.models import calibration, evaluations as quality  # noqa: F401  isort: skip
from extension.analytics.models import sync  # noqa: F401  isort: skip
from extension.sampling import models as sampling  # noqa: F401  isort: skip
from extension.models import directory  # noqa: F401  isort: skip
from extension.text import models as text_settings  # noqa: F401  isort: skip

__all__ = [
    "Appointment",
    "AuditEntry",
    "Flag",
    "InboxEvent",
    "Interaction",
    "InteractionFact",
    "KpiRollupAgentDaily",
    "KpiRollupDaily",
    "PerformanceAlert",
    "Person",
    "Recognition",
    "Task",
    "Tenant",
]
