"""/healthz: the process answers. /readyz: the database and the queue are reachable and the
event pipeline drains.

The pipeline check reads two small indexed things: the oldest due ``received`` inbox row
(``ix_inbox_status_due``) and the heartbeat rows of the processes that take jobs. It is red when
rows wait longer than ``COACHWIRE_READY_WAIT_SECONDS`` and, with Redis configured, no worker's
heartbeat is fresh (``COACHWIRE_READY_STALE_SECONDS``), or when the oldest due row is older than
``COACHWIRE_READY_BACKLOG_SECONDS`` whoever is alive. The periodic jobs' last runs are reported
alongside (they do not decide readiness).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, current_app, json, jsonify
from sqlalchemy import func, select

from extension.platform.db import get_db
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.ops import PeriodicLease, WorkerHeartbeat
from extension.platform.problems import PROBLEM_BASE
from extension.platform.queue import get_dispatcher

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    pipeline, periodic, database = _pipeline()
    checks = {"database": database, "queue": _check_queue(), "pipeline": pipeline.pop("check")}
    body = {"checks": checks, "pipeline": pipeline, "periodic": periodic}
    if all(value == "ok" for value in checks.values()):
        return jsonify(status="ready", **body)
    # An error answer like every other: RFC 9457 problem details, the checks as an extension member.
    failing = ", ".join(f"{name} ({value})" for name, value in checks.items() if value != "ok")
    problem = {"type": PROBLEM_BASE + "not-ready", "title": "Not Ready", "status": 503,
               "detail": f"Not ready: {failing}.", **body}
    return Response(json.dumps(problem), status=503, mimetype="application/problem+json")


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def _pipeline() -> tuple[dict, list, str]:
    """(pipeline figures with their verdict under "check", periodic jobs, database verdict)."""
    settings = current_app.config["SETTINGS"]
    now = datetime.now(UTC)
    try:
        with get_db().session() as session:
            oldest_due = session.scalar(select(func.min(InboxEvent.next_attempt_at)).where(
                InboxEvent.status == "received", InboxEvent.next_attempt_at <= now))
            stale = now - timedelta(seconds=settings.ready_stale_seconds)
            beats = session.execute(select(
                WorkerHeartbeat.role, func.count(), func.max(WorkerHeartbeat.last_job_at))
                .where(WorkerHeartbeat.seen_at >= stale).group_by(WorkerHeartbeat.role)).all()
            leases = session.scalars(select(PeriodicLease).order_by(PeriodicLease.name)).all()
    except Exception as exc:
        return {"check": "unknown"}, [], f"error: {type(exc).__name__}"
    live = {role: count for role, count, _ in beats}
    last_job = max((last for _, _, last in beats if last is not None), default=None)
    oldest_age = _age(now, oldest_due)
    waiting = oldest_age is not None and oldest_age > settings.ready_wait_seconds
    workers = live.get("worker", 0) if settings.redis_url else sum(live.values())
    check = "ok"
    if waiting and settings.redis_url and workers == 0:
        check = "stalled: events wait and no worker heartbeat is fresh"
    elif oldest_age is not None and oldest_age > settings.ready_backlog_seconds:
        check = f"stalled: the oldest due event waits {oldest_age:.0f}s"
    pipeline = {"check": check, "oldest_due_event_age_seconds": oldest_age,
                "live_workers": workers, "last_job_seconds_ago": _age(now, last_job)}
    periodic = [{"name": lease.name, "every_seconds": lease.every_seconds,
                 "last_started_at": _iso(lease.last_started_at),
                 "last_finished_at": _iso(lease.last_finished_at),
                 "last_outcome": lease.last_outcome, "next_due_at": _iso(lease.due_at)}
                for lease in leases]
    return pipeline, periodic, "ok"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _check_queue() -> str:
    try:
        return "ok" if get_dispatcher().ping() else "error: no answer"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
