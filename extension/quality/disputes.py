"""Disputes: an agent challenges named questions of a released evaluation; a second reviewer
(never the original evaluator, nor the agent) resolves it as upheld, rejected or partially
upheld, changing answers where upheld; the evaluation is rescored and both scores audited.

Limits (per tenant, ``workload.settings``): disputes are accepted for ``dispute_window_days``
after release; an evaluation takes at most ``max_disputes_per_evaluation`` disputes in all and
``max_open_disputes_per_evaluation`` at once (voided disputes of a retraction do not count).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.models._types import utcnow
from extension.quality import evaluations, workload
from extension.quality.forms import new_id
from extension.quality.models.evaluations import Dispute, Evaluation

DISPUTABLE = ("released", "acknowledged")


def open_dispute(session: Session, *, principal: Principal, evaluation_id: str,
                 items: list[dict[str, str]]) -> Dispute:
    evaluation = evaluations.get_visible(session, principal, evaluation_id, lock=True)
    if evaluation.agent_id != principal.person_id:
        raise domain_errors.Forbidden("Only the evaluated agent may dispute an evaluation.")
    if evaluation.host_evaluation_id is not None:  # Genesys owns it: a rescore here would fork it
        raise domain_errors.Conflict("This evaluation was made in Genesys; dispute it there.")
    if evaluation.status not in DISPUTABLE:
        raise domain_errors.Conflict(f"Cannot dispute an evaluation that is {evaluation.status}.")
    limits = workload.settings(session, principal.tenant_id)
    assert evaluation.released_at is not None  # stamped when it was released
    if utcnow() > evaluation.released_at + timedelta(days=limits.dispute_window_days):
        raise domain_errors.Conflict(f"Disputes close {limits.dispute_window_days} days after release.")
    form = evaluations.form_of(session, evaluation)
    errors, seen = [], set()
    for i, item in enumerate(items):
        qid = item["question_id"]
        if form.question(qid) is None:
            errors.append({"field": f"items.{i}.question_id", "message": "not a question of this form"})
        elif qid in seen:
            errors.append({"field": f"items.{i}.question_id", "message": "disputed twice"})
        seen.add(qid)
    if errors:
        raise domain_errors.Invalid("Some disputed questions are not valid.", errors=errors)
    counts = _counts(session, evaluation)
    if counts["total"] >= limits.max_disputes_per_evaluation:
        raise domain_errors.Conflict(f"An evaluation takes at most {limits.max_disputes_per_evaluation} "
                                       "disputes.")
    if counts["open"] >= limits.max_open_disputes_per_evaluation:
        raise domain_errors.Conflict("This evaluation already has an open dispute.")
    dispute = Dispute(id=new_id(), tenant_id=principal.tenant_id, evaluation_id=evaluation.id,
                      agent_id=evaluation.agent_id, status="open", items=list(items), created_at=utcnow())
    session.add(dispute)
    session.flush()
    audit.record(session, tenant_id=principal.tenant_id, actor=principal.person_id, action="dispute.opened",
                 subject_type="dispute", subject_id=dispute.id,
                 details={"evaluation_id": evaluation.id, "items": list(items),
                          "total_score": evaluation.total_score})
    return dispute


def _counts(session: Session, evaluation: Evaluation) -> dict[str, int]:
    rows = dict(session.execute(
        select(Dispute.status, func.count()).where(Dispute.tenant_id == evaluation.tenant_id,
                                                   Dispute.evaluation_id == evaluation.id)
        .group_by(Dispute.status)).tuples().all())
    return {"total": sum(n for status, n in rows.items() if status != "void"), "open": rows.get("open", 0)}


def visible(session: Session, principal: Principal):
    """Disputes the principal may see: the agent's own; a QA analyst's evaluations'; a
    supervisor's teams'; managers and admins the tenant's."""
    tenant = Dispute.tenant_id == principal.tenant_id
    if principal.role in evaluations.LEADS:
        return tenant
    if principal.role == "qa_analyst":
        mine = select(Evaluation.id).where(Evaluation.tenant_id == principal.tenant_id,
                                           Evaluation.evaluator_id == principal.person_id)
        return and_(tenant, Dispute.evaluation_id.in_(mine))
    if principal.role == "supervisor":
        agents = scope.visible_agent_ids(session, principal) or frozenset()
        return and_(tenant, Dispute.agent_id.in_(sorted(agents)))
    return and_(tenant, Dispute.agent_id == principal.person_id)


def get_visible(session: Session, principal: Principal, dispute_id: str, *, lock: bool = False) -> Dispute:
    query = select(Dispute).where(Dispute.id == dispute_id, visible(session, principal))
    if lock:
        query = query.with_for_update()
    dispute = session.scalars(query).first()
    if dispute is None:
        raise domain_errors.NotFound(f"No dispute {dispute_id!r}.")
    return dispute


def list_visible(session: Session, principal: Principal, *, filters: dict[str, Any], offset: int,
                 limit: int) -> list[Dispute]:
    query = select(Dispute).where(visible(session, principal))
    for key in ("status", "evaluation_id"):
        if filters.get(key):
            query = query.where(getattr(Dispute, key) == filters[key])
    query = query.order_by(Dispute.created_at.desc(), Dispute.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def resolve(session: Session, *, principal: Principal, dispute_id: str, outcome: str, note: str,
            changes: dict[str, dict]) -> Dispute:
    dispute = get_visible(session, principal, dispute_id, lock=True)
    if dispute.status != "open":
        raise domain_errors.Conflict(f"The dispute is already {dispute.status}.")
    evaluation = session.scalars(select(Evaluation).where(
        Evaluation.tenant_id == principal.tenant_id, Evaluation.id == dispute.evaluation_id)
        .with_for_update()).one()
    if principal.person_id in (evaluation.evaluator_id, evaluation.agent_id):
        raise domain_errors.Forbidden("A dispute is resolved by a second reviewer, not the "
                                        "original evaluator or the agent.")
    disputed = {item["question_id"] for item in dispute.items}
    errors = [{"field": f"changes.{qid}", "message": "this question was not disputed"}
              for qid in sorted(set(changes) - disputed)]
    if errors:
        raise domain_errors.Invalid("Only disputed questions may change.", errors=errors)
    before_answers = {qid: evaluation.answers.get(qid) for qid in changes}
    before, after = evaluation.total_score, evaluation.total_score
    if changes:
        before, after = evaluations.rescore_with(session, evaluation, changes)
    dispute.status, dispute.resolver_id, dispute.resolution_note = outcome, principal.person_id, note
    dispute.changes = {qid: {"before": before_answers[qid], "after": evaluation.answers.get(qid)}
                       for qid in changes}
    dispute.score_before, dispute.score_after, dispute.resolved_at = before, after, utcnow()
    session.flush()
    audit.record(session, tenant_id=principal.tenant_id, actor=principal.person_id,
                 action="dispute.resolved", subject_type="dispute", subject_id=dispute.id,
                 details={"evaluation_id": evaluation.id, "outcome": outcome, "note": note,
                          "changes": dispute.changes, "score_before": before, "score_after": after})
    if changes:
        audit.record(session, tenant_id=principal.tenant_id, actor=principal.person_id,
                     action="evaluation.rescored", subject_type="evaluation", subject_id=evaluation.id,
                     details={"dispute_id": dispute.id, "score_before": before, "score_after": after,
                              "questions": sorted(changes)})
    return dispute
