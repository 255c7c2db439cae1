"""Evaluator workload: per-tenant quality settings, daily caps, headroom, picking, overdue work.

An evaluator is an active person with role ``qa_analyst`` (or ``manager``/``admin`` when named
explicitly). A day is the tenant's local day; an evaluation counts against the cap of the
evaluator it is assigned to on the day it was (re)assigned, unless it was retracted. Assigning
takes a per-tenant advisory lock on PostgreSQL so two sampling runs cannot both take the last
unit of headroom (SQLite serialises writers already).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.tenants import tenant_timezone
from extension.quality.models.evaluations import OPEN_STATES, Evaluation, EvaluatorCap, QualitySettings

DEFAULTS = {"dispute_window_days": 7, "max_disputes_per_evaluation": 2,
            "max_open_disputes_per_evaluation": 1, "default_daily_cap": 20}
POOL_ROLES = ("qa_analyst",)  # picked automatically
EVALUATOR_ROLES = ("qa_analyst", "manager", "admin")  # may be named explicitly


@dataclass(frozen=True)
class Settings:
    dispute_window_days: int
    max_disputes_per_evaluation: int
    max_open_disputes_per_evaluation: int
    default_daily_cap: int


def settings(session: Session, tenant_id: str) -> Settings:
    row = session.get(QualitySettings, tenant_id)
    if row is None:
        return Settings(**DEFAULTS)
    return Settings(**{k: getattr(row, k) for k in DEFAULTS})


def update_settings(session: Session, *, tenant_id: str, actor: str, values: dict) -> Settings:
    row = session.get(QualitySettings, tenant_id)
    before = settings(session, tenant_id)
    if row is None:
        row = QualitySettings(tenant_id=tenant_id, **DEFAULTS)
        session.add(row)
    changes = {k: {"before": getattr(before, k), "after": v} for k, v in values.items()
               if getattr(before, k) != v}
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    if changes:
        audit.record(session, tenant_id=tenant_id, actor=actor, action="quality.settings.updated",
                     subject_type="settings", subject_id="quality", details=changes)
    return settings(session, tenant_id)


def local_day(session: Session, tenant_id: str, at: datetime | None = None) -> str:
    zone = ZoneInfo(tenant_timezone(session, tenant_id))
    return (at or utcnow()).astimezone(zone).date().isoformat()


def lock_workload(session: Session, tenant_id: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"workload:{tenant_id}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def evaluator_or_422(session: Session, tenant_id: str, evaluator_id: str, *,
                     field: str = "evaluator_id") -> Person:
    person = session.get(Person, (tenant_id, evaluator_id))
    if person is None or not person.active or person.role not in EVALUATOR_ROLES:
        raise domain_errors.Invalid("Not an evaluator of this tenant.",
                      errors=[{"field": field, "message": "unknown person or not an evaluator"}])
    return person


def _pool(session: Session, tenant_id: str) -> list[Person]:
    return list(session.scalars(select(Person).where(
        Person.tenant_id == tenant_id, Person.active.is_(True), Person.role.in_(POOL_ROLES))
        .order_by(Person.id)))


def _caps(session: Session, tenant_id: str) -> dict[str, int]:
    rows = session.scalars(select(EvaluatorCap).where(EvaluatorCap.tenant_id == tenant_id))
    return {row.evaluator_id: row.daily_cap for row in rows}


def _counts(session: Session, tenant_id: str, *, where) -> dict[str, int]:
    """Work assigned in Coachwire; evaluations mirrored from Genesys are run (and capped) there."""
    query = (select(Evaluation.evaluator_id, func.count())
             .where(Evaluation.tenant_id == tenant_id, Evaluation.host_evaluation_id.is_(None), *where)
             .group_by(Evaluation.evaluator_id))
    return dict(session.execute(query).tuples().all())


def queues(session: Session, tenant_id: str, *, now: datetime | None = None) -> list[dict]:
    """Per evaluator (the pool plus anyone holding open work): cap, today's load, headroom."""
    now = now or utcnow()
    today = local_day(session, tenant_id, now)
    caps, default = _caps(session, tenant_id), settings(session, tenant_id).default_daily_cap
    assigned = _counts(session, tenant_id, where=(Evaluation.assigned_day == today,
                                                  Evaluation.status != "retracted"))
    open_ = _counts(session, tenant_id, where=(Evaluation.status.in_(OPEN_STATES),))
    overdue = _counts(session, tenant_id, where=(Evaluation.status.in_(OPEN_STATES),
                                                 Evaluation.due_at < now))
    people = {p.id: p for p in _pool(session, tenant_id)}
    extra = (set(open_) | set(assigned) | set(caps)) - set(people)
    if extra:
        people.update((p.id, p) for p in session.scalars(select(Person).where(
            Person.tenant_id == tenant_id, Person.id.in_(sorted(extra)))))
    rows = []
    for person_id in sorted(people):
        cap = caps.get(person_id, default)
        rows.append({"evaluator_id": person_id, "name": people[person_id].name, "daily_cap": cap,
                     "cap_is_default": person_id not in caps, "day": today,
                     "assigned_today": assigned.get(person_id, 0),
                     "headroom": max(0, cap - assigned.get(person_id, 0)),
                     "open": open_.get(person_id, 0), "overdue": overdue.get(person_id, 0)})
    return rows


def headroom(session: Session, tenant_id: str, evaluator_id: str) -> int:
    today = local_day(session, tenant_id)
    cap = _caps(session, tenant_id).get(evaluator_id, settings(session, tenant_id).default_daily_cap)
    used = _counts(session, tenant_id, where=(Evaluation.assigned_day == today,
                                              Evaluation.status != "retracted",
                                              Evaluation.evaluator_id == evaluator_id))
    return max(0, cap - used.get(evaluator_id, 0))


def pick_evaluator(session: Session, tenant_id: str, *, evaluator_id: str | None,
                   agent_id: str, field: str = "evaluator_id") -> str:
    """The named evaluator if they have headroom (else 409), or the pool member with the most
    headroom (ties: fewest open evaluations, then id); 409 when nobody has any.

    Call under :func:`lock_workload`. Nobody evaluates themselves.
    """
    if evaluator_id is not None:
        evaluator_or_422(session, tenant_id, evaluator_id, field=field)
        if evaluator_id == agent_id:
            raise domain_errors.Invalid("Nobody evaluates their own interaction.",
                          errors=[{"field": field, "message": "is the evaluated agent"}])
        if headroom(session, tenant_id, evaluator_id) <= 0:
            raise domain_errors.Conflict(f"Evaluator {evaluator_id!r} has reached the daily cap.")
        return evaluator_id
    candidates = [q for q in queues(session, tenant_id)
                  if q["evaluator_id"] != agent_id and q["headroom"] > 0
                  and q["evaluator_id"] in {p.id for p in _pool(session, tenant_id)}]
    if not candidates:
        raise domain_errors.Conflict("No evaluator has headroom left today.")
    best = min(candidates, key=lambda q: (-q["headroom"], q["open"], q["evaluator_id"]))
    return best["evaluator_id"]


def set_cap(session: Session, *, tenant_id: str, evaluator_id: str, daily_cap: int,
            actor: str) -> EvaluatorCap:
    if session.get(Person, (tenant_id, evaluator_id)) is None:  # the id is the URL's: not found
        raise domain_errors.NotFound(f"No person {evaluator_id!r}.")
    evaluator_or_422(session, tenant_id, evaluator_id)
    row = session.get(EvaluatorCap, (tenant_id, evaluator_id))
    before = row.daily_cap if row is not None else None
    if row is None:
        row = EvaluatorCap(tenant_id=tenant_id, evaluator_id=evaluator_id, daily_cap=daily_cap)
        session.add(row)
    row.daily_cap = daily_cap
    session.flush()
    if before != daily_cap:
        audit.record(session, tenant_id=tenant_id, actor=actor, action="workload.cap.set",
                     subject_type="person", subject_id=evaluator_id,
                     details={"before": before, "after": daily_cap})
    return row


def overdue(session: Session, tenant_id: str, *, now: datetime | None = None,
            evaluator_id: str | None = None, agent_ids: frozenset[str] | None = None,
            offset: int = 0, limit: int = 100) -> list[Evaluation]:
    """Open evaluations past their due date, most overdue first (``agent_ids``: only these)."""
    query = select(Evaluation).where(Evaluation.tenant_id == tenant_id,
                                     Evaluation.host_evaluation_id.is_(None),
                                     Evaluation.status.in_(OPEN_STATES),
                                     Evaluation.due_at < (now or utcnow()))
    if evaluator_id:
        query = query.where(Evaluation.evaluator_id == evaluator_id)
    if agent_ids is not None:
        query = query.where(Evaluation.agent_id.in_(sorted(agent_ids)))
    query = query.order_by(Evaluation.due_at, Evaluation.id).offset(offset).limit(limit)
    return list(session.scalars(query))
