"""/api/v1/calibrations: blind calibration sessions, their scores, close and report."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import CALIBRATIONS_READ, CALIBRATIONS_WRITE
from extension.platform.db import get_db
from extension.quality import calibration as service
from extension.quality.api import calibration_schemas as qm

bp = Blueprint("api_calibrations", __name__, url_prefix="/api/v1")
TAG = "calibration"


@bp.get("/calibrations")
@documented(summary="Calibration sessions, newest first", query=qm.CalibrationsQuery,
            response=qm.CalibrationsPage, tag=TAG)
@require(CALIBRATIONS_READ)
def list_calibrations():
    """Calibration managers see every session; others the sessions they score in or created."""
    args = parse(qm.CalibrationsQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        rows = service.list_sessions(session, principal, status=args["status"], offset=offset,
                                     limit=args["limit"] + 1)
        shown, cursor = page(rows, limit=args["limit"], offset=offset)
        items = [service.summary_json(r) for r in shown]
    return respond({"items": items, "next_cursor": cursor})


@bp.post("/calibrations")
@documented(summary="Create a calibration session", body=qm.CalibrationCreate,
            response=qm.CalibrationDetail, status=201, tag=TAG,
            problems={"415": "Not JSON", "422": "Invalid body (errors name each field)"})
@require(CALIBRATIONS_WRITE)
def create_calibration():
    """The form version defaults to the published one; conversations and people must exist in
    the tenant. The expert (optional) scores too and is the reference for deviations."""
    data = parse_body(qm.CalibrationCreate)
    principal = current_principal()
    with get_db().session() as session:
        created = service.create(session, tenant_id=principal.tenant_id, actor=principal.person_id, data=data)
        body = service.view(session, principal, created)
    return respond(body, 201)


@bp.get("/calibrations/<session_id>")
@documented(summary="One calibration session (blind while open)", response=qm.CalibrationDetail, tag=TAG)
@require(CALIBRATIONS_READ)
def get_calibration(session_id: str):
    """While open, ``scores`` holds only the caller's own answers (others' are never shown);
    ``progress`` says how many conversations each rater has scored. Closed: every score.
    Only calibration managers, the session's raters and its creator may read it (404 for others)."""
    principal = current_principal()
    with get_db().session() as session:
        found = service.visible_or_404(session, principal, session_id)
        body = service.view(session, principal, found)
    return respond(body)


@bp.put("/calibrations/<session_id>/scores")
@documented(summary="The calling evaluator's answers for one conversation", body=qm.CalibrationScoreIn,
            response=qm.CalibrationScoreOut, tag=TAG,
            problems={"409": "The session is closed", "415": "Not JSON",
                      "422": "Invalid body (errors name each field)"})
@require(CALIBRATIONS_READ)
def put_calibration_score(session_id: str):
    """Scored with the session's form version (Genesys scoring rules); replaces an earlier
    answer set of the same evaluator and conversation. 403 for callers who are not raters."""
    data = parse_body(qm.CalibrationScoreIn)
    principal = current_principal()
    with get_db().session() as session:
        row, created = service.put_score(session, principal, session_id, data)
        body = service.score_json(row)
    return respond(body, 201 if created else 200)


@bp.post("/calibrations/<session_id>/close")
@documented(summary="Close the session: compute the report, alert on drifting evaluators",
            response=qm.CalibrationDetail, tag=TAG, problems={"409": "Already closed"})
@require(CALIBRATIONS_WRITE)
def close_calibration(session_id: str):
    """Drifting evaluators (mean absolute deviation above the threshold) get a performance alert
    of kind ``calibration`` (one per session and evaluator)."""
    principal = current_principal()
    with get_db().session() as session:
        closed = service.close(session, principal, session_id)
        body = service.view(session, principal, closed)
    return respond(body)


@bp.get("/calibrations/<session_id>/report")
@documented(summary="The calibration report (closed sessions only)", response=qm.CalibrationReport,
            tag=TAG, problems={"409": "The session is still open"})
@require(CALIBRATIONS_READ)
def calibration_report(session_id: str):
    """Per-question agreement, each evaluator's deviation from the expert or the others'
    consensus, Krippendorff's alpha on totals (interval) and answers (nominal)."""
    principal = current_principal()
    with get_db().session() as session:
        body = service.report(session, principal, session_id)
    return respond(body)
