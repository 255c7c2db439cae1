"""Recognitions (employee engagement) and speech & text analytics conversation metrics."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox.errors import ApiError, not_found
from sandbox.ids import stable_id
from sandbox.serialize import paged, user_ref
from sandbox.state import state, world
from sandbox.timeutil import iso, parse_dt

bp = Blueprint("sandbox_engagement", __name__, url_prefix="/api/v2")
TYPES = ("ThankYou", "Congratulations", "HighPerformance", "CompanyValues")
CONTEXT_TYPES = ("Interaction", "Insights", "Development", "Scorecard")


@bp.post("/employeeengagement/recognitions")
def create_recognition():
    body = request.get_json(silent=True)
    problems = validate_recognition(body if isinstance(body, dict) else None, world())
    if problems:
        raise ApiError(400, "bad.request", "; ".join(m for _, m in problems),
                       details=[{"fieldName": f, "errorCode": "invalid.value"}
                                for f, _ in problems])
    with world().lock:
        recognition = _new_recognition(body)
        world().recognitions[recognition["id"]] = recognition
    base = {k: v for k, v in recognition.items() if k not in ("dateDisplayed", "dateAcknowledged")}
    return jsonify(base)


@bp.get("/employeeengagement/recognitions")
def list_recognitions():
    recipient = request.args.get("recipient")
    start, end = request.args.get("dateStart"), request.args.get("dateEnd")
    with world().lock:
        items = sorted(world().recognitions.values(), key=lambda r: r["dateCreated"], reverse=True)
    if request.args.get("direction") == "sent":  # sent by the caller: the integration user
        items = [r for r in items if r["createdBy"]["id"] == world().integration_user.id]
    items = [r for r in items if not recipient or r["recipient"]["id"] == recipient]
    items = [r for r in items if _within(r["dateCreated"], start, end)]
    listing = paged(items, default_size=100)
    return jsonify({k: listing[k] for k in ("entities", "pageSize", "pageNumber", "total",
                                            "pageCount")})


@bp.get("/employeeengagement/recognitions/<recognition_id>")
def get_recognition(recognition_id: str):
    recognition = world().recognitions.get(recognition_id)
    if recognition is None:
        raise not_found("Recognition")
    return jsonify(recognition)


@bp.get("/speechandtextanalytics/conversations/<conversation_id>")
def conversation_metrics(conversation_id: str):
    with world().lock:
        metrics = world().conversations.get(conversation_id)
    if metrics is None:
        raise not_found("Conversation")
    return jsonify(metrics)


def validate_recognition(body: dict | None, w) -> list[tuple[str, str]]:
    if body is None:
        return [("body", "The request body must be a JSON object")]
    problems = [(f, f"{f} is required") for f in ("recipientId", "type", "title")
                if not body.get(f)]
    if body.get("recipientId") and body["recipientId"] not in w.people:
        problems.append(("recipientId", "Unknown recipient"))
    if body.get("type") and body["type"] not in TYPES:
        problems.append(("type", f"type must be one of {', '.join(TYPES)}"))
    if body.get("contextType") and body["contextType"] not in CONTEXT_TYPES:
        problems.append(("contextType", f"contextType must be one of {', '.join(CONTEXT_TYPES)}"))
    if len(str(body.get("title") or "")) > 100:
        problems.append(("title", "title is limited to 100 characters"))
    if len(str(body.get("note") or "")) > 800:
        problems.append(("note", "note is limited to 800 characters"))
    return problems


def _new_recognition(body: dict) -> dict:
    recognition_id = stable_id(world().seed, "recognition", len(world().recognitions))
    return {"id": recognition_id, "recipient": user_ref(body["recipientId"]),
            "createdBy": user_ref(world().integration_user.id), "dateCreated": iso(state().now()),
            "type": body["type"], "title": body["title"], "note": body.get("note"),
            "contextType": body.get("contextType"), "contextId": body.get("contextId"),
            "selfUri": f"/api/v2/employeeengagement/recognitions/{recognition_id}"}


def _within(created: str, start: str | None, end: str | None) -> bool:
    moment = parse_dt(created)
    return (not start or parse_dt(start) <= moment) and (not end or moment < parse_dt(end))
