"""/api/v1/disputes: agents dispute released evaluations; a second reviewer resolves them."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import DISPUTES_CREATE, DISPUTES_RESOLVE, EVALUATIONS_READ
from extension.platform.db import get_db
from extension.quality import disputes
from extension.quality.api import schemas as qs

bp = Blueprint("api_disputes", __name__, url_prefix="/api/v1")
TAG = "quality"
_INVALID = {"415": "Body is not JSON", "422": "Invalid body; errors name the fields"}


def out(dispute) -> dict:
    return qs.DisputeOut().dump(dispute)


@bp.get("/disputes")
@documented(summary="Disputes in the caller's scope, newest first", tag=TAG, query=qs.DisputesQuery,
            response=qs.DisputesPage)
@require(EVALUATIONS_READ)
def list_disputes():
    args = parse(qs.DisputesQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = disputes.list_visible(session, principal, filters=args, offset=offset, limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [out(d) for d in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.post("/disputes")
@documented(summary="Dispute questions of one's own released evaluation", tag=TAG, body=qs.DisputeBody,
            response=qs.DisputeOut, status=201, problems={
                **_INVALID, "409": "Not released, window closed, or dispute limit reached"})
@require(DISPUTES_CREATE)
def create_dispute():
    """Accepted within the tenant's dispute window (days after release, default 7) and up to
    the per-evaluation limits (default 2 in all, 1 open at a time)."""
    data = parse_body(qs.DisputeBody)
    principal = current_principal()
    with get_db().session() as session:
        dispute = disputes.open_dispute(session, principal=principal, evaluation_id=data["evaluation_id"],
                                        items=data["items"])
        body = out(dispute)
    return respond(body, 201)


@bp.get("/disputes/<dispute_id>")
@documented(summary="One dispute", tag=TAG, response=qs.DisputeOut)
@require(EVALUATIONS_READ)
def get_dispute(dispute_id: str):
    principal = current_principal()
    with get_db().session() as session:
        body = out(disputes.get_visible(session, principal, dispute_id))
    return respond(body)


@bp.post("/disputes/<dispute_id>/resolve")
@documented(summary="Resolve a dispute (second reviewer): upheld, rejected or partially", tag=TAG,
            body=qs.ResolveBody, response=qs.DisputeOut, problems={
                **_INVALID, "409": "Already resolved"})
@require(DISPUTES_RESOLVE)
def resolve_dispute(dispute_id: str):
    """Changed answers (disputed questions only) rescore the evaluation; the scores before and
    after are kept on the dispute and audited. The original evaluator may not resolve (403)."""
    data = parse_body(qs.ResolveBody)
    principal = current_principal()
    with get_db().session() as session:
        dispute = disputes.resolve(session, principal=principal, dispute_id=dispute_id,
                                   outcome=data["outcome"], note=data["note"], changes=data["changes"])
        body = out(dispute)
    return respond(body)
