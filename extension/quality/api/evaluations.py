"""/api/v1/evaluations: assignment, answers, the lifecycle (submit, release, acknowledge,
retract) and reassignment.

Scope: an agent sees their own evaluations once released; a QA analyst those assigned to them;
a supervisor their teams'; managers and admins the tenant. Anything else is 404.
"""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import (
    EVALUATIONS_ACKNOWLEDGE,
    EVALUATIONS_ASSIGN,
    EVALUATIONS_READ,
    EVALUATIONS_WRITE,
)
from extension.platform.db import get_db
from extension.quality import evaluations
from extension.quality.api import schemas as qs

bp = Blueprint("api_evaluations", __name__, url_prefix="/api/v1")
TAG = "quality"
_CONFLICT = {"409": "Not in a state that allows it (nothing changed)"}
_INVALID = {"415": "Body is not JSON", "422": "Invalid body; errors name the fields"}


def out(evaluation) -> dict:
    return qs.EvaluationOut().dump(evaluation)


@bp.get("/evaluations")
@documented(summary="Evaluations in the caller's scope, newest first", tag=TAG,
            query=qs.EvaluationsQuery, response=qs.EvaluationsPage)
@require(EVALUATIONS_READ)
def list_evaluations():
    args = parse(qs.EvaluationsQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = evaluations.list_visible(session, principal, filters=args, offset=offset,
                                        limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [out(e) for e in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.post("/evaluations")
@documented(summary="Assign an evaluation (idempotent per conversation and form)", tag=TAG,
            body=qs.AssignBody, response=qs.EvaluationOut, status=201,
            problems={**_INVALID, "409": "Form not published, or no evaluator headroom"})
@require(EVALUATIONS_ASSIGN)
def assign():
    """Without evaluator_id the evaluator with the most headroom today is chosen; a named
    evaluator at their daily cap is refused (409). While a non-retracted evaluation of the
    same conversation and form exists it is returned (200) instead of a new one. The conversation
    must be one of the tenant's and ``agent_id`` its handling agent (422 naming the field)."""
    data = parse_body(qs.AssignBody)
    principal = current_principal()
    with get_db().session() as session:
        existing = evaluations.active_for(session, principal.tenant_id, data["conversation_id"],
                                          data["form_id"])
        if existing is not None and existing.agent_id != data["agent_id"]:
            existing = None  # assign() refuses an agent who did not handle the conversation
        evaluation = existing or evaluations.assign(
            session, tenant_id=principal.tenant_id, actor=principal.person_id, **data)
        body = out(evaluation)
    return respond(body, 200 if existing else 201)


@bp.get("/evaluations/<evaluation_id>")
@documented(summary="One evaluation", tag=TAG, response=qs.EvaluationOut)
@require(EVALUATIONS_READ)
def get_evaluation(evaluation_id: str):
    principal = current_principal()
    with get_db().session() as session:
        body = out(evaluations.get_visible(session, principal, evaluation_id))
    return respond(body)


@bp.put("/evaluations/<evaluation_id>/answers")
@documented(summary="Record answers (merged), rescore; assigned -> in_progress", tag=TAG,
            body=qs.AnswersBody, response=qs.EvaluationOut, problems={**_INVALID, **_CONFLICT})
@require(EVALUATIONS_WRITE)
def put_answers(evaluation_id: str):
    """Changing an automatic answer needs override_reason (422 at
    /answers/<question>/override_reason otherwise); both values are kept. Answers that do not
    fit the form version are 422 at /answers/<question> or /na_groups/<group>."""
    data = parse_body(qs.AnswersBody)
    principal = current_principal()
    with get_db().session() as session:
        evaluation = evaluations.get_visible(session, principal, evaluation_id, lock=True)
        evaluations.save_answers(session, evaluation=evaluation, principal=principal,
                                 answers=data["answers"], na_groups=data["na_groups"])
        body = out(evaluation)
    return respond(body)


def _transition(evaluation_id: str, action):
    principal = current_principal()
    with get_db().session() as session:
        evaluation = evaluations.get_visible(session, principal, evaluation_id, lock=True)
        action(session, evaluation=evaluation, principal=principal)
        body = out(evaluation)
    return respond(body)


@bp.post("/evaluations/<evaluation_id>/submit")
@documented(summary="in_progress -> submitted (every scored question answered)", tag=TAG,
            response=qs.EvaluationOut, problems={**_CONFLICT, "422": "Unanswered questions"})
@require(EVALUATIONS_WRITE)
def submit(evaluation_id: str):
    return _transition(evaluation_id, evaluations.submit)


@bp.post("/evaluations/<evaluation_id>/release")
@documented(summary="submitted -> released: the agent sees it; the score reaches analytics", tag=TAG,
            response=qs.EvaluationOut, problems=_CONFLICT)
@require(EVALUATIONS_WRITE)
def release(evaluation_id: str):
    return _transition(evaluation_id, evaluations.release)


@bp.post("/evaluations/<evaluation_id>/acknowledge")
@documented(summary="released -> acknowledged, by the evaluated agent", tag=TAG,
            response=qs.EvaluationOut, problems=_CONFLICT)
@require(EVALUATIONS_ACKNOWLEDGE)
def acknowledge(evaluation_id: str):
    return _transition(evaluation_id, evaluations.acknowledge)


@bp.post("/evaluations/<evaluation_id>/retract")
@documented(summary="Withdraw an evaluation (any state but retracted)", tag=TAG, body=qs.RetractBody,
            response=qs.EvaluationOut, problems={**_INVALID, **_CONFLICT})
@require(EVALUATIONS_ASSIGN)
def retract(evaluation_id: str):
    """Frees the conversation and form for a new evaluation, voids open disputes and takes a
    released score back out of analytics."""
    data = parse_body(qs.RetractBody)
    principal = current_principal()
    with get_db().session() as session:
        evaluation = evaluations.get_visible(session, principal, evaluation_id, lock=True)
        evaluations.retract(session, evaluation=evaluation, principal=principal, reason=data["reason"])
        body = out(evaluation)
    return respond(body)


@bp.post("/evaluations/<evaluation_id>/reassign")
@documented(summary="Give open work to another evaluator (audited)", tag=TAG, body=qs.ReassignBody,
            response=qs.EvaluationOut, problems={**_INVALID, **_CONFLICT})
@require(EVALUATIONS_ASSIGN)
def reassign(evaluation_id: str):
    """Without evaluator_id the evaluator with the most headroom is chosen."""
    data = parse_body(qs.ReassignBody)
    principal = current_principal()
    with get_db().session() as session:
        evaluation = evaluations.get_visible(session, principal, evaluation_id, lock=True)
        evaluations.reassign(session, evaluation=evaluation, principal=principal,
                             evaluator_id=data["evaluator_id"], reason=data["reason"])
        body = out(evaluation)
    return respond(body)
