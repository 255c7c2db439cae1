"""Evaluations made in Genesys, mirrored into Coachwire's own (``evaluation.changed`` events).

A ``v2.quality.evaluations`` notification carries the status and the host's total, never the
answers, so each one is followed by ``GET /api/v2/quality/conversations/{conversationId}/
evaluations/{evaluationId}?expand=evaluationForm`` (EvaluationResponse). Then:

* **Form**: the Coachwire form imported from the same Genesys form id, else an import now through
  ``GET /api/v2/quality/publishedforms/evaluations/{formId}`` (``quality_forms.import_genesys``).
  A Genesys form id names one published version, so the imported form (its published version)
  is the cache for that id + version and is never re-fetched. A form that cannot be imported is
  an audited skip listing the import issues; the event is done, not retried.
* **Answers**: read out of the response's ``answers`` (EvaluationScoringSet; multiple-select
  answers through the expanded ``evaluationForm``), rescored with our engine. Both totals are
  kept (``total_score`` ours, ``host_total_score`` Genesys's ``totalScore``); a difference is
  written into the audit details (``score_mismatch``), never hidden or overwritten.
* **Lifecycle** (``lifecycle_status``; the reference's Evaluation.status enum): PENDING ->
  assigned, INPROGRESS -> in_progress, FINISHED (and INREVIEW) -> submitted until the
  ``releaseDate`` has passed, then released, or acknowledged once ``agentHasRead``; RETRACTED ->
  retracted. An unknown (newer) status keeps the mirrored status as it was.
* **Idempotence / order**: the mirror stores the host ``version`` and ``changedDate``; a
  notification (and then a fetched evaluation) that is not newer than what is stored changes
  nothing. An unchanged evaluation is not rewritten or audited again.
* **KPIs**: when a mirrored evaluation becomes agent-visible (released or acknowledged) its score
  is written into the interaction fact exactly as a native release does
  (``evaluations.write_qa_score``); leaving that state (retracted) takes it out again.

Every create, update and skip is audited with actor ``system:genesys``. Mirrored evaluations have
no ``active_key``: they do not take Coachwire's (conversation, form) assignment slot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.errors import NotFound
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.hosts import genesys_for
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.quality import evaluations, workload
from extension.quality import forms as quality_forms
from extension.quality.domain.forms import Form
from extension.quality.domain.genesys_forms import answers_from_genesys, to_scoring_set
from extension.quality.domain.scoring import Answers, InvalidAnswers, score
from extension.quality.models.evaluations import Evaluation, QualityForm, QualityFormVersion

ACTOR = "system:genesys"
MISMATCH_TOLERANCE = 0.01  # percentage points; Genesys rounds nothing, this only absorbs floats
_STAMPS = {"submitted": "submitted_at", "released": "released_at",
           "acknowledged": "acknowledged_at", "retracted": "retracted_at"}


class Skip(Exception):
    """The evaluation cannot be mirrored; audited, and the event is done (not retried)."""

    def __init__(self, reason: str, issues: list[dict] | None = None):
        super().__init__(reason)
        self.reason, self.issues = reason, issues or []


def apply_changed(session: Session, *, tenant_id: str, data: dict[str, Any]) -> str:
    """Mirror the host evaluation named by an ``evaluation.changed`` event's data.

    Returns what happened: ``created``, ``updated``, ``unchanged``, ``stale`` or ``skipped``.
    Transient host failures raise (the inbox retries the event).
    """
    host_id, conversation_id = data.get("evaluation_id"), data.get("conversation_id")
    try:
        if not host_id or not conversation_id:
            raise Skip("the notification names no evaluation or conversation")
        existing = find(session, tenant_id, host_id)
        if existing is not None and not _newer(data.get("version"), _when(data.get("changed_at")),
                                               existing):
            return "stale"
        response = _fetch(session, tenant_id, conversation_id, host_id)
        if existing is not None and not _newer(response.get("version"),
                                               _when(response.get("changedDate")), existing):
            return "stale"
        return _mirror(session, tenant_id=tenant_id, response=response, existing=existing,
                       data=data)
    except Skip as skip:
        audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="evaluation.mirror_skipped",
                     subject_type="host_evaluation", subject_id=str(host_id or "?"),
                     details={"reason": skip.reason, "issues": skip.issues,
                              "conversation_id": conversation_id, "form_id": data.get("form_id")})
        return "skipped"


def find(session: Session, tenant_id: str, host_evaluation_id: str) -> Evaluation | None:
    return session.scalars(select(Evaluation).where(
        Evaluation.tenant_id == tenant_id,
        Evaluation.host_evaluation_id == host_evaluation_id)).first()


def lifecycle_status(host_status: str | None, *, released: bool, agent_has_read: bool) -> str | None:
    """Our lifecycle state for a Genesys evaluation status; None for a status we do not know."""
    status = (host_status or "").upper()
    if status in ("FINISHED", "INREVIEW"):
        if not released:
            return "submitted"
        return "acknowledged" if agent_has_read else "released"
    return {"PENDING": "assigned", "INPROGRESS": "in_progress", "RETRACTED": "retracted"}.get(status)


# ---------------------------------------------------------------- steps


def _fetch(session: Session, tenant_id: str, conversation_id: str, host_id: str) -> dict:
    tenant = cast(Tenant, session.get(Tenant, tenant_id))  # the event's tenant exists
    if tenant.host_kind != "genesys":
        raise Skip(f"the tenant's host is {tenant.host_kind!r}, not Genesys")
    client = genesys_for(tenant).quality
    try:
        return client.evaluation(conversation_id, host_id)
    except NotFound as exc:
        raise Skip("the host has no such evaluation") from exc


def _newer(version: Any, changed_at: datetime | None, existing: Evaluation) -> bool:
    """Whether host state (version, then changedDate) is later than what ``existing`` mirrors.

    A higher version is newer, a lower one older; at the same version a later changedDate
    still counts (a change the host may not version, e.g. the agent reading it).
    """
    same_version = False
    if isinstance(version, int) and existing.host_version is not None:
        if version != existing.host_version:
            return version > existing.host_version
        same_version = True
    stored = existing.host_changed_at
    if changed_at is not None and stored is not None:
        return changed_at > _aware(stored)
    return not same_version  # nothing to compare: fetch and compare content instead


def _form_for(session: Session, tenant_id: str, genesys_form_id: str | None
              ) -> tuple[QualityFormVersion, Form]:
    if not genesys_form_id:
        raise Skip("the evaluation names no form")
    row = session.scalars(select(QualityForm).where(
        QualityForm.tenant_id == tenant_id, QualityForm.genesys_form_id == genesys_form_id)).first()
    if row is None or row.published_version is None:
        try:
            row, _created = quality_forms.import_genesys(
                session, tenant_id=tenant_id, genesys_form_id=genesys_form_id, actor=ACTOR)
        except domain_errors.DomainError as problem:
            if problem.status != 422:
                raise  # the host did not answer usably: retry the event later
            raise Skip("the form cannot be imported", problem.errors) from problem
    return quality_forms.form_version(session, tenant_id, row.id, row.published_version)


def _answers(response: dict) -> Answers:
    form_response = response.get("evaluationForm")
    if not (form_response or {}).get("questionGroups"):
        form_response = None
    try:
        answers = answers_from_genesys(response.get("answers") or {}, form_response)
    except ValueError as exc:
        raise Skip(str(exc)) from exc
    return answers


def _stored_answers(answers: Answers) -> dict:
    stored = {}
    for qid, answer in answers.questions.items():
        entry: dict[str, Any] = {"option_id": answer.option_id, "na": answer.na, "text": answer.text,
                 "source": "host"}
        if answer.option_ids is not None:
            entry["option_ids"] = sorted(answer.option_ids)
        stored[qid] = entry
    return stored


def _mirror(session: Session, *, tenant_id: str, response: dict, existing: Evaluation | None,
            data: dict) -> str:
    version, form = _form_for(session, tenant_id, (response.get("evaluationForm") or {}).get("id")
                              or data.get("form_id"))
    answers = _answers(response)
    try:
        result = score(form, answers)
    except InvalidAnswers as exc:
        raise Skip("the answers do not fit the imported form",
                   [{"field": i.path, "message": i.message} for i in exc.issues]) from exc
    host_answers = response.get("answers") or {}
    mirrored = {
        "form_id": version.form_id, "form_version": version.version,
        "answers": _stored_answers(answers), "na_groups": sorted(answers.na_groups),
        "scoring": {**to_scoring_set(result, response.get("evaluationForm")),
                    "unanswered": list(result.unanswered)},
        "total_score": result.total_score, "host_total_score": host_answers.get("totalScore"),
        "host_status": response.get("status"),
        "agent_id": (response.get("agent") or {}).get("id") or data.get("agent_id"),
        "evaluator_id": (response.get("evaluator") or {}).get("id") or data.get("evaluator_id") or "",
    }
    status = lifecycle_status(response.get("status"), released=_released(response),
                              agent_has_read=bool(response.get("agentHasRead")))
    if existing is None:
        return _create(session, tenant_id=tenant_id, response=response, mirrored=mirrored,
                       status=status or "assigned")
    return _update(session, existing, response=response, mirrored=mirrored,
                   status=status or existing.status)


def _create(session: Session, *, tenant_id: str, response: dict, mirrored: dict,
            status: str) -> str:
    now = utcnow()
    assigned_at = _when(response.get("assignedDate")) or _when(response.get("createdDate")) or now
    evaluation = Evaluation(
        id=quality_forms.new_id(), tenant_id=tenant_id, status=status, active_key=None,
        conversation_id=(response.get("conversation") or {}).get("id") or "",
        assigned_at=assigned_at, assigned_day=workload.local_day(session, tenant_id, assigned_at),
        created_by=ACTOR, host_evaluation_id=response.get("id"), **_host_keys(response),
        **mirrored)
    if not evaluation.conversation_id or not evaluation.agent_id:
        raise Skip("the evaluation names no conversation or agent")
    _stamp(evaluation, status, response=response, now=now)
    session.add(evaluation)
    session.flush()
    if status in evaluations.AGENT_VISIBLE:
        evaluations.write_qa_score(session, evaluation, evaluation.total_score)
    audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="evaluation.mirrored",
                 subject_type="evaluation", subject_id=evaluation.id,
                 details={**_summary(evaluation), "conversation_id": evaluation.conversation_id,
                          "agent_id": evaluation.agent_id, "form_id": evaluation.form_id,
                          "form_version": evaluation.form_version})
    return "created"


def _update(session: Session, evaluation: Evaluation, *, response: dict, mirrored: dict,
            status: str) -> str:
    changes = {key: {"before": getattr(evaluation, key), "after": value}
               for key, value in {**mirrored, "status": status}.items()
               if getattr(evaluation, key) != value}
    for key, value in _host_keys(response).items():
        setattr(evaluation, key, value)
    if not changes:
        session.flush()
        return "unchanged"
    was_visible = evaluation.status in evaluations.AGENT_VISIBLE
    for key, change in changes.items():
        setattr(evaluation, key, change["after"])
    now = utcnow()
    _stamp(evaluation, status, response=response, now=now)
    evaluation.updated_at = now
    session.flush()
    if status in evaluations.AGENT_VISIBLE:
        evaluations.write_qa_score(session, evaluation, evaluation.total_score)
    elif was_visible:
        evaluations.write_qa_score(session, evaluation, None)
    audit.record(session, tenant_id=evaluation.tenant_id, actor=ACTOR,
                 action="evaluation.mirror_updated", subject_type="evaluation",
                 subject_id=evaluation.id,
                 details={**_summary(evaluation), "changed": sorted(changes),
                          "from": changes.get("status", {}).get("before", evaluation.status)})
    return "updated"


# ---------------------------------------------------------------- helpers


def _host_keys(response: dict) -> dict:
    version = response.get("version")
    return {"host_version": version if isinstance(version, int) else None,
            "host_changed_at": _when(response.get("changedDate"))}


def _summary(evaluation: Evaluation) -> dict:
    details: dict[str, Any] = {"host_evaluation_id": evaluation.host_evaluation_id,
               "host_status": evaluation.host_status, "host_version": evaluation.host_version,
               "status": evaluation.status, "total_score": evaluation.total_score,
               "host_total_score": evaluation.host_total_score}
    ours, theirs = evaluation.total_score, evaluation.host_total_score
    if theirs is not None and (ours is None or abs(ours - theirs) > MISMATCH_TOLERANCE):
        details["score_mismatch"] = {"ours": ours, "host": theirs}
    return details


def _stamp(evaluation: Evaluation, status: str, *, response: dict, now: datetime) -> None:
    if status != "assigned" and evaluation.started_at is None:
        evaluation.started_at = now
    if status in ("submitted", "released", "acknowledged") and evaluation.submitted_at is None:
        evaluation.submitted_at = _when(response.get("submittedDate")) or now
    if status in ("released", "acknowledged") and evaluation.released_at is None:
        evaluation.released_at = _when(response.get("releaseDate")) or now
    stamp = _STAMPS.get(status)
    if stamp in ("acknowledged_at", "retracted_at") and getattr(evaluation, stamp) is None:
        setattr(evaluation, stamp, now)


def _released(response: dict) -> bool:
    released = _when(response.get("releaseDate"))
    return (released is not None and not response.get("neverRelease")
            and released <= utcnow())


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _aware(moment)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
