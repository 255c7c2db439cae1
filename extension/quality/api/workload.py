"""/api/v1/workload: evaluator queues and headroom, daily caps, overdue work, QM settings."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth import scope
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import EVALUATIONS_ASSIGN, SETTINGS_WRITE, WORKLOAD_READ
from extension.platform.db import get_db
from extension.quality import workload
from extension.quality.api import schemas as qs
from extension.quality.api.evaluations import out as evaluation_out

bp = Blueprint("api_workload", __name__, url_prefix="/api/v1")
TAG = "quality"
_INVALID = {"415": "Body is not JSON", "422": "Invalid body; errors name the fields"}


@bp.get("/workload")
@documented(summary="Per evaluator: daily cap, assigned today, headroom, open and overdue work", tag=TAG,
            response=qs.WorkloadOut)
@require(WORKLOAD_READ)
def queues():
    principal = current_principal()
    with get_db().session() as session:
        items = workload.queues(session, principal.tenant_id)
    return respond(qs.WorkloadOut().dump({"items": items}))


@bp.put("/workload/caps/<evaluator_id>")
@documented(summary="Set an evaluator's daily assignment cap", tag=TAG, body=qs.CapBody,
            response=qs.CapOut, problems=_INVALID)
@require(EVALUATIONS_ASSIGN)
def set_cap(evaluator_id: str):
    data = parse_body(qs.CapBody)
    principal = current_principal()
    with get_db().session() as session:
        row = workload.set_cap(session, tenant_id=principal.tenant_id, evaluator_id=evaluator_id,
                               daily_cap=data["daily_cap"], actor=principal.person_id)
        body = qs.CapOut().dump(row)
    return respond(body)


@bp.get("/workload/overdue")
@documented(summary="Open evaluations past their due date, most overdue first", tag=TAG,
            query=qs.OverdueQuery, response=qs.EvaluationsPage)
@require(WORKLOAD_READ)
def overdue():
    """QA analysts see their own queue, supervisors their teams' agents, others the tenant."""
    args = parse(qs.OverdueQuery)
    principal, offset = current_principal(), offset_of(args)
    evaluator = args.get("evaluator_id")
    if principal.role == "qa_analyst":
        evaluator = principal.person_id  # an analyst's own queue only
    with get_db().session() as session:
        agents = scope.visible_agent_ids(session, principal) if principal.role == "supervisor" else None
        rows = workload.overdue(session, principal.tenant_id, evaluator_id=evaluator, agent_ids=agents,
                                offset=offset, limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [evaluation_out(e) for e in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.get("/workload/settings")
@documented(summary="Quality settings: dispute window and limits, default daily cap", tag=TAG,
            response=qs.QualitySettingsOut)
@require(WORKLOAD_READ)
def get_settings():
    principal = current_principal()
    with get_db().session() as session:
        body = qs.QualitySettingsOut().dump(workload.settings(session, principal.tenant_id))
    return respond(body)


@bp.put("/workload/settings")
@documented(summary="Change quality settings (audited)", tag=TAG, body=qs.QualitySettingsBody,
            response=qs.QualitySettingsOut, problems=_INVALID)
@require(SETTINGS_WRITE)
def put_settings():
    data = parse_body(qs.QualitySettingsBody)
    principal = current_principal()
    with get_db().session() as session:
        settings = workload.update_settings(session, tenant_id=principal.tenant_id,
                                            actor=principal.person_id, values=data)
        body = qs.QualitySettingsOut().dump(settings)
    return respond(body)
