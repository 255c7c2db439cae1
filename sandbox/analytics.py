"""Conversation history for the analytics details query and the async details jobs.

History is generated per UTC day from the seed (the same day always holds the same
conversations), with the world's agents, teams, queues and wrap-up codes and a pool of repeat
customers, so first-contact resolution has repeats to find. Shapes follow the reference models:
ConversationQuery -> AnalyticsConversationQueryResponse{conversations, totalHits};
AsyncConversationQuery -> AsyncQueryResponse{jobId}; AsyncQueryStatus{state, ...};
AnalyticsConversationAsyncQueryResponse{conversations, cursor, dataAvailabilityDate}.

Sandbox choices (documented, not the host's): the query matches conversations that STARTED
inside the interval ([start, end)); an interval may span at most 31 days; a job is QUEUED when
submitted and FULFILLED at its first status check. Job results report `dataAvailabilityDate`
= now - lag (`lagMinutes`, default 0) and leave out conversations that started at or after it:
data the host has not indexed yet (late data), which a later job returns. A conversation whose agent is still
interacting at the sandbox's `now` has no `conversationEnd` (nor wrap-up) yet.

`/sandbox/control/analytics` sets conversations per day, the data-availability lag, and can
make the next analytics calls fail (HTTP 400, so clients do not retry) after a number of
successful ones: crash tests.
"""

from __future__ import annotations

import base64
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, current_app, jsonify, request

from sandbox.errors import ApiError, bad_request, not_found
from sandbox.events import CHANNEL_MIX, HANDLE_SECONDS, INQUIRY_MIX, MEDIA, envelope
from sandbox.ids import stable_id
from sandbox.state import state, world
from sandbox.timeutil import iso, parse_interval

bp = Blueprint("sandbox_analytics", __name__)

MAX_INTERVAL = timedelta(days=31)
MAX_PAGE_SIZE = 100
MAX_RESULTS_PAGE = 1000
CUSTOMERS = 30
ORG_NUMBER = "tel:+448000000100"
SUPPORT_ADDRESS = "support@sandbox.test"
FIRST = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Max", "Ash"]
LAST = ["Archer", "Baker", "Carter", "Dyer", "Fisher", "Glover", "Hunter", "Mason"]


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str
    email: str


@dataclass
class Job:
    job_id: str
    start: datetime
    end: datetime
    order: str
    submitted: datetime
    state: str = "QUEUED"


@dataclass
class AnalyticsState:
    per_day: int = 8
    fail_after: int | None = None  # successful analytics calls left before failures start
    lag_minutes: int = 0  # job results hold data up to now - lag (dataAvailabilityDate)
    jobs: dict[str, Job] = field(default_factory=dict)
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def analytics_state() -> AnalyticsState:
    return current_app.extensions.setdefault("sandbox.analytics", AnalyticsState())


# ---- generation (pure) ------------------------------------------------------------------------

def customers(seed: int) -> list[Customer]:
    rng = random.Random(f"{seed}:customers")
    pool = []
    for number in range(CUSTOMERS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        pool.append(Customer(name=f"{first} {last}", phone=f"+447700900{number:03d}",
                             email=f"{first}.{last}{number}@example.com".lower()))
    return pool


def day_conversations(wld, day: date, *, per_day: int, now: datetime) -> list[dict]:
    """The conversations that started on this UTC day (AnalyticsConversationWithoutAttributes)."""
    rng = random.Random(f"{wld.seed}:history:{day.isoformat()}")
    pool = customers(wld.seed)
    found = []
    for index in range(per_day):
        start = datetime.combine(day, time(7), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 12 * 3600))
        conversation = _conversation(wld, rng, day=day, index=index, start=start, pool=pool, now=now)
        if conversation is not None:
            found.append(conversation)
    return sorted(found, key=lambda c: (c["conversationStart"], c["conversationId"]))


def history(wld, start: datetime, end: datetime, *, per_day: int, now: datetime) -> list[dict]:
    """Conversations that started in [start, end), oldest first."""
    day, last = start.date(), (end - timedelta(microseconds=1)).date()
    found = []
    while day <= last:
        found.extend(c for c in day_conversations(wld, day, per_day=per_day, now=now)
                     if start <= _parse(c["conversationStart"]) < end)
        day += timedelta(days=1)
    return found


def _weighted(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _conversation(wld, rng: random.Random, *, day: date, index: int, start: datetime,
                  pool: list[Customer], now: datetime) -> dict | None:
    media = _weighted(rng, CHANNEL_MIX)
    agent = rng.choice(wld.agents)
    queues = [q for q in wld.queues if q.media_type == media] or wld.queues
    queue = rng.choice(queues)
    inquiry = _weighted(rng, INQUIRY_MIX)
    customer = rng.choice(pool)
    outbound = media == "voice" and rng.random() < 0.15
    acd_ms = rng.randint(5, 90) * 1000
    alert_ms = rng.randint(2, 12) * 1000
    talk_ms = int(rng.lognormvariate(0, 0.45) * HANDLE_SECONDS[media] * 1000)
    held_ms = rng.choice([0, 0, 0, rng.randint(15, 120) * 1000]) if media == "voice" else 0
    acw_ms = rng.randint(20, 120) * 1000
    transferred = rng.random() < 0.08
    anonymous = media == "voice" and not outbound and rng.random() < 0.05
    if start > now:
        return None
    cid = stable_id(wld.seed, "history", day.isoformat(), index)
    answered = start + timedelta(milliseconds=acd_ms + alert_ms)
    ended = answered + timedelta(milliseconds=talk_ms + held_ms)
    done = ended + timedelta(milliseconds=acw_ms)
    finished = done <= now
    addresses = _addresses(media, customer, outbound=outbound, anonymous=anonymous)
    direction = "outbound" if outbound else "inbound"
    conversation = {
        "conversationId": cid, "conversationStart": iso(start), "originatingDirection": direction,
        "divisionIds": [wld.division_id],
        "participants": [
            _customer_participant(cid, customer, media, direction, addresses, start, ended, anonymous),
            _acd_participant(cid, queue, media, direction, start, acd_ms),
            _agent_participant(wld, cid, agent, queue, media, direction, addresses, inquiry,
                               answered=answered, alert_ms=alert_ms, talk_ms=talk_ms, held_ms=held_ms,
                               acw_ms=acw_ms, transferred=transferred, finished=finished),
        ],
    }
    if finished:
        conversation["conversationEnd"] = iso(ended)
    return conversation


def _addresses(media: str, customer: Customer, *, outbound: bool, anonymous: bool) -> dict:
    if media == "email":
        return {"addressFrom": customer.email, "addressTo": SUPPORT_ADDRESS}
    if media in ("chat", "message"):
        return {"addressFrom": customer.phone if media == "message" else customer.email,
                "addressTo": SUPPORT_ADDRESS}
    phone = "tel:anonymous" if anonymous else f"tel:{customer.phone}"
    if outbound:
        return {"ani": ORG_NUMBER, "dnis": phone}
    return {"ani": phone, "dnis": ORG_NUMBER}


def _segment(kind: str, start: datetime, end: datetime, **extra) -> dict:
    return {"segmentType": kind, "segmentStart": iso(start), "segmentEnd": iso(end), **extra}


def _customer_participant(cid, customer, media, direction, addresses, start, ended, anonymous) -> dict:
    return {"participantId": stable_id(cid, "customer"), "purpose": "customer",
            "participantName": "Anonymous" if anonymous else customer.name,
            "sessions": [{"sessionId": stable_id(cid, "customer-session"), "mediaType": media,
                          "direction": direction, **addresses,
                          "segments": [_segment("interact", start, ended, disconnectType="client")]}]}


def _acd_participant(cid, queue, media, direction, start, acd_ms) -> dict:
    queued_until = start + timedelta(milliseconds=acd_ms)
    return {"participantId": stable_id(cid, "acd"), "purpose": "acd", "participantName": queue.name,
            "sessions": [{"sessionId": stable_id(cid, "acd-session"), "mediaType": media,
                          "direction": direction,
                          "segments": [_segment("interact", start, queued_until, queueId=queue.id,
                                                disconnectType="transfer")],
                          "metrics": [{"name": "tAcd", "value": acd_ms, "emitDate": iso(queued_until)},
                                      {"name": "nOffered", "value": 1, "emitDate": iso(start)}]}]}


def _agent_participant(wld, cid, agent, queue, media, direction, addresses, inquiry, *, answered,
                       alert_ms, talk_ms, held_ms, acw_ms, transferred, finished) -> dict:
    alerted = answered - timedelta(milliseconds=alert_ms)
    first_half = talk_ms // 2
    segments = [_segment("alert", alerted, answered, queueId=queue.id)]
    moment = answered
    if held_ms:
        held_from = answered + timedelta(milliseconds=first_half)
        held_to = held_from + timedelta(milliseconds=held_ms)
        segments += [_segment("interact", answered, held_from, queueId=queue.id),
                     _segment("hold", held_from, held_to, queueId=queue.id)]
        moment = held_to
        rest = talk_ms - first_half
    else:
        rest = talk_ms
    ended = moment + timedelta(milliseconds=rest)
    last = _segment("interact", moment, ended, queueId=queue.id,
                    disconnectType="transfer" if transferred else "client")
    segments.append(last)
    metrics = [{"name": "tAlert", "value": alert_ms, "emitDate": iso(answered)},
               {"name": "tAnswered", "value": alert_ms, "emitDate": iso(answered)}]
    if finished:
        done = ended + timedelta(milliseconds=acw_ms)
        segments.append(_segment("wrapup", ended, done, queueId=queue.id,
                                 wrapUpCode=wld.wrapup_codes[inquiry], wrapUpNote=inquiry))
        metrics += [{"name": "tTalk", "value": talk_ms, "emitDate": iso(ended)},
                    {"name": "tTalkComplete", "value": talk_ms, "emitDate": iso(ended)},
                    {"name": "tAcw", "value": acw_ms, "emitDate": iso(done)},
                    {"name": "tHandle", "value": talk_ms + held_ms + acw_ms, "emitDate": iso(done)}]
        if held_ms:
            metrics += [{"name": "tHeld", "value": held_ms, "emitDate": iso(ended)},
                        {"name": "tHeldComplete", "value": held_ms, "emitDate": iso(ended)}]
        if transferred:
            metrics.append({"name": "nTransferred", "value": 1, "emitDate": iso(ended)})
    participant = {"participantId": stable_id(cid, "agent"), "purpose": "agent", "userId": agent.id,
                   "participantName": agent.name,
                   "sessions": [{"sessionId": stable_id(cid, "agent-session"), "mediaType": media,
                                 "direction": direction, **addresses, "segments": segments,
                                 "metrics": metrics}]}
    if agent.team_id:
        participant["teamId"] = agent.team_id
    return participant


def notification_messages(wld, conversation: dict) -> list[dict]:
    """The user.end and acw detail events the host would have pushed live for a finished
    history conversation (same agent, queue, timings, wrap-up and customer address)."""
    agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    session = agent["sessions"][0]
    cid = conversation["conversationId"]
    segments = session["segments"]
    interact = [s for s in segments if s["segmentType"] in ("interact", "hold")]
    wrapup = next(s for s in segments if s["segmentType"] == "wrapup")
    metrics = {m["name"]: m["value"] for m in session["metrics"]}
    ended = _parse(interact[-1]["segmentEnd"])
    common = {"conversationId": cid, "participantId": agent["participantId"],
              "sessionId": session["sessionId"], "mediaType": MEDIA[session["mediaType"]],
              "provider": "PureCloud", "direction": session["direction"].upper(),
              "userId": agent["userId"], "queueId": interact[-1]["queueId"],
              **{k: session[k] for k in ("ani", "dnis", "addressFrom", "addressTo") if k in session}}
    user_end = {**common, "eventTime": int(ended.timestamp() * 1000),
                "disconnectType": interact[-1]["disconnectType"].upper(),
                "divisionId": wld.division_id, "interactingDurationMs": metrics["tTalk"],
                "heldDurationMs": metrics.get("tHeld", 0), "alertingDurationMs": metrics["tAlert"]}
    acw = {**common, "eventTime": int(_parse(wrapup["segmentEnd"]).timestamp() * 1000),
           "wrapupCode": wrapup["wrapUpCode"], "wrapupNotes": wrapup["wrapUpNote"],
           "wrapupDurationMs": metrics["tAcw"]}
    return [envelope(f"v2.detail.events.conversation.{cid}.user.end", user_end,
                     correlation_id=stable_id(cid, "live-end")),
            envelope(f"v2.detail.events.conversation.{cid}.acw", acw,
                     correlation_id=stable_id(cid, "live-acw"))]


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- HTTP -------------------------------------------------------------------------------------

def _count_call() -> None:
    s = analytics_state()
    with s.lock:
        s.calls += 1
        if s.fail_after is not None:
            if s.fail_after <= 0:
                raise ApiError(400, "bad.request", "sandbox: analytics failure injected by a test")
            s.fail_after -= 1


def _interval(body: dict) -> tuple[datetime, datetime]:
    raw = body.get("interval")
    if not isinstance(raw, str):
        raise bad_request("interval is required (ISO-8601 start/end)")
    try:
        start, end = parse_interval(raw)
    except ValueError as exc:
        raise bad_request(f"interval: {exc}") from None
    if end - start > MAX_INTERVAL:
        raise bad_request("interval may span at most 31 days")
    return start, end


def _order(body: dict) -> str:
    order = body.get("order", "asc")
    if order not in ("asc", "desc", "unordered"):
        raise bad_request("order must be asc, desc or unordered")
    by = body.get("orderBy", "conversationStart")
    if by not in ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd"):
        raise bad_request("orderBy is not a valid value")
    return order


def _ordered(items: list[dict], order: str) -> list[dict]:
    return list(reversed(items)) if order == "desc" else items


@bp.post("/api/v2/analytics/conversations/details/query")
def details_query():
    _count_call()
    body = request.get_json(silent=True) or {}
    start, end = _interval(body)
    order = _order(body)
    paging = body.get("paging") or {}
    size, number = paging.get("pageSize", 25), paging.get("pageNumber", 1)
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"paging.pageSize must be between 1 and {MAX_PAGE_SIZE}")
    if not isinstance(number, int) or number < 1:
        raise bad_request("paging.pageNumber must be 1 or more")
    found = _ordered(history(world(), start, end, per_day=analytics_state().per_day,
                             now=state().now()), order)
    page = found[(number - 1) * size: number * size]
    answer = {"totalHits": len(found)}
    if page:
        answer = {"conversations": page, "totalHits": len(found)}
    return jsonify(answer)


@bp.post("/api/v2/analytics/conversations/details/jobs")
def submit_job():
    _count_call()
    body = request.get_json(silent=True) or {}
    start, end = _interval(body)
    order = _order(body)
    s = analytics_state()
    with s.lock:
        job_id = stable_id("job", start.isoformat(), end.isoformat(), len(s.jobs))
        s.jobs[job_id] = Job(job_id=job_id, start=start, end=end, order=order, submitted=state().now())
    return jsonify({"jobId": job_id}), 202


def _job(job_id: str) -> Job:
    job = analytics_state().jobs.get(job_id)
    if job is None:
        raise not_found("Job")
    return job


@bp.get("/api/v2/analytics/conversations/details/jobs/<job_id>")
def job_status(job_id: str):
    _count_call()
    job = _job(job_id)
    if job.state == "QUEUED":
        job.state = "FULFILLED"
        return jsonify({"state": "PENDING", "submissionDate": iso(job.submitted)})
    return jsonify({"state": job.state, "submissionDate": iso(job.submitted),
                    "completionDate": iso(job.submitted),
                    "expirationDate": iso(job.submitted + timedelta(days=1))})


@bp.get("/api/v2/analytics/conversations/details/jobs/<job_id>/results")
def job_results(job_id: str):
    _count_call()
    job = _job(job_id)
    if job.state != "FULFILLED":
        raise bad_request("the job has not completed")
    try:
        size = int(request.args.get("pageSize", 100))
        offset = int(base64.urlsafe_b64decode(request.args["cursor"]).decode()) \
            if request.args.get("cursor") else 0
    except (ValueError, UnicodeDecodeError):
        raise bad_request("cursor or pageSize is not valid") from None
    if not 1 <= size <= MAX_RESULTS_PAGE:
        raise bad_request(f"pageSize must be between 1 and {MAX_RESULTS_PAGE}")
    available = state().now() - timedelta(minutes=analytics_state().lag_minutes)
    found = _ordered([c for c in history(world(), job.start, job.end,
                                         per_day=analytics_state().per_day, now=state().now())
                      if _parse(c["conversationStart"]) < available], job.order)
    answer = {"conversations": found[offset: offset + size], "dataAvailabilityDate": iso(available)}
    if offset + size < len(found):
        answer["cursor"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return jsonify(answer)


@bp.post("/sandbox/control/analytics")
def control():
    """{"perDay": n, "failAfter": k|null, "lagMinutes": m}: conversations per day; fail after
    k more calls; async results hold data up to m minutes before now."""
    body = request.get_json(silent=True) or {}
    s = analytics_state()
    with s.lock:
        if "perDay" in body:
            per_day = body["perDay"]
            if not isinstance(per_day, int) or not 0 <= per_day <= 500:
                raise bad_request("perDay must be an integer in 0..500")
            s.per_day = per_day
        if "failAfter" in body:
            fail_after = body["failAfter"]
            if fail_after is not None and (not isinstance(fail_after, int) or fail_after < 0):
                raise bad_request("failAfter must be a non-negative integer or null")
            s.fail_after = fail_after
        if "lagMinutes" in body:
            lag = body["lagMinutes"]
            if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= 7 * 24 * 60:
                raise bad_request("lagMinutes must be an integer in 0..10080")
            s.lag_minutes = lag
        return jsonify(perDay=s.per_day, failAfter=s.fail_after, lagMinutes=s.lag_minutes,
                       calls=s.calls, jobs=len(s.jobs))
