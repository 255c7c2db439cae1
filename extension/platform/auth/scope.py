"""Whose data a principal may read: agent -> self, supervisor -> own teams, others -> tenant.

A supervisor's teams are their own team and the teams of their direct reports; their agents
are their direct reports plus everyone on those teams. Every lookup filters on the
principal's tenant first, so another tenant's id is simply "not found" (404), never 403.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from extension.platform import errors as domain_errors
from extension.platform.auth.permissions import Principal
from extension.platform.models.people import Person


def tenant_people(principal: Principal):
    """The one tenancy filter every people query starts from."""
    return select(Person).where(Person.tenant_id == principal.tenant_id)


def visible_team_ids(session: Session, principal: Principal) -> frozenset[str] | None:
    """Team ids the principal may read; None means every team of the tenant."""
    if principal.tenant_wide:
        return None
    me = session.get(Person, (principal.tenant_id, principal.person_id))
    own = {me.team_id} if me is not None and me.team_id else set()
    if principal.role != "supervisor":
        return frozenset(own)
    reports = tenant_people(principal).where(Person.supervisor_id == principal.person_id)
    return frozenset(own | {p.team_id for p in session.scalars(reports) if p.team_id})


def visible_agent_ids(session: Session, principal: Principal) -> frozenset[str] | None:
    """Person ids whose analytics the principal may read; None means the whole tenant."""
    if principal.tenant_wide:
        return None
    if principal.role != "supervisor":
        return frozenset({principal.person_id})
    teams = visible_team_ids(session, principal)
    query = tenant_people(principal).where(
        # not None: a principal that is not tenant-wide sees a set of teams
        or_(Person.supervisor_id == principal.person_id, Person.team_id.in_(cast(frozenset[str], teams))))
    return frozenset({principal.person_id, *(p.id for p in session.scalars(query))})


def agent_or_404(session: Session, principal: Principal, agent_id: str) -> Person:
    """The person, if in the principal's tenant (else 404) and scope (else 403)."""
    person = session.get(Person, (principal.tenant_id, agent_id))
    if person is None:
        raise domain_errors.NotFound(f"No agent {agent_id!r}.")
    visible = visible_agent_ids(session, principal)
    if visible is not None and agent_id not in visible:
        raise domain_errors.Forbidden("This agent is outside your scope.")
    return person


def team_exists(session: Session, principal: Principal, team_id: str) -> bool:
    query = tenant_people(principal).where(Person.team_id == team_id).limit(1)
    return session.scalars(query).first() is not None


def team_members_or_404(session: Session, principal: Principal, team_id: str) -> list[Person]:
    """The team's people, if the team exists in the tenant (else 404) and is in scope (else 403)."""
    members = list(session.scalars(tenant_people(principal).where(Person.team_id == team_id)
                                   .order_by(Person.id)))
    if not members:
        raise domain_errors.NotFound(f"No team {team_id!r}.")
    if principal.role == "agent":  # an agent's own team lists their teammates' daily figures
        raise domain_errors.Forbidden("The team view is for supervisors, managers and admins.")
    visible = visible_team_ids(session, principal)
    if visible is not None and team_id not in visible:
        raise domain_errors.Forbidden("This team is outside your scope.")
    return members
