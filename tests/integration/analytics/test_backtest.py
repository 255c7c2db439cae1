"""`flask analytics backtest` on generated demo data: the weekly forecasts beat the naive
last-value forecast for AES, AHT, CSAT and QA, per agent and per team."""

from __future__ import annotations

import pytest

from extension.analytics import forecast as analytics_forecast
from extension.analytics.cli import analytics_cli, demo_data_command


def _runner(app):
    for command in (analytics_cli, demo_data_command):
        app.cli.add_command(command)
    return app.test_cli_runner()


@pytest.fixture
def demo(app, tenant):
    result = _runner(app).invoke(args=["demo-data", "--tenant", "acme", "--agents", "24", "--days", "120",
                                       "--seed", "7", "--end", "2025-06-02"])
    assert result.exit_code == 0, result.output
    return "acme"


def test_backtest_prints_mape_against_the_naive_baseline_and_beats_it(app, db, demo):
    result = _runner(app).invoke(args=["analytics", "backtest", "acme", "--weeks", "4"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines() if line.startswith(("agent ", "team "))]
    assert {(cols[0], cols[1]) for cols in lines} == {
        (level, metric) for level in ("agent", "team") for metric in ("aes", "aht_s", "csat", "qa")}
    assert all(cols[-1] == "yes" for cols in lines)
    with db.session() as session:
        rows = analytics_forecast.backtest_tenant(session, tenant_id="acme", horizon_weeks=4)
    for row in rows:
        assert row["forecasts"] > 0
        assert row["model_mape"] < row["naive_mape"], row
    agents = next(r for r in rows if r["level"] == "agent" and r["metric"] == "aes")
    assert agents["series"] == 24
    assert agents["model_mape"] < 0.95 * agents["naive_mape"]  # clearly, not by rounding


def test_backtest_refuses_unknown_tenants_and_tenants_without_history(app, tenant, other_tenant):
    runner = _runner(app)
    unknown = runner.invoke(args=["analytics", "backtest", "nobody"])
    assert unknown.exit_code != 0 and "no tenant" in unknown.output
    empty = runner.invoke(args=["analytics", "backtest", other_tenant])
    assert empty.exit_code != 0 and "not enough weekly history" in empty.output


def test_backtest_of_one_tenant_ignores_another_tenants_facts(app, db, demo, other_tenant):
    with db.session() as session:
        assert analytics_forecast.backtest_tenant(session, tenant_id=other_tenant) == []
