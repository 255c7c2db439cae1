"""Sampling plans per tenant (CRUD, validated by the domain) and their runs.

A run loads the period's interaction facts with their risk signals, calls ``domain.sampling.select``
and stores the run and every pick with its reasons. Runs are keyed by (plan, plan version, period,
seed): the same request returns the stored run instead of drawing again, so re-running never
assigns twice; ``assign`` turns picks into evaluations through ``services.evaluations.assign``
(itself idempotent per conversation and form) and records each evaluation on its pick.

Risk signals, per interaction (``sampling_frame`` field <- source):
* ``customer_sentiment`` <- the fact (host STA or transcript score), else the stored text analytics;
* ``sentiment_trend`` <- the pipeline's interaction row (STA trend);
* ``escalation`` / ``compliance_miss`` <- stored text analytics (services.interaction_analytics);
* ``transferred``, ``csat``, ``t_handle_ms`` (per inquiry outliers) <- the fact;
* ``repeat_contact`` <- the fact's ``fcr`` is False (the customer had to come back);
* targeted agents <- an active coaching appointment (pending/booking/booked/manual, created
  before the period ends, not dated before it starts).
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.interactions import Interaction
from extension.coaching.models import Appointment
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.tenants import tenant_timezone
from extension.sampling.domain import selection as sampling
from extension.sampling.domain.plan import InvalidPlan, parse_plan, validate_plan
from extension.sampling.models import SamplingPick, SamplingPlanRow, SamplingRun
from extension.text import interaction_analytics

ACTIVE_COACHING = ("pending", "booking", "booked", "manual")


def new_id() -> str:
    return uuid.uuid4().hex


def _invalid(issues, prefix: str = "document") -> domain_errors.DomainError:
    errors = [{"field": prefix + issue.path.replace("/", ".").rstrip("."), "message": issue.message}
              for issue in issues]
    return domain_errors.Invalid("The sampling plan is invalid.", errors=errors)


def check_document(document: Any) -> None:
    issues = validate_plan(document)
    if issues:
        raise _invalid(issues)


# ---------------------------------------------------------------- plans


def plan_or_404(session: Session, tenant_id: str, plan_id: str) -> SamplingPlanRow:
    row = session.get(SamplingPlanRow, plan_id)
    if row is None or row.tenant_id != tenant_id:
        raise domain_errors.NotFound(f"No sampling plan {plan_id!r}.")
    return row


def create_plan(session: Session, *, tenant_id: str, actor: str, name: str,
                document: dict[str, Any]) -> SamplingPlanRow:
    check_document(document)
    row = SamplingPlanRow(id=new_id(), tenant_id=tenant_id, name=name, document=document, version=1,
                          active=True, created_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="sampling_plan.created",
                 subject_type="sampling_plan", subject_id=row.id, details={"name": name, "version": 1})
    return row


def update_plan(session: Session, *, tenant_id: str, plan_id: str, actor: str, name: str,
                document: dict[str, Any], active: bool | None = None) -> SamplingPlanRow:
    """Replace name and document; the version grows only when the document changed."""
    row = plan_or_404(session, tenant_id, plan_id)
    check_document(document)
    details: dict[str, Any] = {}
    if row.document != document:
        row.document, row.version = document, row.version + 1
        details["version"] = row.version
    if row.name != name:
        details["name"] = {"before": row.name, "after": name}
        row.name = name
    if active is not None and active != row.active:
        details["active"] = {"before": row.active, "after": active}
        row.active = active
    if details:
        session.flush()
        audit.record(session, tenant_id=tenant_id, actor=actor, action="sampling_plan.updated",
                     subject_type="sampling_plan", subject_id=row.id, details=details)
    return row


def deactivate(session: Session, *, tenant_id: str, plan_id: str, actor: str) -> SamplingPlanRow:
    row = plan_or_404(session, tenant_id, plan_id)
    if row.active:
        row.active = False
        session.flush()
        audit.record(session, tenant_id=tenant_id, actor=actor, action="sampling_plan.deactivated",
                     subject_type="sampling_plan", subject_id=row.id, details={"version": row.version})
    return row


def list_plans(session: Session, tenant_id: str, *, include_inactive: bool, offset: int,
               limit: int) -> list[SamplingPlanRow]:
    query = select(SamplingPlanRow).where(SamplingPlanRow.tenant_id == tenant_id)
    if not include_inactive:
        query = query.where(SamplingPlanRow.active.is_(True))
    query = query.order_by(SamplingPlanRow.created_at, SamplingPlanRow.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def plan_json(row: SamplingPlanRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "version": row.version, "active": row.active,
            "document": row.document, "created_by": row.created_by, "created_at": row.created_at,
            "updated_at": row.updated_at}


# ---------------------------------------------------------------- runs


def period_bounds(session: Session, tenant_id: str, start: date, end: date) -> tuple[datetime, datetime]:
    """Tenant-local days [start, end] as UTC instants [start 00:00, day after end 00:00)."""
    zone = ZoneInfo(tenant_timezone(session, tenant_id))
    first = datetime.combine(start, time(), zone)
    after = datetime.combine(end + timedelta(days=1), time(), zone)
    return first, after


def _seed_text(seed: Any, *, plan_id: str, start: date) -> str:
    return str(seed) if seed is not None else f"{plan_id}:{start.isoformat()}"


def _records(session: Session, tenant_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    facts = list(session.scalars(select(InteractionFact).where(
        InteractionFact.tenant_id == tenant_id, InteractionFact.ended_at >= start,
        InteractionFact.ended_at < end, InteractionFact.agent_id.is_not(None))
        .order_by(InteractionFact.ended_at, InteractionFact.conversation_id)))
    ids = [f.conversation_id for f in facts]
    text = interaction_analytics.signals(session, tenant_id, ids)
    trends: dict[str, float | None] = {}
    for begin in range(0, len(ids), 500):
        query = select(Interaction.conversation_id, Interaction.sentiment_trend).where(
            Interaction.tenant_id == tenant_id, Interaction.conversation_id.in_(ids[begin:begin + 500]))
        trends.update(session.execute(query).tuples().all())
    records = []
    for fact in facts:
        analysed = text.get(fact.conversation_id)
        sentiment = fact.customer_sentiment
        if sentiment is None and analysed is not None:
            sentiment = analysed.customer_sentiment
        records.append({
            "conversation_id": fact.conversation_id, "agent_id": fact.agent_id, "channel": fact.channel,
            "queue_id": fact.queue_id, "inquiry": fact.inquiry, "ended_at": fact.ended_at,
            "t_handle_ms": fact.t_handle_ms, "csat": fact.csat, "customer_sentiment": sentiment,
            "sentiment_trend": trends.get(fact.conversation_id), "transferred": bool(fact.transferred),
            "repeat_contact": fact.fcr is False,
            "escalation": bool(analysed and analysed.escalation),
            "compliance_miss": bool(analysed and analysed.compliance_miss),
            "qa_score": fact.qa_score,
        })
    return records


def _already_sampled(session: Session, tenant_id: str, start: datetime, end: datetime) -> set[str]:
    """Conversations picked by earlier runs whose period overlaps this one."""
    query = select(SamplingPick.conversation_id).join(SamplingRun, SamplingRun.id == SamplingPick.run_id)
    query = query.where(SamplingRun.tenant_id == tenant_id, SamplingRun.period_start < end,
                        SamplingRun.period_end > start)
    return set(session.scalars(query))


def _coaching_agents(session: Session, tenant_id: str, start: datetime, end: datetime) -> frozenset[str]:
    query = select(Appointment.agent_id).where(
        Appointment.tenant_id == tenant_id, Appointment.status.in_(ACTIVE_COACHING),
        Appointment.created_at < end,
        (Appointment.date_start.is_(None)) | (Appointment.date_start >= start))
    return frozenset(session.scalars(query))


def _finite(value: float) -> float | None:
    return None if value is None or math.isinf(value) or math.isnan(value) else round(float(value), 4)


def _fairness(selection: sampling.Selection, records: list[dict], plan) -> list[dict[str, Any]]:
    scores: dict[str, list[float]] = {}
    for record in records:
        if record["qa_score"] is not None:
            scores.setdefault(record["agent_id"], []).append(float(record["qa_score"]))
    precision = {p.agent_id: p for p in selection.precision(scores, plan=plan)}
    lines = []
    for agent_id in sorted(selection.agents):
        allocation, line = selection.agents[agent_id], precision[agent_id]
        lines.append({
            "agent_id": agent_id, "population": allocation.population,
            "already_sampled": allocation.already_sampled, "risk": allocation.risk,
            "random": allocation.random, "targeted": allocation.targeted, "fairness": allocation.fairness,
            "sample_size": allocation.total, "random_expected": _finite(allocation.random_expected),
            "random_cap": allocation.random_cap, "shortfall": allocation.shortfall,
            "scored": line.scored, "sd": _finite(line.sd), "sd_source": line.sd_source,
            "margin_of_error": _finite(line.margin), "projected_margin": _finite(line.projected_margin),
            "target_margin": plan.margin, "required_sample": line.required,
            "additional_needed": line.additional_needed, "meets_target": line.meets_target,
        })
    return lines


def run_plan(session: Session, *, tenant_id: str, plan_id: str, start: date, end: date, seed: Any,
             assign: bool, form_id: str | None,
             actor: str) -> tuple[SamplingRun, bool, dict[str, Any] | None]:
    """Draw (or find) the run; returns (run, created, assignment summary or None)."""
    plan_row = plan_or_404(session, tenant_id, plan_id)
    if not plan_row.active:
        raise domain_errors.Conflict(f"Sampling plan {plan_id!r} is deactivated.")
    if assign and not form_id:
        raise domain_errors.Invalid("Assigning needs a form.",
                      errors=[{"field": "form_id", "message": "Required when assign is true."}])
    if form_id:
        from extension.quality.forms import form_version

        try:
            form_version(session, tenant_id, form_id)
        except domain_errors.DomainError as exc:
            raise domain_errors.Invalid("Unknown form.",
                          errors=[{"field": "form_id", "message": exc.detail}]) from exc
    try:
        plan = parse_plan(plan_row.document)
    except InvalidPlan as exc:  # stored plans are validated; kept for plans saved by older code
        raise _invalid(exc.issues) from exc
    period_start, period_end = period_bounds(session, tenant_id, start, end)
    seed_text = _seed_text(seed, plan_id=plan_id, start=start)
    key = f"{plan_id}|v{plan_row.version}|{start.isoformat()}|{end.isoformat()}|{seed_text}"[:300]
    run = session.scalar(select(SamplingRun).where(SamplingRun.tenant_id == tenant_id,
                                                   SamplingRun.run_key == key))
    created = run is None
    if run is None:
        run = _draw(session, tenant_id=tenant_id, plan_row=plan_row, plan=plan, key=key, start=start,
                    end=end, period=(period_start, period_end), seed=seed_text, actor=actor,
                    form_id=form_id)
    summary = (_assign(session, run, form_id=cast(str, form_id), actor=actor)  # assign needs a form (above)
               if assign else None)
    return run, created, summary


def _draw(session: Session, *, tenant_id: str, plan_row: SamplingPlanRow, plan, key: str, start: date,
          end: date, period: tuple[datetime, datetime], seed: str, actor: str,
          form_id: str | None) -> SamplingRun:
    period_start, period_end = period
    records = _records(session, tenant_id, period_start, period_end)
    try:
        selection = sampling.select(
            records, plan, seed=seed, period_start=period_start, period_end=period_end,
            already_sampled=_already_sampled(session, tenant_id, period_start, period_end),
            coaching_agents=_coaching_agents(session, tenant_id, period_start, period_end))
    except ValueError as exc:
        raise domain_errors.Invalid("The period does not fit the plan.",
                      errors=[{"field": "to", "message": str(exc)}]) from exc
    run = SamplingRun(id=new_id(), tenant_id=tenant_id, plan_id=plan_row.id, plan_version=plan_row.version,
                      plan_document=plan_row.document, run_key=key, start_day=start, end_day=end,
                      period_start=period_start, period_end=period_end, seed=seed,
                      eligible=selection.eligible, budget=selection.budget, counts=dict(selection.counts),
                      fairness=_fairness(selection, records, plan), form_id=form_id, assigned=0,
                      created_by=actor)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
            session.add_all(SamplingPick(tenant_id=tenant_id, run_id=run.id, position=index,
                                         conversation_id=pick.conversation_id, agent_id=pick.agent_id,
                                         component=pick.component, reasons=list(pick.reasons))
                            for index, pick in enumerate(selection.picks))
            session.flush()
    except IntegrityError:  # the same run was drawn concurrently: use that one
        existing = session.scalar(select(SamplingRun).where(SamplingRun.tenant_id == tenant_id,
                                                            SamplingRun.run_key == key))
        if existing is None:
            raise
        return existing
    audit.record(session, tenant_id=tenant_id, actor=actor, action="sampling.run",
                 subject_type="sampling_run", subject_id=run.id,
                 details={"plan_id": plan_row.id, "plan_version": plan_row.version,
                          "from": start.isoformat(), "to": end.isoformat(), "seed": seed,
                          "eligible": selection.eligible, "counts": dict(selection.counts)})
    return run


def _assign(session: Session, run: SamplingRun, *, form_id: str, actor: str) -> dict[str, Any]:
    """Evaluations for the run's picks that have none yet; stops at the first refusal (e.g. no
    evaluator headroom left today) so a later re-run continues where this one stopped."""
    from extension.quality import evaluations

    pending = list(session.scalars(select(SamplingPick).where(
        SamplingPick.run_id == run.id, SamplingPick.evaluation_id.is_(None)).order_by(SamplingPick.position)))
    assigned, error = 0, None
    for pick in pending:
        try:
            with session.begin_nested():
                evaluation = evaluations.assign(
                    session, tenant_id=run.tenant_id, conversation_id=pick.conversation_id,
                    agent_id=pick.agent_id, form_id=form_id, actor=actor,
                    reason={"sampling_run": run.id, "component": pick.component, "reasons": pick.reasons})
        except domain_errors.DomainError as exc:
            error = {"conversation_id": pick.conversation_id, "status": exc.status, "detail": exc.detail}
            break
        pick.evaluation_id = evaluation.id
        assigned += 1
    if assigned:
        run.assigned += assigned
        run.form_id = run.form_id or form_id
        session.flush()
        audit.record(session, tenant_id=run.tenant_id, actor=actor, action="sampling.run.assigned",
                     subject_type="sampling_run", subject_id=run.id,
                     details={"form_id": form_id, "assigned": assigned, "error": error})
    remaining = len(pending) - assigned
    return {"assigned_now": assigned, "assigned_total": run.assigned, "pending": remaining, "error": error}


def run_or_404(session: Session, tenant_id: str, run_id: str) -> SamplingRun:
    run = session.get(SamplingRun, run_id)
    if run is None or run.tenant_id != tenant_id:
        raise domain_errors.NotFound(f"No sampling run {run_id!r}.")
    return run


def list_runs(session: Session, tenant_id: str, plan_id: str, *, offset: int,
              limit: int) -> list[SamplingRun]:
    plan_or_404(session, tenant_id, plan_id)
    query = select(SamplingRun).where(SamplingRun.tenant_id == tenant_id, SamplingRun.plan_id == plan_id) \
        .order_by(SamplingRun.created_at.desc(), SamplingRun.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def picks(session: Session, run: SamplingRun, *, offset: int, limit: int) -> list[SamplingPick]:
    query = select(SamplingPick).where(SamplingPick.run_id == run.id).order_by(SamplingPick.position) \
        .offset(offset).limit(limit)
    return list(session.scalars(query))


def pick_count(session: Session, run: SamplingRun) -> int:
    return cast(int, session.scalar(  # COUNT always returns one row
        select(func.count()).select_from(SamplingPick).where(SamplingPick.run_id == run.id)))


def run_json(run: SamplingRun) -> dict[str, Any]:
    return {"id": run.id, "plan_id": run.plan_id, "plan_version": run.plan_version,
            "from": run.start_day, "to": run.end_day, "period_start": run.period_start,
            "period_end": run.period_end, "seed": run.seed, "eligible": run.eligible, "budget": run.budget,
            "counts": run.counts, "form_id": run.form_id, "assigned": run.assigned,
            "created_by": run.created_by, "created_at": run.created_at, "fairness": run.fairness}


def pick_json(pick: SamplingPick) -> dict[str, Any]:
    return {"position": pick.position, "conversation_id": pick.conversation_id, "agent_id": pick.agent_id,
            "component": pick.component, "reasons": pick.reasons, "evaluation_id": pick.evaluation_id}
