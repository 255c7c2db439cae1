"""The one permission table: role -> what it may do. The API and the panels both check it.

Scope (whose data) is separate from permission (which action): an agent and a manager both
hold ``analytics.read``, and :mod:`extension.auth.scope` narrows the agent to their own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from extension.auth.tokens import ROLES

ANALYTICS_READ = "analytics.read"
ALERTS_READ = "alerts.read"
FORECASTS_READ = "forecasts.read"
EVALUATIONS_READ = "evaluations.read"
EVALUATIONS_WRITE = "evaluations.write"
COACHING_READ = "coaching.read"
COACHING_WRITE = "coaching.write"
POLICIES_WRITE = "policies.write"
SETTINGS_WRITE = "settings.write"

_EVERYONE = {ANALYTICS_READ, FORECASTS_READ, EVALUATIONS_READ, COACHING_READ}
_LEADS = _EVERYONE | {ALERTS_READ, COACHING_WRITE}

PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset(_EVERYONE),
    "supervisor": frozenset(_LEADS),
    "qa_analyst": frozenset(_EVERYONE | {ALERTS_READ, EVALUATIONS_WRITE}),
    "manager": frozenset(_LEADS | {EVALUATIONS_WRITE, POLICIES_WRITE}),
    "admin": frozenset(_LEADS | {EVALUATIONS_WRITE, POLICIES_WRITE, SETTINGS_WRITE}),
}
assert set(PERMISSIONS) == set(ROLES), "every role needs a row in the permission table"

# roles whose analytics scope is the whole tenant; the others are narrowed in auth.scope
TENANT_WIDE = frozenset({"qa_analyst", "manager", "admin"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: set by ``require`` after the token and the person were checked."""

    tenant_id: str
    person_id: str
    role: str

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    @property
    def tenant_wide(self) -> bool:
        return self.role in TENANT_WIDE


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())
