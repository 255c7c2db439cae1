"""/api/v1/sampling-plans and /api/v1/sampling-runs: plans per tenant, deterministic runs."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.api.schemas import PageQuery
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import SAMPLING_READ, SAMPLING_WRITE
from extension.platform.db import get_db
from extension.sampling import plans as service
from extension.sampling import schemas as qm

bp = Blueprint("api_sampling_plans", __name__, url_prefix="/api/v1")
TAG = "sampling"
_INVALID = {"415": "Not JSON", "422": "Invalid body (errors name each field, e.g. document.mix)"}


@bp.get("/sampling-plans")
@documented(summary="Sampling plans of the tenant", query=qm.SamplingPlansQuery,
            response=qm.SamplingPlansPage, tag=TAG)
@require(SAMPLING_READ)
def list_plans():
    args = parse(qm.SamplingPlansQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = service.list_plans(session, principal.tenant_id, include_inactive=args["include_inactive"],
                                  offset=offset, limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [service.plan_json(r) for r in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.post("/sampling-plans")
@documented(summary="Create a sampling plan", body=qm.SamplingPlanIn, response=qm.SamplingPlanOut,
            status=201, tag=TAG, problems=_INVALID)
@require(SAMPLING_WRITE)
def create_plan():
    """The document is validated by the domain (structure, then meaning); every issue is
    reported at its path under ``document``."""
    data = parse_body(qm.SamplingPlanIn)
    principal = current_principal()
    with get_db().session() as session:
        row = service.create_plan(session, tenant_id=principal.tenant_id, actor=principal.person_id,
                                  name=data["name"], document=data["document"])
        body = service.plan_json(row)
    return respond(body, 201)


@bp.get("/sampling-plans/<plan_id>")
@documented(summary="One sampling plan", response=qm.SamplingPlanOut, tag=TAG)
@require(SAMPLING_READ)
def get_plan(plan_id: str):
    principal = current_principal()
    with get_db().session() as session:
        body = service.plan_json(service.plan_or_404(session, principal.tenant_id, plan_id))
    return respond(body)


@bp.put("/sampling-plans/<plan_id>")
@documented(summary="Replace a sampling plan (the version grows when the document changes)",
            body=qm.SamplingPlanIn, response=qm.SamplingPlanOut, tag=TAG, problems=_INVALID)
@require(SAMPLING_WRITE)
def put_plan(plan_id: str):
    data = parse_body(qm.SamplingPlanIn)
    principal = current_principal()
    with get_db().session() as session:
        row = service.update_plan(session, tenant_id=principal.tenant_id, plan_id=plan_id,
                                  actor=principal.person_id, name=data["name"], document=data["document"],
                                  active=data["active"])
        body = service.plan_json(row)
    return respond(body)


@bp.delete("/sampling-plans/<plan_id>")
@documented(summary="Deactivate a sampling plan (runs are kept)", response=qm.SamplingPlanOut, tag=TAG)
@require(SAMPLING_WRITE)
def delete_plan(plan_id: str):
    principal = current_principal()
    with get_db().session() as session:
        row = service.deactivate(session, tenant_id=principal.tenant_id, plan_id=plan_id,
                                 actor=principal.person_id)
        body = service.plan_json(row)
    return respond(body)


@bp.post("/sampling-plans/<plan_id>/runs")
@documented(summary="Run the plan over a period: picks with reasons and the fairness report",
            body=qm.SamplingRunIn, response=qm.SamplingRunCreated, status=201, tag=TAG,
            problems={**_INVALID, "409": "Plan deactivated"})
@require(SAMPLING_WRITE)
def create_run(plan_id: str):
    """Deterministic: the same plan version, period and seed give the same picks, and asking
    again returns the stored run (200, ``created: false``) rather than drawing twice. With
    ``assign`` every pick without an evaluation is assigned against ``form_id``; re-running
    assigns only what is still missing."""
    data = parse_body(qm.SamplingRunIn)
    principal = current_principal()
    with get_db().session() as session:
        run, created, assignment = service.run_plan(
            session, tenant_id=principal.tenant_id, plan_id=plan_id, start=data["start"], end=data["end"],
            seed=data["seed"], assign=data["assign"], form_id=data["form_id"], actor=principal.person_id)
        picks = [service.pick_json(p) for p in service.picks(session, run, offset=0, limit=100_000)]
        body = {**service.run_json(run), "created": created, "assignment": assignment, "picks": picks}
    return respond(body, 201 if created else 200)


@bp.get("/sampling-plans/<plan_id>/runs")
@documented(summary="The plan's runs, newest first", query=PageQuery, response=qm.SamplingRunsPage, tag=TAG)
@require(SAMPLING_READ)
def list_runs(plan_id: str):
    args = parse(PageQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = service.list_runs(session, principal.tenant_id, plan_id, offset=offset,
                                 limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [service.run_json(r) for r in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.get("/sampling-runs/<run_id>")
@documented(summary="One run with its picks (paged) and fairness report", query=PageQuery,
            response=qm.SamplingRunDetail, tag=TAG)
@require(SAMPLING_READ)
def get_run(run_id: str):
    args = parse(PageQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        run = service.run_or_404(session, principal.tenant_id, run_id)
        rows = service.picks(session, run, offset=offset, limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        body = {**service.run_json(run), "total_picks": service.pick_count(session, run),
                "picks": [service.pick_json(p) for p in shown], "next_cursor": cursor}
    return respond(body)
