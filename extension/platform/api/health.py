"""/healthz: the process answers. /readyz: the database and the queue are reachable."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, json, jsonify
from sqlalchemy import Engine, text

from extension.platform.db import get_db
from extension.platform.problems import PROBLEM_BASE
from extension.platform.queue import get_dispatcher

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {"database": _check_db(), "queue": _check_queue()}
    if all(value == "ok" for value in checks.values()):
        return jsonify(status="ready", checks=checks)
    # An error answer like every other: RFC 9457 problem details, the checks as an extension member.
    failing = ", ".join(name for name, value in checks.items() if value != "ok")
    body = {"type": PROBLEM_BASE + "not-ready", "title": "Not Ready", "status": 503,
            "detail": f"Unreachable: {failing}.", "checks": checks}
    return Response(json.dumps(body), status=503, mimetype="application/problem+json")


def _check_db() -> str:
    try:
        with cast(Engine, get_db().engine).connect() as conn:  # None: caught below, as before
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _check_queue() -> str:
    try:
        return "ok" if get_dispatcher().ping() else "error: no answer"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
