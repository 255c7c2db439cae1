"""Evaluations: assignment (with auto-score pre-fill), answers, scoring and the lifecycle.

    assigned -> in_progress -> submitted -> released -> acknowledged      (any but retracted) -> retracted

Answers are stored per question as ``{option_id, na, text, source, auto?, override_reason?}``
(a multiple-select question stores ``option_ids``, the sorted list of picked option ids):
``source`` is ``auto`` while the pre-filled value stands, ``evaluator`` once a person answered;
``auto`` keeps the pre-filled value and its evidence, so an override keeps both values. Every
save rescoring with :func:`extension.quality.domain.scoring.score` against the evaluation's own form
version; the result is stored as an ``EvaluationScoringSet``. Releasing writes the total into
the analytics fact's ``qa_score`` (through ``analytics.upsert_facts``, which moves the rollups).

Illegal transitions are 409 problems and change nothing; invalid answers are 422 problems whose
``field`` is a JSON Pointer into the request body (``/answers/<question id>/override_reason``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extension.analytics import facts as analytics
from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.interactions import Interaction
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.models._types import utcnow
from extension.quality import workload
from extension.quality.domain.autoscore import InteractionData, prefill, undecided
from extension.quality.domain.forms import Form
from extension.quality.domain.genesys_forms import to_scoring_set
from extension.quality.domain.scoring import Answer, Answers, ScoringSet, answer_issues, score
from extension.quality.forms import form_version, new_id, published_form
from extension.quality.models.evaluations import Dispute, Evaluation
from extension.text.domain.spans import as_utterances

# allowed moves: action -> (from states, to state)
TRANSITIONS = {
    "answer": (("assigned", "in_progress"), "in_progress"),
    "submit": (("in_progress",), "submitted"),
    "release": (("submitted",), "released"),
    "acknowledge": (("released",), "acknowledged"),
    "retract": (("assigned", "in_progress", "submitted", "released", "acknowledged"), "retracted"),
    "reassign": (("assigned", "in_progress"), None),
}
AGENT_VISIBLE = ("released", "acknowledged")
LEADS = ("manager", "admin")


def _conflict(evaluation: Evaluation, action: str) -> domain_errors.DomainError:
    return domain_errors.Conflict(f"Cannot {action} an evaluation that is {evaluation.status}.")


def _check(evaluation: Evaluation, action: str) -> None:
    if evaluation.host_evaluation_id is not None:  # mirrored: Genesys owns its lifecycle
        raise domain_errors.Conflict(f"Cannot {action} an evaluation made in Genesys; "
                                       "change it there.")
    if evaluation.status not in TRANSITIONS[action][0]:
        raise _conflict(evaluation, action)


# ---------------------------------------------------------------- assignment


def active_for(session: Session, tenant_id: str, conversation_id: str, form_id: str) -> Evaluation | None:
    return session.scalars(select(Evaluation).where(
        Evaluation.tenant_id == tenant_id, Evaluation.active_key == _active_key(conversation_id, form_id))
    ).first()


def _active_key(conversation_id: str, form_id: str) -> str:
    return f"{conversation_id}|{form_id}"


def assign(session: Session, *, tenant_id: str, conversation_id: str, agent_id: str, form_id: str,
           evaluator_id: str | None = None, due_at: datetime | None = None,
           reason: dict | None = None, actor: str) -> Evaluation:
    """Assign an evaluation of ``conversation_id`` against the form's published version.

    Idempotent per (tenant, conversation, form) while a non-retracted evaluation exists: that
    one is returned unchanged. The conversation must be the tenant's and ``agent_id`` one who
    handled it (:func:`check_handled`, 422 naming the field). ``evaluator_id=None`` picks the
    evaluator with the most headroom (``workload.pick_evaluator``); a named evaluator at their
    cap is a 409. Objective questions with an auto rule are pre-filled from the interaction's
    data. Audited as
    ``evaluation.assigned`` (with ``reason``, e.g. the sampling run that picked it).
    Raises domain errors: 404 unknown form, 409 form unpublished / no headroom, 422 bad
    evaluator, unknown conversation or an agent who did not handle it.
    """
    if not agent_id or not conversation_id:
        field = "agent_id" if not agent_id else "conversation_id"
        raise domain_errors.Invalid("An evaluation needs a conversation and an agent.",
                      errors=[{"field": field, "message": "missing"}])
    existing = active_for(session, tenant_id, conversation_id, form_id)
    if existing is not None and existing.agent_id == agent_id:
        return existing
    version, form = published_form(session, tenant_id, form_id)
    check_handled(session, tenant_id, conversation_id, agent_id)
    workload.lock_workload(session, tenant_id)
    existing = active_for(session, tenant_id, conversation_id, form_id)  # re-check under the lock
    if existing is not None:
        return existing
    chosen = workload.pick_evaluator(session, tenant_id, evaluator_id=evaluator_id, agent_id=agent_id)
    now = utcnow()
    data = interaction_data(session, tenant_id, conversation_id)
    evaluation = Evaluation(
        id=new_id(), tenant_id=tenant_id, conversation_id=conversation_id, agent_id=agent_id,
        evaluator_id=chosen, form_id=form_id, form_version=version.version, status="assigned",
        active_key=_active_key(conversation_id, form_id), due_at=due_at, reason=reason,
        assigned_at=now, assigned_day=workload.local_day(session, tenant_id, now), created_by=actor,
        answers=_prefilled(form, data), na_groups=[])
    _rescore(evaluation, form)
    try:
        with session.begin_nested():
            session.add(evaluation)
    except IntegrityError:  # a concurrent run assigned the same (conversation, form) first
        session.expunge(evaluation)
        found = active_for(session, tenant_id, conversation_id, form_id)
        if found is None:
            raise
        return found
    audit.record(session, tenant_id=tenant_id, actor=actor, action="evaluation.assigned",
                 subject_type="evaluation", subject_id=evaluation.id,
                 details={"conversation_id": conversation_id, "agent_id": agent_id, "form_id": form_id,
                          "form_version": version.version, "evaluator_id": chosen,
                          "requested_evaluator_id": evaluator_id, "reason": reason,
                          "due_at": due_at.isoformat() if due_at else None,
                          "auto_answered": sorted(evaluation.answers),
                          # auto-scored questions the data could not decide, and why
                          "auto_undecided": undecided(form, data)})
    return evaluation


def check_handled(session: Session, tenant_id: str, conversation_id: str, agent_id: str) -> None:
    """422 unless the tenant has a record of ``conversation_id`` (analytics fact or pipeline
    interaction) and ``agent_id`` handled it: a score must land on an agent who can see and
    dispute it, and a conversation of another tenant, or none at all, cannot be evaluated."""
    handlers = {row.agent_id for row in (session.get(InteractionFact, (tenant_id, conversation_id)),
                                         session.get(Interaction, (tenant_id, conversation_id)))
                if row is not None}
    if not handlers:
        raise domain_errors.Invalid("No such conversation in this tenant.", errors=[
            {"field": "conversation_id", "message": f"No interaction {conversation_id!r}."}])
    if agent_id not in handlers:
        raise domain_errors.Invalid("The agent did not handle this conversation.", errors=[
            {"field": "agent_id", "message": f"{agent_id!r} did not handle {conversation_id!r}."}])


def interaction_data(session: Session, tenant_id: str, conversation_id: str) -> InteractionData:
    """What auto rules may look at: the analytics fact first, the pipeline's interaction after."""
    fact = session.get(InteractionFact, (tenant_id, conversation_id))
    live = session.get(Interaction, (tenant_id, conversation_id))

    def pick(name: str):
        for row in (fact, live):
            value = getattr(row, name, None) if row is not None else None
            if value is not None:
                return value
        return None

    transcript = live.transcript if live is not None else None
    return InteractionData(handle_ms=pick("t_handle_ms"), hold_ms=pick("t_hold_ms"),
                           acw_ms=pick("t_acw_ms"), fcr=fact.fcr if fact is not None else None,
                           transferred=pick("transferred"),
                           hold_count=pick("n_hold"),
                           utterances=as_utterances(transcript) if transcript else None)


def _prefilled(form: Form, data: InteractionData) -> dict:
    decided = prefill(form, data)
    return {qid: {"option_id": a.option_id, "na": False, "text": "", "source": "auto",
                  "auto": {"option_id": a.option_id, "evidence": a.evidence}}
            for qid, a in decided.items()}


# ---------------------------------------------------------------- reading


def visible(session: Session, principal: Principal):
    """The where-clause for evaluations ``principal`` may see (tenant first, always)."""
    tenant = Evaluation.tenant_id == principal.tenant_id
    if principal.role in LEADS:
        return tenant
    if principal.role == "qa_analyst":
        return and_(tenant, Evaluation.evaluator_id == principal.person_id)
    if principal.role == "supervisor":
        agents = scope.visible_agent_ids(session, principal) or frozenset()
        return and_(tenant, or_(Evaluation.agent_id.in_(sorted(agents - {principal.person_id})),
                                and_(Evaluation.agent_id == principal.person_id,
                                     Evaluation.status.in_(AGENT_VISIBLE))))
    return and_(tenant, Evaluation.agent_id == principal.person_id, Evaluation.status.in_(AGENT_VISIBLE))


def get_visible(session: Session, principal: Principal, evaluation_id: str, *,
                lock: bool = False) -> Evaluation:
    """The evaluation if the principal may see it; 404 otherwise (no hint that it exists)."""
    query = select(Evaluation).where(Evaluation.id == evaluation_id, visible(session, principal))
    if lock:
        query = query.with_for_update()
    evaluation = session.scalars(query).first()
    if evaluation is None:
        raise domain_errors.NotFound(f"No evaluation {evaluation_id!r}.")
    return evaluation


def list_visible(session: Session, principal: Principal, *, filters: dict[str, Any], offset: int,
                 limit: int) -> list[Evaluation]:
    query = select(Evaluation).where(visible(session, principal))
    for key in ("status", "agent_id", "evaluator_id", "form_id", "conversation_id"):
        if filters.get(key):
            query = query.where(getattr(Evaluation, key) == filters[key])
    query = query.order_by(Evaluation.assigned_at.desc(), Evaluation.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def form_of(session: Session, evaluation: Evaluation) -> Form:
    return form_version(session, evaluation.tenant_id, evaluation.form_id, evaluation.form_version)[1]


# ---------------------------------------------------------------- scoring


def domain_answers(evaluation: Evaluation, answers: dict | None = None) -> Answers:
    stored = evaluation.answers if answers is None else answers
    return Answers(questions={qid: _domain_answer(a) for qid, a in stored.items()},
                   na_groups=frozenset(evaluation.na_groups or ()))


def _domain_answer(stored: dict) -> Answer:
    picks = stored.get("option_ids")  # multiple select: a list of option ids
    return Answer(option_id=stored.get("option_id"), na=bool(stored.get("na")),
                  text=stored.get("text") or "",
                  option_ids=frozenset(picks) if picks is not None else None)


def _rescore(evaluation: Evaluation, form: Form) -> ScoringSet:
    result = score(form, domain_answers(evaluation))
    evaluation.scoring = {**to_scoring_set(result), "unanswered": list(result.unanswered)}
    evaluation.total_score = result.total_score
    return result


def _pointer_issues(form: Form, answers: Answers) -> list[dict]:
    return [{"field": i.path.replace("/questions/", "/answers/", 1), "message": i.message}
            for i in answer_issues(form, answers)]


def merge_answers(evaluation: Evaluation, form: Form, given: dict[str, dict], *,
                  require_reason: bool = True) -> dict:
    """The stored answers with ``given`` applied; 422 when an auto answer is overridden
    without a reason. Keeps the auto value and evidence next to the evaluator's."""
    merged = {qid: dict(a) for qid, a in evaluation.answers.items()}
    errors = []
    for qid, new in given.items():
        old = merged.get(qid, {})
        entry = {"option_id": new.get("option_id"), "na": bool(new.get("na")),
                 "text": new.get("text") or ""}
        if new.get("option_ids") is not None:
            entry["option_ids"] = sorted(set(new["option_ids"]))
        auto = old.get("auto")
        if auto is not None:
            entry["auto"] = auto
            if entry["option_id"] == auto["option_id"] and not entry["na"]:
                entry["source"] = "auto"
            else:
                reason = (new.get("override_reason") or "").strip()
                if not reason and require_reason:
                    errors.append({"field": f"/answers/{qid}/override_reason",
                                   "message": "overriding an automatic answer needs a reason"})
                entry["source"], entry["override_reason"] = "evaluator", reason or None
        else:
            entry["source"] = "evaluator"
        merged[qid] = entry
    if errors:
        raise domain_errors.Invalid("Some answers are not valid.", errors=errors)
    return merged


def save_answers(session: Session, *, evaluation: Evaluation, principal: Principal,
                 answers: dict[str, dict], na_groups: list[str] | None) -> Evaluation:
    """Record answers (merged onto the stored ones), rescore; assigned -> in_progress."""
    _check(evaluation, "answer")
    _must_be_evaluator(evaluation, principal)
    form = form_of(session, evaluation)
    merged = merge_answers(evaluation, form, answers)
    groups = sorted(set(na_groups)) if na_groups is not None else list(evaluation.na_groups or [])
    candidate = Answers(questions=domain_answers(evaluation, merged).questions, na_groups=frozenset(groups))
    errors = _pointer_issues(form, candidate)
    if errors:
        raise domain_errors.Invalid("Some answers do not fit the form.", errors=errors)
    before = evaluation.status
    evaluation.answers, evaluation.na_groups = merged, groups
    _rescore(evaluation, form)
    now = utcnow()
    if evaluation.status == "assigned":
        evaluation.status, evaluation.started_at = "in_progress", now
    evaluation.updated_at = now
    session.flush()
    overrides = {qid: {"auto": a["auto"]["option_id"], "evaluator": a["option_id"],
                       "reason": a.get("override_reason")}
                 for qid, a in merged.items() if qid in answers and a.get("auto")
                 and a.get("source") == "evaluator"}
    audit.record(session, tenant_id=evaluation.tenant_id, actor=principal.person_id,
                 action="evaluation.answered", subject_type="evaluation", subject_id=evaluation.id,
                 details={"questions": sorted(answers), "na_groups": groups, "from": before,
                          "to": evaluation.status, "total_score": evaluation.total_score,
                          "overrides": overrides})
    return evaluation


def _must_be_evaluator(evaluation: Evaluation, principal: Principal) -> None:
    if principal.role not in LEADS and evaluation.evaluator_id != principal.person_id:
        raise domain_errors.Forbidden("Only the assigned evaluator may score this evaluation.")


def _move(session: Session, evaluation: Evaluation, *, action: str, actor: str,
          details: dict | None = None) -> Evaluation:
    before, after = evaluation.status, TRANSITIONS[action][1]
    if after is None:  # "reassign" has no target status and never moves
        raise ValueError(f"action {action!r} does not change the status")
    now = utcnow()
    evaluation.status, evaluation.updated_at = after, now
    stamp = {"submitted": "submitted_at", "released": "released_at", "acknowledged": "acknowledged_at",
             "retracted": "retracted_at"}.get(after)
    if stamp:
        setattr(evaluation, stamp, now)
    session.flush()
    audit.record(session, tenant_id=evaluation.tenant_id, actor=actor, action=f"evaluation.{after}",
                 subject_type="evaluation", subject_id=evaluation.id,
                 details={"from": before, "to": after, "total_score": evaluation.total_score,
                          **(details or {})})
    return evaluation


def submit(session: Session, *, evaluation: Evaluation, principal: Principal) -> Evaluation:
    _check(evaluation, "submit")
    _must_be_evaluator(evaluation, principal)
    unanswered = (evaluation.scoring or {}).get("unanswered") or []
    if unanswered:
        raise domain_errors.Invalid("Every scored question needs an answer.",
                      errors=[{"field": f"/answers/{qid}", "message": "unanswered"} for qid in unanswered])
    return _move(session, evaluation, action="submit", actor=principal.person_id)


def release(session: Session, *, evaluation: Evaluation, principal: Principal) -> Evaluation:
    """submitted -> released; the agent sees it from now and the fact gets its qa_score."""
    _check(evaluation, "release")
    _must_be_evaluator(evaluation, principal)
    _move(session, evaluation, action="release", actor=principal.person_id)
    write_qa_score(session, evaluation, evaluation.total_score)
    return evaluation


def acknowledge(session: Session, *, evaluation: Evaluation, principal: Principal) -> Evaluation:
    if evaluation.agent_id != principal.person_id:
        raise domain_errors.Forbidden("Only the evaluated agent may acknowledge.")
    _check(evaluation, "acknowledge")
    return _move(session, evaluation, action="acknowledge", actor=principal.person_id)


def retract(session: Session, *, evaluation: Evaluation, principal: Principal, reason: str) -> Evaluation:
    """Withdraw an evaluation in any live state; frees its (conversation, form) slot and takes
    a released score back out of the analytics fact."""
    _check(evaluation, "retract")
    was_released = evaluation.status in AGENT_VISIBLE
    evaluation.active_key, evaluation.retract_reason = None, reason
    _move(session, evaluation, action="retract", actor=principal.person_id, details={"reason": reason})
    if was_released:
        write_qa_score(session, evaluation, None)
    for dispute in session.scalars(select(Dispute).where(
            Dispute.tenant_id == evaluation.tenant_id, Dispute.evaluation_id == evaluation.id,
            Dispute.status == "open")):
        dispute.status, dispute.resolved_at = "void", evaluation.retracted_at
        dispute.resolution_note = "evaluation retracted"
    session.flush()
    return evaluation


def reassign(session: Session, *, evaluation: Evaluation, principal: Principal, evaluator_id: str | None,
             reason: str | None) -> Evaluation:
    """Give open work to another evaluator (named, or the one with most headroom)."""
    _check(evaluation, "reassign")
    workload.lock_workload(session, evaluation.tenant_id)
    chosen = workload.pick_evaluator(session, evaluation.tenant_id, evaluator_id=evaluator_id,
                                     agent_id=evaluation.agent_id)
    if chosen == evaluation.evaluator_id:
        raise domain_errors.Conflict("The evaluation is already assigned to this evaluator.")
    before, now = evaluation.evaluator_id, utcnow()
    evaluation.evaluator_id, evaluation.assigned_at = chosen, now
    evaluation.assigned_day = workload.local_day(session, evaluation.tenant_id, now)
    evaluation.updated_at = now
    session.flush()
    audit.record(session, tenant_id=evaluation.tenant_id, actor=principal.person_id,
                 action="evaluation.reassigned", subject_type="evaluation", subject_id=evaluation.id,
                 details={"from": before, "to": chosen, "reason": reason})
    return evaluation


def rescore_with(session: Session, evaluation: Evaluation,
                 changes: dict[str, dict]) -> tuple[float | None, float | None]:
    """Apply changed answers (dispute resolution: no override reason needed, the resolution
    note is the reason); returns (score before, score after). Validates like ``save_answers``."""
    form = form_of(session, evaluation)
    merged = merge_answers(evaluation, form, changes, require_reason=False)
    errors = _pointer_issues(form, domain_answers(evaluation, merged))
    if errors:
        raise domain_errors.Invalid("Some answers do not fit the form.", errors=errors)
    before = evaluation.total_score
    evaluation.answers = merged
    _rescore(evaluation, form)
    evaluation.updated_at = utcnow()
    session.flush()
    if evaluation.status in AGENT_VISIBLE:
        write_qa_score(session, evaluation, evaluation.total_score)
    return before, evaluation.total_score


# ---------------------------------------------------------------- analytics


def write_qa_score(session: Session, evaluation: Evaluation, value: float | None) -> bool:
    """Set the conversation's fact ``qa_score`` (rollups follow); False when there is no fact."""
    stored = analytics.stored_facts(session, tenant_id=evaluation.tenant_id,
                                    ids=[evaluation.conversation_id])
    fact = stored.get(evaluation.conversation_id)
    if fact is None:
        return False
    analytics.upsert_facts(session, tenant_id=evaluation.tenant_id, records=[{**fact, "qa_score": value}])
    return True
