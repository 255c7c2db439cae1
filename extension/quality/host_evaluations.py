"""Evaluations made in Genesys, mirrored into Coachwire's own (``evaluation.changed`` events).

A ``v2.quality.evaluations`` notification carries the status and the host's total, never the
answers, so each one is followed by ``GET /api/v2/quality/conversations/{conversationId}/
evaluations/{evaluationId}?expand=evaluationForm`` (EvaluationResponse). That GET is never made
inside a database transaction (ARCHITECTURE.md, outbound calls): the drain only records a due
row (``EvaluationFetch``, unique per tenant + evaluation + notified version, so a redelivery adds
nothing) and commits; ``mirror_due``, one job per tenant on the effects queue, takes one due row
at a time in a short transaction, does the GET(s) with no transaction open under the tenant's
host budget (a wait longer than ``HOST_WAIT_LIMIT`` re-enqueues the job with that delay instead
of holding a worker other tenants need), then applies the answer in one short transaction. Then:

* **Form**: the Coachwire form imported from the same Genesys form id, else an import now through
  ``GET /api/v2/quality/publishedforms/evaluations/{formId}`` (``quality_forms.import_genesys``).
  A Genesys form id names one published version, so the imported form (its published version)
  is the cache for that id + version and is never re-fetched. A form that cannot be imported is
  an audited skip listing the import issues; the event is done, not retried.
* **Answers**: read out of the response's ``answers`` (EvaluationScoringSet; multiple-select
  answers through the expanded ``evaluationForm``), rescored with our engine. Both totals are
  kept (``total_score`` ours, ``host_total_score`` Genesys's ``totalScore``); a difference is
  written into the audit details (``score_mismatch``), never hidden or overwritten.
* **Lifecycle** (``lifecycle_status``; the reference's Evaluation.status enum): PENDING ->
  assigned, INPROGRESS -> in_progress, FINISHED (and INREVIEW) -> submitted until the
  ``releaseDate`` has passed, then released, or acknowledged once ``agentHasRead``; RETRACTED ->
  retracted. An unknown (newer) status keeps the mirrored status as it was.
* **Idempotence / order**: the mirror stores the host ``version`` and ``changedDate``; a
  notification (and then a fetched evaluation) that is not newer than what is stored changes
  nothing. An unchanged evaluation is not rewritten or audited again.
* **KPIs**: when a mirrored evaluation becomes agent-visible (released or acknowledged) its score
  is written into the interaction fact exactly as a native release does
  (``evaluations.write_qa_score``); leaving that state (retracted) takes it out again.

Every create, update and skip is audited with actor ``system:genesys``. Mirrored evaluations have
no ``active_key``: they do not take Coachwire's (conversation, form) assignment slot.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, text, update
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError, NotFound
from connectors.genesys.body import parse_time
from connectors.http import RateLimitTimeout, bucket_wait_limit
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.db import get_db
from extension.platform.hosts import genesys_for
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.platform.queue import get_dispatcher, job
from extension.quality import evaluations, workload
from extension.quality import forms as quality_forms
from extension.quality.domain.forms import Form
from extension.quality.domain.genesys_forms import answers_from_genesys, to_scoring_set
from extension.quality.domain.scoring import Answers, InvalidAnswers, score
from extension.quality.models.evaluations import Evaluation, QualityForm, QualityFormVersion
from extension.quality.models.fetches import EvaluationFetch

log = logging.getLogger("coachwire.quality.mirror")
ACTOR = "system:genesys"
DUE = "coachwire.evaluations_due"  # session.info key: tenants whose drain recorded fetches
FLAG_TTL = 120
SLICE = 50  # due rows per job run before it yields the worker to other tenants' jobs
TIME_SLICE = 2.0  # seconds per job run, likewise: a booking queued behind it waits no longer
HOST_WAIT_LIMIT = 0.5  # seconds a job may sleep for the tenant's bucket; longer re-enqueues it
LEASE = timedelta(minutes=5)  # a row leased longer than this (worker died) is due again
MAX_ATTEMPTS = 5
RETRY_DELAYS = (10, 60, 300, 900)
MISMATCH_TOLERANCE = 0.01  # percentage points; Genesys rounds nothing, this only absorbs floats
_STAMPS = {"submitted": "submitted_at", "released": "released_at",
           "acknowledged": "acknowledged_at", "retracted": "retracted_at"}


class Skip(Exception):
    """The evaluation cannot be mirrored; audited, and the event is done (not retried)."""

    def __init__(self, reason: str, issues: list[dict] | None = None):
        super().__init__(reason)
        self.reason, self.issues = reason, issues or []


def record_due(session: Session, *, tenant_id: str, data: dict[str, Any]) -> str:
    """Drain side of an ``evaluation.changed`` event: no host call, one cached INSERT. Returns
    ``due`` (a fetch is recorded, or already was) or ``skipped``. Whether what is mirrored is
    already as new is decided by the mirror job (``_mirror_one``), which then makes no host call:
    deciding it here cost a query per event, and a 500-evaluation burst held the tenant's
    conversation events behind it for seconds."""
    host_id, conversation_id = data.get("evaluation_id"), data.get("conversation_id")
    if not host_id or not conversation_id:
        _audit_skip(session, tenant_id, data, Skip("the notification names no evaluation or "
                                                   "conversation"))
        return "skipped"
    version = data.get("version")
    key = f"{version if isinstance(version, int) else ''}|{data.get('changed_at') or ''}"[:80]
    now = utcnow()
    session.execute(_due_insert(), {
        "tenant_id": tenant_id, "host_evaluation_id": str(host_id)[:64], "version_key": key,
        "data": data, "status": "pending", "attempts": 0, "created_at": now, "updated_at": now,
        "next_attempt_at": now})
    session.info.setdefault(DUE, set()).add(tenant_id)
    return "due"


_DUE_COLUMNS = ("tenant_id", "host_evaluation_id", "version_key", "data", "status", "attempts",
                "created_at", "updated_at", "next_attempt_at")


@functools.cache
def _due_insert():
    """The due row's INSERT, built once: SQLAlchemy does not cache the compiled form of a
    dialect ``insert().on_conflict_do_nothing()``, and compiling it per event cost more than the
    insert. Typed bind parameters; the text is valid on PostgreSQL and SQLite alike."""
    table = EvaluationFetch.__table__
    return text(
        f"INSERT INTO evaluation_fetches ({', '.join(_DUE_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(':' + name for name in _DUE_COLUMNS)}) "
        "ON CONFLICT (tenant_id, host_evaluation_id, version_key) DO NOTHING"
    ).bindparams(*[bindparam(name, type_=table.c[name].type) for name in _DUE_COLUMNS])


def dispatch(tenant_id: str) -> None:
    """Enqueue the tenant's mirror job unless one is already queued (after the drain commits)."""
    dispatcher = get_dispatcher()
    if dispatcher.claim_flag(f"mirror:{tenant_id}", FLAG_TTL):
        dispatcher.enqueue(mirror_due, tenant_id)


@job(queue="effects", retries=3, intervals=(5, 30, 120))
def mirror_due(tenant_id: str) -> dict[str, int]:
    """Mirror the tenant's due host evaluations, one short transaction each side of the host
    GETs. Stops after SLICE rows or TIME_SLICE seconds and re-enqueues itself, so other
    tenants' jobs (and bookings) queued behind it get their turn; a host budget wait over
    HOST_WAIT_LIMIT re-enqueues it with that delay."""
    get_dispatcher().release_flag(f"mirror:{tenant_id}")
    counts: Counter[str] = Counter()
    started = time.monotonic()
    for _ in range(SLICE):
        if counts and time.monotonic() - started > TIME_SLICE:  # at least one row per run
            break
        fetch_id = _take_next(tenant_id)
        if fetch_id is None:
            return dict(counts)
        outcome = _mirror_one(fetch_id)
        if isinstance(outcome, float):  # the budget says "not yet": come back then
            get_dispatcher().enqueue_in(outcome, mirror_due, tenant_id)
            counts["deferred"] += 1
            return dict(counts)
        counts[outcome] += 1
    get_dispatcher().enqueue(mirror_due, tenant_id)
    return dict(counts)


def sweep_due() -> int:
    """Enqueue the mirror job of tenants with due rows (a retry's time came, a worker died
    holding a lease, or the enqueue after the drain was lost); returns how many tenants."""
    now = utcnow()
    with get_db().session() as session:
        tenant_ids = set(session.scalars(select(EvaluationFetch.tenant_id).where(
            _due_clause(now)).distinct()))
    for tenant_id in tenant_ids:
        dispatch(tenant_id)
    return len(tenant_ids)


def _due_clause(now: datetime):
    return ((EvaluationFetch.status == "pending") & (EvaluationFetch.next_attempt_at <= now)) | (
        (EvaluationFetch.status == "fetching") & (EvaluationFetch.updated_at <= now - LEASE))


def _take_next(tenant_id: str) -> int | None:
    """Lease the tenant's oldest due row (pending, or fetching with an expired lease) in one
    short transaction; None when nothing is due. Two jobs never lease the same row."""
    with get_db().session() as session:
        now = utcnow()
        candidates = session.scalars(select(EvaluationFetch.id).where(
            EvaluationFetch.tenant_id == tenant_id, _due_clause(now))
            .order_by(EvaluationFetch.id).limit(5)).all()
        for fetch_id in candidates:
            won = cast(CursorResult, session.execute(update(EvaluationFetch).where(
                EvaluationFetch.id == fetch_id, _due_clause(now)).values(
                status="fetching", attempts=EvaluationFetch.attempts + 1, updated_at=now)))
            if won.rowcount == 1:
                return fetch_id
    return None


def _mirror_one(fetch_id: int) -> str | float:
    """One due row: read (short transaction), host GETs (none open), apply (short transaction).
    Returns the outcome, or the seconds to wait when the tenant's budget is spent."""
    db = get_db()
    with db.session() as session:
        row = cast(EvaluationFetch, session.get(EvaluationFetch, fetch_id))  # leased just now
        tenant = cast(Tenant, session.get(Tenant, row.tenant_id))  # the row's tenant exists
        tenant_id, data = row.tenant_id, dict(row.data)
        existing = find(session, tenant_id, data["evaluation_id"])
        if existing is not None and not _newer(data.get("version"),
                                               parse_time(data.get("changed_at")), existing):
            return _finish(session, row, "done", "stale")
        form_ids = _imported_forms(session, tenant_id)
    try:
        response, form_response = _fetch(tenant, data, form_ids)
    except RateLimitTimeout as wait:
        with db.session() as session:
            _back_to_pending(session, fetch_id, delay=wait.wait, attempt_used=False)
        return max(wait.wait, 0.1)
    except Skip as skip:
        with db.session() as session:
            _audit_skip(session, tenant_id, data, skip)
            return _finish(session, cast(EvaluationFetch, session.get(EvaluationFetch, fetch_id)),
                           "skipped", "skipped")
    except ConnectorError as exc:  # transient (after the transport's retries) or refused
        log.warning("mirroring host evaluation %s of %s failed: %s", data["evaluation_id"],
                    tenant_id, exc)
        with db.session() as session:
            return _failed_attempt(session, tenant_id, fetch_id, exc)
    try:
        with db.session() as session:
            row = cast(EvaluationFetch, session.get(EvaluationFetch, fetch_id))
            try:
                outcome = _apply(session, tenant_id=tenant_id, data=data, response=response,
                                 form_response=form_response)
            except Skip as skip:
                _audit_skip(session, tenant_id, data, skip)
                return _finish(session, row, "skipped", "skipped")
            return _finish(session, row, "done", outcome)
    except domain_errors.HostFailed as exc:  # rolled back; the GETs are repeated next time
        with db.session() as session:
            return _failed_attempt(session, tenant_id, fetch_id, exc)


def _apply(session: Session, *, tenant_id: str, data: dict[str, Any], response: dict,
           form_response: dict | None) -> str:
    """Store a fetched evaluation (the short transaction after the host GETs)."""
    existing = find(session, tenant_id, data["evaluation_id"])
    if existing is not None and not _newer(response.get("version"),
                                           parse_time(response.get("changedDate")), existing):
        return "stale"
    return _mirror(session, tenant_id=tenant_id, response=response, existing=existing,
                   data=data, form_response=form_response)


def _finish(session: Session, row: EvaluationFetch, status: str, outcome: str) -> str:
    row.status, row.outcome, row.updated_at = status, outcome, utcnow()
    return outcome


def _back_to_pending(session: Session, fetch_id: int, *, delay: float, attempt_used: bool,
                     error: str | None = None) -> None:
    values: dict[str, Any] = {"status": "pending", "updated_at": utcnow(),
                              "next_attempt_at": utcnow() + timedelta(seconds=delay)}
    if not attempt_used:
        values["attempts"] = EvaluationFetch.attempts - 1
    if error is not None:
        values["last_error"] = error
    session.execute(update(EvaluationFetch).where(EvaluationFetch.id == fetch_id).values(**values))


def _failed_attempt(session: Session, tenant_id: str, fetch_id: int, exc: Exception) -> str:
    row = cast(EvaluationFetch, session.get(EvaluationFetch, fetch_id))
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.last_error = error
        audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="evaluation.mirror_failed",
                     subject_type="host_evaluation", subject_id=row.host_evaluation_id,
                     details={"error": error, "attempts": row.attempts})
        return _finish(session, row, "failed", "failed")
    delay = RETRY_DELAYS[min(row.attempts - 1, len(RETRY_DELAYS) - 1)]
    _back_to_pending(session, fetch_id, delay=delay, attempt_used=True, error=error)
    get_dispatcher().enqueue_in(delay, mirror_due, tenant_id)
    return "retry"


def _audit_skip(session: Session, tenant_id: str, data: dict[str, Any], skip: Skip) -> None:
    audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="evaluation.mirror_skipped",
                 subject_type="host_evaluation", subject_id=str(data.get("evaluation_id") or "?"),
                 details={"reason": skip.reason, "issues": skip.issues,
                          "conversation_id": data.get("conversation_id"),
                          "form_id": data.get("form_id")})


def find(session: Session, tenant_id: str, host_evaluation_id: str) -> Evaluation | None:
    return session.scalars(select(Evaluation).where(
        Evaluation.tenant_id == tenant_id,
        Evaluation.host_evaluation_id == host_evaluation_id)).first()


def lifecycle_status(host_status: str | None, *, released: bool, agent_has_read: bool) -> str | None:
    """Our lifecycle state for a Genesys evaluation status; None for a status we do not know."""
    status = (host_status or "").upper()
    if status in ("FINISHED", "INREVIEW"):
        if not released:
            return "submitted"
        return "acknowledged" if agent_has_read else "released"
    return {"PENDING": "assigned", "INPROGRESS": "in_progress", "RETRACTED": "retracted"}.get(status)


# ---------------------------------------------------------------- steps


def _imported_forms(session: Session, tenant_id: str) -> set[str]:
    """Genesys form ids already imported and published (their GET is never repeated)."""
    return set(session.scalars(select(QualityForm.genesys_form_id).where(
        QualityForm.tenant_id == tenant_id, QualityForm.genesys_form_id.is_not(None),
        QualityForm.published_version.is_not(None))))


def _fetch(tenant: Tenant, data: dict[str, Any], imported: set[str]) -> tuple[dict, dict | None]:
    """The host GETs, with no transaction open: the evaluation, and its published form unless
    that is imported already. RateLimitTimeout when the tenant's budget would make us wait."""
    if tenant.host_kind != "genesys":
        raise Skip(f"the tenant's host is {tenant.host_kind!r}, not Genesys")
    client = genesys_for(tenant).quality
    with bucket_wait_limit(HOST_WAIT_LIMIT):
        try:
            response = client.evaluation(data["conversation_id"], data["evaluation_id"])
        except NotFound as exc:
            raise Skip("the host has no such evaluation") from exc
        form_id = (response.get("evaluationForm") or {}).get("id") or data.get("form_id")
        if not form_id:
            raise Skip("the evaluation names no form")
        if form_id in imported:
            return response, None
        try:
            return response, client.published_form(form_id)
        except NotFound as exc:
            raise Skip("the form cannot be imported", [
                {"field": "genesysFormId", "message": "not found on the host"}]) from exc


def _newer(version: Any, changed_at: datetime | None, existing: Evaluation) -> bool:
    """Whether host state (version, then changedDate) is later than what ``existing`` mirrors.

    A higher version is newer, a lower one older; at the same version a later changedDate
    still counts (a change the host may not version, e.g. the agent reading it).
    """
    same_version = False
    if isinstance(version, int) and existing.host_version is not None:
        if version != existing.host_version:
            return version > existing.host_version
        same_version = True
    stored = existing.host_changed_at
    if changed_at is not None and stored is not None:
        return changed_at > _aware(stored)
    return not same_version  # nothing to compare: fetch and compare content instead


def _form_for(session: Session, tenant_id: str, genesys_form_id: str | None,
              form_response: dict | None) -> tuple[QualityFormVersion, Form]:
    if not genesys_form_id:
        raise Skip("the evaluation names no form")
    row = session.scalars(select(QualityForm).where(
        QualityForm.tenant_id == tenant_id, QualityForm.genesys_form_id == genesys_form_id)).first()
    if row is None or row.published_version is None:
        if form_response is None:  # imported when we looked, gone since: fetch it next time
            raise domain_errors.HostFailed("the imported form changed while the host was asked")
        try:
            row, _created = quality_forms.import_genesys(
                session, tenant_id=tenant_id, genesys_form_id=genesys_form_id, actor=ACTOR,
                response=form_response)
        except domain_errors.DomainError as problem:
            if problem.status != 422:
                raise
            raise Skip("the form cannot be imported", problem.errors) from problem
    return quality_forms.form_version(session, tenant_id, row.id, row.published_version)


def _answers(response: dict) -> Answers:
    form_response = response.get("evaluationForm")
    if not (form_response or {}).get("questionGroups"):
        form_response = None
    try:
        answers = answers_from_genesys(response.get("answers") or {}, form_response)
    except ValueError as exc:
        raise Skip(str(exc)) from exc
    return answers


def _stored_answers(answers: Answers) -> dict:
    stored = {}
    for qid, answer in answers.questions.items():
        entry: dict[str, Any] = {"option_id": answer.option_id, "na": answer.na, "text": answer.text,
                 "source": "host"}
        if answer.option_ids is not None:
            entry["option_ids"] = sorted(answer.option_ids)
        stored[qid] = entry
    return stored


def _mirror(session: Session, *, tenant_id: str, response: dict, existing: Evaluation | None,
            data: dict, form_response: dict | None) -> str:
    version, form = _form_for(session, tenant_id, (response.get("evaluationForm") or {}).get("id")
                              or data.get("form_id"), form_response)
    answers = _answers(response)
    try:
        result = score(form, answers)
    except InvalidAnswers as exc:
        raise Skip("the answers do not fit the imported form",
                   [{"field": i.path, "message": i.message} for i in exc.issues]) from exc
    host_answers = response.get("answers") or {}
    mirrored = {
        "form_id": version.form_id, "form_version": version.version,
        "answers": _stored_answers(answers), "na_groups": sorted(answers.na_groups),
        "scoring": {**to_scoring_set(result, response.get("evaluationForm")),
                    "unanswered": list(result.unanswered)},
        "total_score": result.total_score, "host_total_score": host_answers.get("totalScore"),
        "host_status": response.get("status"),
        "agent_id": (response.get("agent") or {}).get("id") or data.get("agent_id"),
        "evaluator_id": (response.get("evaluator") or {}).get("id") or data.get("evaluator_id") or "",
    }
    status = lifecycle_status(response.get("status"), released=_released(response),
                              agent_has_read=bool(response.get("agentHasRead")))
    if existing is None:
        return _create(session, tenant_id=tenant_id, response=response, mirrored=mirrored,
                       status=status or "assigned")
    return _update(session, existing, response=response, mirrored=mirrored,
                   status=status or existing.status)


def _create(session: Session, *, tenant_id: str, response: dict, mirrored: dict,
            status: str) -> str:
    now = utcnow()
    assigned_at = parse_time(response.get("assignedDate")) or parse_time(response.get("createdDate")) or now
    evaluation = Evaluation(
        id=quality_forms.new_id(), tenant_id=tenant_id, status=status, active_key=None,
        conversation_id=(response.get("conversation") or {}).get("id") or "",
        assigned_at=assigned_at, assigned_day=workload.local_day(session, tenant_id, assigned_at),
        created_by=ACTOR, host_evaluation_id=response.get("id"), **_host_keys(response),
        **mirrored)
    if not evaluation.conversation_id or not evaluation.agent_id:
        raise Skip("the evaluation names no conversation or agent")
    _stamp(evaluation, status, response=response, now=now)
    session.add(evaluation)
    session.flush()
    if status in evaluations.AGENT_VISIBLE:
        evaluations.write_qa_score(session, evaluation, evaluation.total_score)
    audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="evaluation.mirrored",
                 subject_type="evaluation", subject_id=evaluation.id,
                 details={**_summary(evaluation), "conversation_id": evaluation.conversation_id,
                          "agent_id": evaluation.agent_id, "form_id": evaluation.form_id,
                          "form_version": evaluation.form_version})
    return "created"


def _update(session: Session, evaluation: Evaluation, *, response: dict, mirrored: dict,
            status: str) -> str:
    changes = {key: {"before": getattr(evaluation, key), "after": value}
               for key, value in {**mirrored, "status": status}.items()
               if getattr(evaluation, key) != value}
    for key, value in _host_keys(response).items():
        setattr(evaluation, key, value)
    if not changes:
        session.flush()
        return "unchanged"
    was_visible = evaluation.status in evaluations.AGENT_VISIBLE
    for key, change in changes.items():
        setattr(evaluation, key, change["after"])
    now = utcnow()
    _stamp(evaluation, status, response=response, now=now)
    evaluation.updated_at = now
    session.flush()
    if status in evaluations.AGENT_VISIBLE:
        evaluations.write_qa_score(session, evaluation, evaluation.total_score)
    elif was_visible:
        evaluations.write_qa_score(session, evaluation, None)
    audit.record(session, tenant_id=evaluation.tenant_id, actor=ACTOR,
                 action="evaluation.mirror_updated", subject_type="evaluation",
                 subject_id=evaluation.id,
                 details={**_summary(evaluation), "changed": sorted(changes),
                          "from": changes.get("status", {}).get("before", evaluation.status)})
    return "updated"


# ---------------------------------------------------------------- helpers


def _host_keys(response: dict) -> dict:
    version = response.get("version")
    return {"host_version": version if isinstance(version, int) else None,
            "host_changed_at": parse_time(response.get("changedDate"))}


def _summary(evaluation: Evaluation) -> dict:
    details: dict[str, Any] = {"host_evaluation_id": evaluation.host_evaluation_id,
               "host_status": evaluation.host_status, "host_version": evaluation.host_version,
               "status": evaluation.status, "total_score": evaluation.total_score,
               "host_total_score": evaluation.host_total_score}
    ours, theirs = evaluation.total_score, evaluation.host_total_score
    if theirs is not None and (ours is None or abs(ours - theirs) > MISMATCH_TOLERANCE):
        details["score_mismatch"] = {"ours": ours, "host": theirs}
    return details


def _stamp(evaluation: Evaluation, status: str, *, response: dict, now: datetime) -> None:
    if status != "assigned" and evaluation.started_at is None:
        evaluation.started_at = now
    if status in ("submitted", "released", "acknowledged") and evaluation.submitted_at is None:
        evaluation.submitted_at = parse_time(response.get("submittedDate")) or now
    if status in ("released", "acknowledged") and evaluation.released_at is None:
        evaluation.released_at = parse_time(response.get("releaseDate")) or now
    stamp = _STAMPS.get(status)
    if stamp in ("acknowledged_at", "retracted_at") and getattr(evaluation, stamp) is None:
        setattr(evaluation, stamp, now)


def _released(response: dict) -> bool:
    released = parse_time(response.get("releaseDate"))
    return (released is not None and not response.get("neverRelease")
            and released <= utcnow())




def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
