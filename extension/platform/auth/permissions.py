"""The one permission table: role -> what it may do. The API and the panels both check it.

Scope (whose data) is separate from permission (which action): an agent and a manager both
hold ``analytics.read``, and :mod:`extension.platform.auth.scope` narrows the agent to their own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from extension.platform.auth.tokens import ROLES

ANALYTICS_READ = "analytics.read"
FORECASTS_READ = "forecasts.read"
ALERTS_READ = "alerts.read"
ALERTS_WRITE = "alerts.write"  # acknowledge/close alerts in the inbox
COACHING_READ = "coaching.read"
COACHING_WRITE = "coaching.write"
POLICIES_WRITE = "policies.write"
SETTINGS_WRITE = "settings.write"
FORMS_WRITE = "forms.write"
EVALUATIONS_READ = "evaluations.read"
EVALUATIONS_WRITE = "evaluations.write"  # score, submit, release, retract, reassign
EVALUATIONS_ASSIGN = "evaluations.assign"
EVALUATIONS_ACKNOWLEDGE = "evaluations.acknowledge"
DISPUTES_CREATE = "disputes.create"
DISPUTES_RESOLVE = "disputes.resolve"
WORKLOAD_READ = "workload.read"
CALIBRATIONS_READ = "calibrations.read"  # read sessions, score in the ones you rate in
CALIBRATIONS_WRITE = "calibrations.write"  # create and close sessions
SAMPLING_READ = "sampling.read"
SAMPLING_WRITE = "sampling.write"
DIRECTORY_READ = "directory.read"  # synced groups and queues; an agent sees only their own
PHRASE_LISTS_READ = "phrase_lists.read"
PHRASE_LISTS_WRITE = "phrase_lists.write"  # replace or revert the tenant's compliance phrase lists
PRIVACY_ADMIN = "privacy.admin"  # subject export and erasure, the data map
PEOPLE_READ = "people.read"  # list people (a supervisor: their own team)
ROLES_WRITE = "roles.write"  # the role mapping and one person's role

_ROLES = ("agent", "supervisor", "qa_analyst", "manager", "admin")
# permission:               agent supervisor qa_analyst manager admin
_TABLE = {
    ANALYTICS_READ:          "X X X X X",
    FORECASTS_READ:          "X X X X X",
    ALERTS_READ:             ". X X X X",
    ALERTS_WRITE:            ". X X X X",
    COACHING_READ:           "X X X X X",
    COACHING_WRITE:          ". X . X X",
    POLICIES_WRITE:          ". . . X X",
    SETTINGS_WRITE:          ". . . . X",
    FORMS_WRITE:             ". . X X X",
    EVALUATIONS_READ:        "X X X X X",
    EVALUATIONS_WRITE:       ". . X X X",
    EVALUATIONS_ASSIGN:      ". . . X X",
    EVALUATIONS_ACKNOWLEDGE: "X X X X X",
    DISPUTES_CREATE:         "X X X X X",
    DISPUTES_RESOLVE:        ". X . X X",
    WORKLOAD_READ:           ". X X X X",
    CALIBRATIONS_READ:       ". X X X X",
    CALIBRATIONS_WRITE:      ". . X X X",
    SAMPLING_READ:           ". . X X X",
    SAMPLING_WRITE:          ". . X X X",
    DIRECTORY_READ:          "X X X X X",
    PHRASE_LISTS_READ:       "X X X X X",
    PHRASE_LISTS_WRITE:      ". . X . X",
    PRIVACY_ADMIN:           ". . . . X",
    PEOPLE_READ:             ". X X X X",
    ROLES_WRITE:             ". . . . X",
}
PERMISSIONS: dict[str, frozenset[str]] = {
    role: frozenset(perm for perm, marks in _TABLE.items() if marks.split()[column] == "X")
    for column, role in enumerate(_ROLES)
}
assert set(PERMISSIONS) == set(ROLES), "every role needs a column in the permission table"

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
