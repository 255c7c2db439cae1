"""Calibration sessions: create, blind scoring, close (report + drift alerts), read.

Blindness: while a session is open, whoever reads it sees only their own answers and, for the
others, only how many conversations each has scored; every answer becomes visible when the
session is closed. Scores are kept per (session, evaluator, conversation) and may be replaced
until the close. The expert (optional) scores too and is the reference for deviations.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.analytics.domain.alerts import alert_key
from extension.analytics.models.facts import InteractionFact, PerformanceAlert
from extension.analytics.models.interactions import Interaction
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.auth.permissions import Principal
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.quality.domain import calibration as maths
from extension.quality.domain.scoring import Answer, Answers, InvalidAnswers, score
from extension.quality.models.calibration import CalibrationScore, CalibrationSession

ALERT_METRIC = "calibration_deviation"


def _unprocessable(errors: list[dict]) -> domain_errors.DomainError:
    return domain_errors.Invalid("The body has invalid fields.", errors=errors)


def _form(session: Session, tenant_id: str, form_id: str, version: int | None):
    from extension.quality.forms import form_version

    return form_version(session, tenant_id, form_id, version)


def create(session: Session, *, tenant_id: str, actor: str, data: dict[str, Any]) -> CalibrationSession:
    """A new open session; every reference is checked against the tenant (422 naming the field)."""
    errors: list[dict] = []
    try:
        row, _ = _form(session, tenant_id, data["form_id"], data.get("form_version"))
        version = row.version
    except domain_errors.DomainError as exc:
        errors.append({"field": "form_version" if data.get("form_version") else "form_id",
                       "message": exc.detail})
        version = None
    people = set(session.scalars(select(Person.id).where(
        Person.tenant_id == tenant_id, Person.active.is_(True),
        Person.id.in_([*data["evaluator_ids"], *([data["expert_id"]] if data.get("expert_id") else [])]))))
    for index, evaluator in enumerate(data["evaluator_ids"]):
        if evaluator not in people:
            errors.append({"field": f"evaluator_ids.{index}", "message": f"No person {evaluator!r}."})
    if data.get("expert_id") and data["expert_id"] not in people:
        errors.append({"field": "expert_id", "message": f"No person {data['expert_id']!r}."})
    if data.get("expert_id") in data["evaluator_ids"]:
        errors.append({"field": "expert_id",
                       "message": "The expert is the reference, not one of the evaluators."})
    known = _known_conversations(session, tenant_id, data["conversation_ids"])
    for index, conversation in enumerate(data["conversation_ids"]):
        if conversation not in known:
            errors.append({"field": f"conversation_ids.{index}",
                           "message": f"No interaction {conversation!r}."})
    if errors:
        raise _unprocessable(errors)
    calibration = CalibrationSession(
        id=uuid.uuid4().hex, tenant_id=tenant_id, name=data["name"], form_id=data["form_id"],
        form_version=version, conversation_ids=list(data["conversation_ids"]),
        evaluator_ids=list(data["evaluator_ids"]), expert_id=data.get("expert_id"),
        drift_threshold=float(data["drift_threshold"]), status="open", created_by=actor)
    session.add(calibration)
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="calibration.created",
                 subject_type="calibration", subject_id=calibration.id,
                 details={"form_id": calibration.form_id, "form_version": version,
                          "conversations": len(calibration.conversation_ids),
                          "evaluators": calibration.evaluator_ids, "expert_id": calibration.expert_id,
                          "drift_threshold": calibration.drift_threshold})
    return calibration


def _known_conversations(session: Session, tenant_id: str, ids: list[str]) -> set[str]:
    found = set(session.scalars(select(InteractionFact.conversation_id).where(
        InteractionFact.tenant_id == tenant_id, InteractionFact.conversation_id.in_(ids))))
    found |= set(session.scalars(select(Interaction.conversation_id).where(
        Interaction.tenant_id == tenant_id, Interaction.conversation_id.in_(ids))))
    return found


def session_or_404(session: Session, tenant_id: str, session_id: str, *,
                   lock: bool = False) -> CalibrationSession:
    query = select(CalibrationSession).where(CalibrationSession.id == session_id,
                                             CalibrationSession.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise domain_errors.NotFound(f"No calibration session {session_id!r}.")
    return found


def visible_or_404(session: Session, principal: Principal, session_id: str, *,
                   lock: bool = False) -> CalibrationSession:
    """The session if ``principal`` may read it: calibration managers (and admins) every session
    of their tenant, others only those they rate in or created; any other is 404, as if absent
    (the same rule as :func:`list_sessions`), open or closed."""
    found = session_or_404(session, principal.tenant_id, session_id, lock=lock)
    if not _may_see(principal, found):
        raise domain_errors.NotFound(f"No calibration session {session_id!r}.")
    return found


def _may_see(principal: Principal, calibration: CalibrationSession) -> bool:
    from extension.platform.auth.permissions import CALIBRATIONS_WRITE

    return (principal.can(CALIBRATIONS_WRITE) or principal.person_id in raters(calibration)
            or calibration.created_by == principal.person_id)


def raters(calibration: CalibrationSession) -> list[str]:
    return [*calibration.evaluator_ids, *([calibration.expert_id] if calibration.expert_id else [])]


def list_sessions(session: Session, principal: Principal, *, status: str, offset: int,
                  limit: int) -> list[CalibrationSession]:
    """Newest first. A caller who may manage calibration sees all; others see the sessions they
    score in or created (JSON membership is filtered in Python to stay engine-neutral)."""
    query = select(CalibrationSession).where(CalibrationSession.tenant_id == principal.tenant_id)
    if status != "all":
        query = query.where(CalibrationSession.status == status)
    query = query.order_by(CalibrationSession.created_at.desc(), CalibrationSession.id)
    rows = [r for r in session.scalars(query) if _may_see(principal, r)]
    return rows[offset:offset + limit]


def _scores(session: Session, calibration: CalibrationSession) -> list[CalibrationScore]:
    return list(session.scalars(select(CalibrationScore).where(
        CalibrationScore.tenant_id == calibration.tenant_id, CalibrationScore.session_id == calibration.id)
        .order_by(CalibrationScore.evaluator_id, CalibrationScore.conversation_id)))


def score_json(row: CalibrationScore) -> dict[str, Any]:
    return {"evaluator_id": row.evaluator_id, "conversation_id": row.conversation_id,
            "answers": row.answers, "na_groups": row.na_groups, "total_score": row.total_score,
            "updated_at": row.updated_at}


def view(session: Session, principal: Principal, calibration: CalibrationSession) -> dict[str, Any]:
    """The session as ``principal`` may see it: blind while open (see the module docstring)."""
    rows = _scores(session, calibration)
    closed = calibration.status == "closed"
    shown = rows if closed else [r for r in rows if r.evaluator_id == principal.person_id]
    progress = dict.fromkeys(raters(calibration), 0)
    for row in rows:
        progress[row.evaluator_id] = progress.get(row.evaluator_id, 0) + 1
    return {**summary_json(calibration), "blind": not closed,
            "progress": [{"evaluator_id": k, "scored": v} for k, v in progress.items()],
            "scores": [score_json(r) for r in shown]}


def summary_json(calibration: CalibrationSession) -> dict[str, Any]:
    return {"id": calibration.id, "name": calibration.name, "form_id": calibration.form_id,
            "form_version": calibration.form_version, "conversation_ids": calibration.conversation_ids,
            "evaluator_ids": calibration.evaluator_ids, "expert_id": calibration.expert_id,
            "drift_threshold": calibration.drift_threshold, "status": calibration.status,
            "created_by": calibration.created_by, "created_at": calibration.created_at,
            "closed_by": calibration.closed_by, "closed_at": calibration.closed_at}


def put_score(session: Session, principal: Principal, session_id: str, data: dict[str, Any]) -> tuple[
        CalibrationScore, bool]:
    """The caller's answers for one conversation (created or replaced); returns (row, created)."""
    calibration = visible_or_404(session, principal, session_id, lock=True)
    if principal.person_id not in raters(calibration):
        raise domain_errors.Forbidden("You are not an evaluator in this calibration session.")
    if calibration.status != "open":
        raise domain_errors.Conflict("The calibration session is closed.")
    if data["conversation_id"] not in calibration.conversation_ids:
        raise _unprocessable([{"field": "conversation_id",
                                "message": "Not one of the session's interactions."}])
    _, form = _form(session, calibration.tenant_id, calibration.form_id, calibration.form_version)
    answers = Answers(questions={qid: Answer(option_id=a.get("option_id"), na=bool(a.get("na")),
                                             text=a.get("text") or "", option_ids=_picks(a))
                                 for qid, a in data["answers"].items()},
                      na_groups=frozenset(data.get("na_groups") or ()))
    try:
        scored = score(form, answers)
    except InvalidAnswers as exc:
        raise _unprocessable([{"field": _field(issue.path), "message": issue.message}
                              for issue in exc.issues]) from exc
    row = session.scalar(select(CalibrationScore).where(
        CalibrationScore.session_id == calibration.id, CalibrationScore.evaluator_id == principal.person_id,
        CalibrationScore.conversation_id == data["conversation_id"]))
    created = row is None
    if row is None:
        row = CalibrationScore(tenant_id=calibration.tenant_id, session_id=calibration.id,
                               evaluator_id=principal.person_id, conversation_id=data["conversation_id"])
        session.add(row)
    row.answers = {qid: {"option_id": a.option_id, "na": a.na, "text": a.text,
                         **({"option_ids": sorted(a.option_ids)} if a.option_ids is not None else {})}
                   for qid, a in answers.questions.items()}
    row.na_groups = sorted(answers.na_groups)
    row.total_score = scored.total_score
    row.updated_at = utcnow()
    session.flush()
    audit.record(session, tenant_id=calibration.tenant_id, actor=principal.person_id,
                 action="calibration.scored", subject_type="calibration", subject_id=calibration.id,
                 details={"conversation_id": row.conversation_id, "total_score": row.total_score,
                          "replaced": not created})
    return row, created


def _picks(answer: dict) -> frozenset[str] | None:
    picked = answer.get("option_ids")
    return None if picked is None else frozenset(picked)


def _field(path: str) -> str:
    """Domain answer paths (``/questions/q1``, ``/na_groups/g1``) as body fields."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "questions":
        parts[0] = "answers"
    return ".".join(parts) or "answers"


def _ratings(rows: list[CalibrationScore]) -> list[maths.Rating]:
    out = []
    for row in rows:
        codes = {}
        for question, answer in row.answers.items():
            if answer.get("na"):
                codes[question] = maths.NA
            elif answer.get("option_id") is not None:
                codes[question] = str(answer["option_id"])
            elif answer.get("option_ids") is not None:
                # nominal on the whole set of picks: raters agree when they picked the same options
                codes[question] = "+".join(sorted(answer["option_ids"])) or maths.NONE_PICKED
        out.append(maths.Rating(row.evaluator_id, row.conversation_id, row.total_score, codes))
    return out


def close(session: Session, principal: Principal, session_id: str) -> CalibrationSession:
    """Close, compute the report, raise a deduplicated alert per drifting evaluator."""
    calibration = session_or_404(session, principal.tenant_id, session_id, lock=True)
    if calibration.status != "open":
        raise domain_errors.Conflict("The calibration session is already closed.")
    rows = _scores(session, calibration)
    result = maths.report(_ratings(rows), expert_id=calibration.expert_id,
                          drift_threshold=calibration.drift_threshold)
    now = utcnow()
    calibration.status, calibration.closed_at, calibration.closed_by = "closed", now, principal.person_id
    calibration.report = {**result.as_dict(), "scores": len(rows),
                          "reference": "expert" if calibration.expert_id else "consensus",
                          "drift_threshold": calibration.drift_threshold}
    session.flush()
    drifting = [e for e in result.evaluators if e.drift]
    for deviation in drifting:
        _raise_alert(session, calibration, deviation, actor=principal.person_id)
    audit.record(session, tenant_id=calibration.tenant_id, actor=principal.person_id,
                 action="calibration.closed", subject_type="calibration", subject_id=calibration.id,
                 details={"scores": len(rows), "alpha": calibration.report["alpha"],
                          "drifting": [e.evaluator_id for e in drifting]})
    return calibration


def _raise_alert(session: Session, calibration: CalibrationSession, deviation: maths.EvaluatorDeviation,
                 *, actor: str) -> PerformanceAlert:
    assert deviation.mean_abs_diff is not None  # only a drifting evaluator gets here
    key = alert_key(rule_id=f"calibration:{calibration.id}", subject=("evaluator", deviation.evaluator_id),
                    metric=ALERT_METRIC)
    alert = session.get(PerformanceAlert, (calibration.tenant_id, key))
    message = (f"Evaluator {deviation.evaluator_id} deviates {deviation.mean_abs_diff:.1f} points from the "
               f"{deviation.reference} (threshold {calibration.drift_threshold:g}) in '{calibration.name}'")
    details = {"session_id": calibration.id, "reference": deviation.reference,
               "disagreement_rate": deviation.disagreement_rate,
               "conversations_compared": deviation.conversations_compared,
               "threshold": calibration.drift_threshold}
    if alert is None:
        alert = PerformanceAlert(tenant_id=calibration.tenant_id, key=key, kind="calibration",
                                 subject_type="evaluator", subject_id=deviation.evaluator_id,
                                 metric=ALERT_METRIC)
        session.add(alert)
    alert.value, alert.message, alert.details = deviation.mean_abs_diff, message, details
    alert.status, alert.raised_at = "open", utcnow()
    session.flush()
    audit.record(session, tenant_id=calibration.tenant_id, actor=actor, action="alert.raised",
                 subject_type="alert", subject_id=key,
                 details={"kind": "calibration", "evaluator_id": deviation.evaluator_id,
                          "value": deviation.mean_abs_diff})
    return alert


def report(session: Session, principal: Principal, session_id: str) -> dict[str, Any]:
    calibration = visible_or_404(session, principal, session_id)
    if calibration.status != "closed":
        raise domain_errors.Conflict("The report exists once the session is closed.")
    assert calibration.report is not None  # close() stores it with the status
    return {"session_id": calibration.id, "closed_at": calibration.closed_at, **calibration.report}

