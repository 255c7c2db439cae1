"""Fit a tenant's outcome model on its facts, store it as JSON, and write predictions to facts.

Predictions go through :func:`extension.analytics.facts.upsert_facts`, the one fact write
path, so each changed fact moves its rollup cell by the difference (scored, scored_handle_ms,
expected) and the AES stays an exact ratio of sums. Unchanged predictions change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.analytics import facts as analytics
from extension.analytics.domain import outcome_model
from extension.analytics.models.delivery import OutcomeModel
from extension.analytics.models.facts import InteractionFact
from extension.platform import audit
from extension.platform.models._types import utcnow
from extension.platform.tenants import tenant_timezone

ACTOR = "system:analytics-model"
BATCH = 2000
DIGITS = 4  # stored probabilities are rounded so a refit that moves nothing rewrites nothing
_facts = InteractionFact.__table__
RECORD_FIELDS = ("conversation_id", *analytics.FACT_FIELDS)


class NoModel(LookupError):
    """The tenant has no fitted model (or too few labelled interactions to fit one)."""


def _records(session: Session, tenant_id: str, *, batch: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    """The tenant's facts as records, in conversation-id order, ``batch`` at a time."""
    after = ""
    columns = [_facts.c[name] for name in RECORD_FIELDS]
    while True:
        rows = session.execute(select(*columns).where(_facts.c.tenant_id == tenant_id,
                                                      _facts.c.conversation_id > after)
                               .order_by(_facts.c.conversation_id).limit(batch)).all()
        if not rows:
            return
        yield [dict(row._mapping) for row in rows]
        after = rows[-1].conversation_id


def _labelled(session: Session, tenant_id: str) -> list[dict[str, Any]]:
    query = select(*[_facts.c[n] for n in RECORD_FIELDS]).where(
        _facts.c.tenant_id == tenant_id, (_facts.c.csat.is_not(None)) | (_facts.c.fcr.is_not(None)))
    return [dict(row._mapping) for row in session.execute(query)]


def fit(session: Session, *, tenant_id: str, now: datetime | None = None,
        actor: str = ACTOR) -> dict[str, dict | None]:
    """Fit both targets on the tenant's labelled facts and store them (replacing older fits)."""
    tenant_timezone(session, tenant_id)  # LookupError for an unknown tenant
    now = now or utcnow()
    reports = outcome_model.fit(_labelled(session, tenant_id), fitted_at=now)
    for target, report in reports.items():
        if report is None:
            continue
        stored = session.get(OutcomeModel, (tenant_id, target)) or OutcomeModel(tenant_id=tenant_id,
                                                                                target=target)
        stored.fitted_at, stored.n, stored.params = now, report["n"], report["params"]
        stored.brier, stored.brier_base = report["brier"], report["brier_base"]
        stored.report = {k: report[k] for k in ("n_train", "n_test", "base_rate", "calibration")}
        session.add(stored)
    audit.record(session, tenant_id=tenant_id, actor=actor, action="analytics.model_fitted",
                 subject_type="outcome_model", subject_id=tenant_id,
                 details={t: None if r is None else {"n": r["n"], "brier": r["brier"],
                                                      "brier_base": r["brier_base"]}
                          for t, r in reports.items()})
    session.flush()
    return reports


def stored_models(session: Session, tenant_id: str) -> dict[str, OutcomeModel]:
    rows = session.scalars(select(OutcomeModel).where(OutcomeModel.tenant_id == tenant_id))
    return {row.target: row for row in rows}


def predicted_if_fitted(session: Session, tenant_id: str,
                        records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the live pipeline and the history sync store: predictions from the tenant's fitted
    models once both exist (``flask analytics fit-model``); until then the records unchanged."""
    models = stored_models(session, tenant_id)
    if {"satisfaction", "resolution"} <= models.keys():
        return with_predictions(records, models)
    return records


def with_predictions(records: list[dict[str, Any]], models: dict[str, OutcomeModel]) -> list[dict[str, Any]]:
    """Copies of the records with p_satisfaction/p_resolution from the models (None for email,
    or when a target has no model), rounded to ``DIGITS``."""
    out = [dict(r) for r in records]
    for target, column in (("satisfaction", "p_satisfaction"), ("resolution", "p_resolution")):
        model = models.get(target)
        values = (outcome_model.predict(model.params, records) if model is not None
                  else [None] * len(records))
        for record, value in zip(out, values, strict=True):
            record[column] = None if value is None else round(value, DIGITS)
    return out


def apply(session: Session, *, tenant_id: str, actor: str = ACTOR, batch: int = BATCH) -> dict[str, int]:
    """Write the stored models' predictions to every fact of the tenant (rollups follow)."""
    models = stored_models(session, tenant_id)
    if not models:
        raise NoModel(f"tenant {tenant_id!r} has no fitted outcome model; run `flask analytics fit-model`")
    tz = tenant_timezone(session, tenant_id)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    for chunk in _records(session, tenant_id, batch=batch):
        result = analytics.upsert_facts(session, tenant_id=tenant_id, tz=tz,
                                        records=with_predictions(chunk, models))
        for key in counts:
            counts[key] += result[key]
    audit.record(session, tenant_id=tenant_id, actor=actor, action="analytics.predictions_applied",
                 subject_type="outcome_model", subject_id=tenant_id,
                 details={"updated": counts["updated"], "unchanged": counts["unchanged"]})
    return counts


def report(session: Session, tenant_id: str) -> dict[str, Any]:
    """The stored fits: n, held-out Brier against the base rate, calibration, coefficients."""
    tenant_timezone(session, tenant_id)
    models = stored_models(session, tenant_id)
    if not models:
        raise NoModel(f"tenant {tenant_id!r} has no fitted outcome model; run `flask analytics fit-model`")
    return {target: {"fitted_at": m.fitted_at, "n": m.n, "brier": m.brier, "brier_base": m.brier_base,
                     **m.report, "threshold": m.params.get("threshold"),
                     "coefficients": dict(zip(outcome_model.feature_names(m.params),
                                              m.params["coefficients"], strict=True)),
                     "intercept": m.params["intercept"]}
            for target, m in sorted(models.items())}
