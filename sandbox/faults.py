"""Fault injection for the effect endpoints: a host that is down, or one that does the work and
then loses the answer.

POST /sandbox/control/faults {"method": "POST", "path": "/api/v2/coaching/appointments",
"mode": ..., "every": N, "times": M, "seconds": S} arms one rule (a new rule for the same method
and path replaces the old one); DELETE /sandbox/control/faults clears them all. Modes:

- ``commit_then_502``: the request is carried out (the appointment exists), then answered 502.
- ``commit_then_sleep``: carried out, then answered only after ``seconds`` (past the caller's
  read timeout, so the caller sees a timeout and cannot know the outcome).
- ``503``: refused before any work with 503 (an outage; the host committed nothing). On a
  calendar path every mode is an outage: there is nothing to commit.

``every`` picks the N-th matching requests (1 = all, 2 = the 2nd, 4th, ...); ``times`` stops
the rule after that many faults (absent = until cleared). The answer to GET /sandbox/state.json
lists each rule with the requests it has seen and the faults it has made.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from flask import Blueprint, Response, jsonify, request

from sandbox.errors import bad_request, error_response
from sandbox.state import state

bp = Blueprint("sandbox_faults", __name__, url_prefix="/sandbox/control")
MODES = ("commit_then_502", "commit_then_sleep", "503")
# The endpoints whose faults this module owns: the effects Coachwire creates on the host and
# the supervisor calendars it reads (a trailing * matches any rest of the path).
PATHS = ("/api/v2/coaching/appointments", "/api/v2/employeeengagement/recognitions",
         "/graph/v1.0/users/*", "/google/calendar/v3/freeBusy")


@dataclass
class FaultRule:
    method: str
    path: str
    mode: str
    every: int = 1
    times: int | None = None
    seconds: float = 0.0
    seen: int = 0
    made: int = 0

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        return path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path

    def take(self) -> bool:
        """Count one matching request; True when this one is to fail."""
        self.seen += 1
        if self.times is not None and self.made >= self.times:
            return False
        if self.seen % self.every:
            return False
        self.made += 1
        return True


@bp.post("/faults")
def arm():
    body = request.get_json(silent=True) or {}
    method, path = str(body.get("method", "POST")).upper(), str(body.get("path", ""))
    mode = str(body.get("mode", ""))
    if path not in PATHS:
        raise bad_request(f"path must be one of {', '.join(PATHS)}")
    if mode not in MODES:
        raise bad_request(f"mode must be one of {', '.join(MODES)}")
    try:
        every = int(body.get("every", 1))
        times = None if body.get("times") is None else int(body["times"])
        seconds = float(body.get("seconds", 0))
    except (TypeError, ValueError):
        raise bad_request("every and times must be integers, seconds a number") from None
    if every < 1 or (times is not None and times < 0) or not 0 <= seconds <= 300:
        raise bad_request("every >= 1, times >= 0, 0 <= seconds <= 300")
    rule = FaultRule(method, path, mode, every=every, times=times, seconds=seconds)
    with state().lock:
        rules = [r for r in state().controls.faults if (r.method, r.path) != (method, path)]
        state().controls.faults = [*rules, rule]
    return jsonify(asdict(rule))


@bp.delete("/faults")
def clear():
    with state().lock:
        cleared, state().controls.faults = len(state().controls.faults), []
    return jsonify(cleared=cleared)


def _rule_for_request() -> FaultRule | None:
    with state().lock:
        for rule in state().controls.faults:
            if rule.matches(request.method, request.path.rstrip("/")):
                return rule if rule.take() else None
    return None


def before() -> tuple[Response, int] | None:
    """Refuse before any work (an outage), or remember the fault to apply after the work."""
    if not state().controls.faults:
        return None
    rule = _rule_for_request()
    if rule is None:
        return None
    if rule.mode == "503" or not rule.path.startswith("/api/"):
        return error_response(503, "service.unavailable", "The service is unavailable.")
    request.environ["sandbox.fault"] = rule
    return None


def after(response: Response) -> Response:
    """The work is done (committed); now lose or delay the answer."""
    rule = request.environ.get("sandbox.fault")
    if rule is None or response.status_code >= 400:
        return response
    if rule.mode == "commit_then_sleep":
        time.sleep(rule.seconds)
        return response
    failed, status = error_response(502, "bad.gateway", "The upstream service failed.")
    failed.status_code = status
    return failed


def init_app(app) -> None:
    # After auth and the throttle (registered first), so a refused token is still a 401.
    app.before_request(before)
    app.after_request(after)
    app.register_blueprint(bp)
