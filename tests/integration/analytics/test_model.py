"""Outcome model through the CLI on a real database: fit, store as JSON, write predictions to facts
with exact rollups, report, and leave other tenants alone."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from extension.analytics import demo as analytics_demo
from extension.analytics import facts as analytics
from extension.analytics.cli import analytics_cli
from extension.analytics.domain import outcome_model
from extension.analytics.domain.kpis import aes_parts
from extension.analytics.models.delivery import OutcomeModel
from extension.analytics.models.facts import InteractionFact, KpiRollupDaily
from extension.analytics.query import Slice, total
from extension.platform.models.audit import AuditEntry

END = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_records():
    return list(analytics_demo.interactions(agents=30, days=35, seed=5, end=END))


@pytest.fixture
def demo(db, tenant, demo_records):
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id="acme", records=demo_records)
    return "acme"


def _runner(app):
    app.cli.add_command(analytics_cli)
    return app.test_cli_runner()


def _facts(db, tenant_id: str) -> list[dict]:
    with db.session() as session:
        rows = session.execute(select(InteractionFact.__table__).where(
            InteractionFact.tenant_id == tenant_id).order_by(InteractionFact.conversation_id)).all()
    return [dict(r._mapping) for r in rows]


def test_fit_model_stores_json_parameters_that_beat_the_base_rate(app, db, demo):
    result = _runner(app).invoke(args=["analytics", "fit-model", "acme"])
    assert result.exit_code == 0, result.output
    assert "satisfaction: n=" in result.output and "predictions written" in result.output
    with db.session() as session:
        models = {m.target: m for m in session.scalars(select(OutcomeModel))}
        audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "analytics.model_fitted"))
    assert set(models) == {"satisfaction", "resolution"}
    for model in models.values():
        assert model.brier < model.brier_base
        assert model.params["n"] == model.n > 100
        assert {"coefficients", "means", "scales", "vocabularies", "threshold", "fitted_at"} <= set(
            model.params)
    assert models["satisfaction"].params["threshold"] == 4.0
    assert audited == 1


def test_predictions_are_written_to_facts_and_the_rollups_stay_exact(app, db, demo):
    before = _facts(db, "acme")
    assert _runner(app).invoke(args=["analytics", "fit-model", "acme"]).exit_code == 0
    after = _facts(db, "acme")
    with db.session() as session:
        params = {m.target: m.params for m in session.scalars(select(OutcomeModel))}
        sums = total(session, Slice(tenant_id="acme", start=date(2000, 1, 1), end=date(2100, 1, 1)))
    expected_sat = outcome_model.predict(params["satisfaction"], after)
    assert [f["p_satisfaction"] for f in after] == [None if p is None else round(p, 4) for p in expected_sat]
    emails = [f for f in after if f["channel"] == "email"]
    assert emails and all(f["p_satisfaction"] is None and f["p_resolution"] is None for f in emails)
    changed = sum(a["p_satisfaction"] != b["p_satisfaction"] for a, b in zip(after, before, strict=True))
    assert changed > len(after) / 2  # the generator's own values were replaced
    parts = aes_parts(after)
    assert sums["scored"] == parts["scored"] and sums["scored_handle_ms"] == parts["scored_handle_ms"]
    assert math.isclose(sums["expected"], parts["expected"], rel_tol=1e-9)
    assert sums["volume"] == len(after)


def test_applying_the_same_model_again_changes_nothing(app, db, demo):
    runner = _runner(app)
    assert runner.invoke(args=["analytics", "fit-model", "acme"]).exit_code == 0
    with db.session() as session:
        cells = session.execute(select(KpiRollupDaily.__table__)).all()
    again = runner.invoke(args=["analytics", "apply-model", "acme"])
    assert again.exit_code == 0 and "0 facts changed" in again.output
    with db.session() as session:
        assert session.execute(select(KpiRollupDaily.__table__)).all() == cells


def test_model_report_prints_brier_calibration_and_coefficients(app, demo):
    runner = _runner(app)
    assert runner.invoke(args=["analytics", "fit-model", "acme", "--no-apply"]).exit_code == 0
    result = runner.invoke(args=["analytics", "model-report", "acme"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "== resolution" in out and "== satisfaction (satisfied = CSAT >= 4)" in out
    assert out.count("Brier (held out): model") == 2
    assert "customer_sentiment" in out and "channel=voice" in out and "log1p_t_handle_s" in out
    assert out.count("calibration: decile") == 2


def test_unknown_tenant_and_missing_model_fail_without_changes(app, db, demo):
    runner = _runner(app)
    assert runner.invoke(args=["analytics", "fit-model", "nobody"]).exit_code != 0
    report = runner.invoke(args=["analytics", "model-report", "acme"])
    assert report.exit_code != 0 and "no fitted outcome model" in report.output
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutcomeModel)) == 0


def test_fitting_one_tenant_leaves_another_tenants_facts_alone(app, db, demo, other_tenant, demo_records):
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=other_tenant, records=demo_records[:300])
    before = _facts(db, other_tenant)
    assert _runner(app).invoke(args=["analytics", "fit-model", "acme"]).exit_code == 0
    assert _facts(db, other_tenant) == before
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutcomeModel).where(
            OutcomeModel.tenant_id == other_tenant)) == 0


def test_live_conversations_get_predictions_once_both_models_exist(app, client, db, demo, tenant, run_jobs):
    """The pipeline's fact feed applies the fitted models; email gets none (AES falls back)."""
    from extension.platform.queue import get_dispatcher
    from handlers import jobs
    from tests.helpers import dumps, signed_headers, user_end

    def deliver(messages):
        body = dumps({"events": messages})
        response = client.post("/webhooks/acme", data=body, headers=signed_headers(tenant[1], body))
        assert response.status_code == 202, response.get_data(as_text=True)
        with app.app_context():
            get_dispatcher().enqueue(jobs.drain_inbox, "acme")
        run_jobs()

    def fact(cid):
        with db.session() as session:
            return session.get(InteractionFact, ("acme", cid))

    deliver([user_end("live-1", "agent-1")])
    assert fact("live-1") is not None and fact("live-1").p_satisfaction is None  # no model yet
    assert _runner(app).invoke(args=["analytics", "fit-model", "acme", "--no-apply"]).exit_code == 0
    deliver([user_end("live-2", "agent-1"), user_end("live-3", "agent-1", media="email")])
    with db.session() as session:
        models = {m.target: m.params for m in session.scalars(select(OutcomeModel))}
    live = fact("live-2")
    record = {c.name: getattr(live, c.name) for c in InteractionFact.__table__.columns}
    from extension.analytics.outcome import DIGITS

    for column, target in (("p_satisfaction", "satisfaction"), ("p_resolution", "resolution")):
        want = round(outcome_model.predict(models[target], [record])[0], DIGITS)
        assert getattr(live, column) == pytest.approx(want, abs=1e-12), column
    assert fact("live-3").channel == "email" and fact("live-3").p_satisfaction is None
