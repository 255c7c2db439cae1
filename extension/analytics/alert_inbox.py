"""The alert inbox as a service: which alerts a person sees, and acknowledging or closing one.

The API (``extension.analytics.api.alerts``) and the team home panel both go through here, so the
scope, the allowed transitions, the details kept and the audit row are one piece of code."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select

from extension.analytics.models.facts import PerformanceAlert
from extension.platform import audit
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.models._types import utcnow

# what each action does: (allowed current statuses, new status, audit action)
ACTIONS = {"acknowledge": (("open",), "acknowledged", "alert.acknowledged"),
           "close": (("open", "acknowledged"), "closed", "alert.closed")}


class NotAllowedNow(Exception):
    """The alert's status forbids the action (acknowledging a closed alert)."""

    def __init__(self, alert: PerformanceAlert, new_status: str) -> None:
        super().__init__(f"The alert is {alert.status}; it cannot be {new_status} now.")
        self.alert, self.new_status = alert, new_status


def scoped(session, principal: Principal, *, status: str = "all", agents: Iterable[str] | None = None,
           teams: Iterable[str] | None = None, resolved: bool = False):
    """Alerts about the agents and teams the caller may see, newest first. A caller that has
    already resolved its scope passes ``agents``/``teams`` with ``resolved=True`` (None: all)."""
    query = select(PerformanceAlert).where(PerformanceAlert.tenant_id == principal.tenant_id)
    if status != "all":
        query = query.where(PerformanceAlert.status == status)
    if not resolved:
        agents = scope.visible_agent_ids(session, principal)
        teams = scope.visible_team_ids(session, principal) if agents is not None else None
    if agents is not None:
        query = query.where(or_(
            and_(PerformanceAlert.subject_type == "agent", PerformanceAlert.subject_id.in_(sorted(agents))),
            and_(PerformanceAlert.subject_type == "team",
                 PerformanceAlert.subject_id.in_(sorted(teams or ())))))
    return query.order_by(PerformanceAlert.raised_at.desc(), PerformanceAlert.key)


def act(session, principal: Principal, key: str, action: str, *, note: str | None = None
        ) -> PerformanceAlert | None:
    """Acknowledge or close one alert in the caller's scope (locked, audited); None when there is
    no such alert in scope; :class:`NotAllowedNow` when its status forbids the action."""
    allowed, new_status, audit_action = ACTIONS[action]
    alert = session.scalars(scoped(session, principal).where(PerformanceAlert.key == key)
                            .with_for_update()).first()
    if alert is None:
        return None
    if alert.status not in allowed:
        raise NotAllowedNow(alert, new_status)
    now = utcnow()
    extra = {"note": note} if note is not None else {}
    alert.details = {**(alert.details or {}), f"{new_status}_by": principal.person_id,
                     f"{new_status}_at": now.isoformat(), **extra}
    previous, alert.status = alert.status, new_status
    audit.record(session, tenant_id=principal.tenant_id, actor=f"person:{principal.person_id}",
                 action=audit_action, subject_type="alert", subject_id=key,
                 details={"previous": previous, "note": note})
    session.flush()
    return alert
