"""flask commands for analytics: ``analytics`` and ``demo-data`` (registered by extension.analytics)."""

from __future__ import annotations

import itertools
from datetime import UTC

import click
from flask.cli import AppGroup, with_appcontext

from extension.platform.db import get_db

analytics_cli = AppGroup("analytics", help="Analytics storage maintenance.")


@analytics_cli.command("rebuild-rollups")
@click.argument("tenant_id")
def rebuild_rollups(tenant_id):
    """Recompute a tenant's daily rollups from its facts (after a time-zone change, or to repair)."""
    from extension.analytics import facts as analytics

    with get_db().session() as session:
        count = analytics.rebuild_rollups(session, tenant_id=tenant_id)
    click.echo(f"rebuilt rollups of {tenant_id} from {count} facts")


@analytics_cli.command("fit-model")
@click.argument("tenant_id")
@click.option("--apply/--no-apply", default=True, show_default=True,
              help="Write the new predictions to the tenant's facts (rollups follow)")
def fit_model(tenant_id, apply):
    """Fit the tenant's outcome model: predicted satisfaction and resolution.

    \b
    Two L2-regularised logistic regressions (scikit-learn), one per target:
      satisfaction = survey CSAT >= 4 on the 1-5 scale, on interactions with a survey;
      resolution   = first-contact resolution (fcr) true, on interactions where it is known.
    Features: customer and agent sentiment, log(1 + seconds) of talk, hold, ACW and handle
    time, transferred, standardised (missing values imputed with the mean); one-hot channel
    and inquiry (categories seen at least 5 times). Email is not modelled: its AES falls back
    to AHT and says so. Scored on a stable 20 % hold-out (by conversation id), then refitted on
    all data; stored as plain JSON parameters in outcome_models (no pickle). With --apply the
    predictions are written to every fact through the fact upsert, so rollups stay exact.
    """
    from extension.analytics import outcome as analytics_model

    with get_db().session() as session:
        try:
            reports = analytics_model.fit(session, tenant_id=tenant_id, actor="system:cli")
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    for target, report in reports.items():
        if report is None:
            click.echo(f"{target}: not fitted (too few labelled interactions)")
        else:
            click.echo(f"{target}: n={report['n']} brier={_num(report['brier'])} "
                       f"base-rate brier={_num(report['brier_base'])}")
    if apply and any(reports.values()):
        with get_db().session() as session:
            counts = analytics_model.apply(session, tenant_id=tenant_id, actor="system:cli")
        click.echo(f"predictions written: {counts['updated']} facts changed, {counts['unchanged']} unchanged")


@analytics_cli.command("apply-model")
@click.argument("tenant_id")
def apply_model(tenant_id):
    """Write the stored outcome model's predictions to every fact of the tenant."""
    from extension.analytics import outcome as analytics_model

    with get_db().session() as session:
        try:
            counts = analytics_model.apply(session, tenant_id=tenant_id, actor="system:cli")
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"predictions written: {counts['updated']} facts changed, {counts['unchanged']} unchanged")


def _num(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@analytics_cli.command("model-report")
@click.argument("tenant_id")
def model_report(tenant_id):
    """Print the stored outcome model: n, held-out Brier score against the base-rate predictor,
    the calibration table (deciles of predicted probability: mean predicted vs observed share)
    and the coefficients (per standardised unit for numbers; per category for one-hots)."""
    from extension.analytics import outcome as analytics_model

    with get_db().session() as session:
        try:
            report = analytics_model.report(session, tenant_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    for target, model in report.items():
        threshold = f" (satisfied = CSAT >= {model['threshold']:g})" if model["threshold"] else ""
        click.echo(f"== {target}{threshold}, fitted {model['fitted_at']:%Y-%m-%d %H:%M} UTC")
        click.echo(f"n={model['n']} (train {model['n_train']}, held out {model['n_test']}), "
                   f"base rate {_num(model['base_rate'], 3)}")
        click.echo(f"Brier (held out): model {_num(model['brier'])}, base rate {_num(model['brier_base'])}")
        click.echo("calibration: decile      n  predicted  observed")
        for row in model["calibration"]:
            click.echo(f"             {row['decile']:>6} {row['n']:>6}  {row['predicted']:9.3f}  "
                       f"{row['observed']:8.3f}")
        click.echo(f"coefficients: intercept {model['intercept']:+.3f}")
        for name, value in sorted(model["coefficients"].items(), key=lambda kv: -abs(kv[1])):
            click.echo(f"  {name:<28} {value:+.3f}")


@analytics_cli.command("backtest")
@click.argument("tenant_id")
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(1, 12), help="Forecast horizon")
@click.option("--min-train", default=8, show_default=True, type=click.IntRange(4, 104),
              help="Weeks of history before the first forecast origin")
def backtest(tenant_id, weeks, min_train):
    """MAPE of the weekly forecasts (AES, AHT, CSAT, QA per agent and team) against the naive
    last-value forecast: rolling origins over complete weeks, pooled over every (series,
    origin, 1..WEEKS step). Exits 1 when the forecasts do not beat the baseline everywhere."""
    from extension.analytics import forecast as analytics_forecast
    from extension.platform.models.tenants import Tenant

    with get_db().session() as session:
        if session.get(Tenant, tenant_id) is None:
            raise click.ClickException(f"no tenant {tenant_id!r}")
        rows = analytics_forecast.backtest_tenant(session, tenant_id=tenant_id, horizon_weeks=weeks,
                                                  min_train=min_train)
    if not rows or not any(r["forecasts"] for r in rows):
        raise click.ClickException("not enough weekly history to backtest")
    click.echo(f"horizon {weeks} weeks, first origin after {min_train} weeks")
    click.echo("level  metric  series  forecasts  MAPE model  MAPE naive  beats naive")
    for r in rows:
        click.echo(f"{r['level']:<6} {r['metric']:<7} {r['series']:>6} {r['forecasts']:>10} "
                   f"{_num(r['model_mape'], 2):>11}% {_num(r['naive_mape'], 2):>10}%  "
                   f"{'yes' if r['beats_naive'] else 'NO'}")
    if not all(r["beats_naive"] for r in rows if r["forecasts"]):
        raise SystemExit(1)


@analytics_cli.command("raise-alerts")
@click.argument("tenant_id")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last local day judged (default: today in the tenant's zone)")
def raise_alerts(tenant_id, as_of):
    """Evaluate the tenant's alert rules and AES control charts; deliver new raises (panel,
    email to the supervisor, signed webhook). Raises within the cool-down are not delivered."""
    from extension.analytics import alert_delivery

    with get_db().session() as session:
        try:
            result = alert_delivery.evaluate(session, tenant_id=tenant_id,
                                             as_of=as_of.date() if as_of else None)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    queued = alert_delivery.dispatch(tenant_id)
    click.echo(f"{len(result['raised'])} raised, {len(result['refreshed'])} within cool-down, "
               f"{queued} deliveries queued")


@click.command("demo-data")
@with_appcontext
@click.option("--tenant", "tenant_id", default="demo", show_default=True, help="An existing tenant")
@click.option("--agents", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(100, 100_000))
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day after the last generated day (UTC; default today), for repeatable data")
def demo_data_command(tenant_id, agents, days, seed, batch, end):
    """Generate people and interaction facts (with rollups) for a demo tenant; re-runs are no-ops."""
    from extension.analytics import demo as analytics_demo

    with get_db().session() as session:
        _upsert_people(session, tenant_id, analytics_demo.people(agents))
    end = end.replace(tzinfo=UTC) if end else None
    records = analytics_demo.interactions(agents=agents, days=days, seed=seed, end=end)
    total = 0
    while chunk := list(itertools.islice(records, batch)):
        total += _store(tenant_id, chunk)
        click.echo(f"\r{total} interactions", nl=False)
    click.echo(f"\n{total} interactions stored for {agents} agents over {days} days")


def _upsert_people(session, tenant_id: str, rows: list[dict]) -> None:
    from extension.platform.models.people import Person
    from extension.platform.models.tenants import Tenant

    if session.get(Tenant, tenant_id) is None:
        raise click.ClickException(f"no tenant {tenant_id!r}; create it with `flask tenants create`")
    for row in rows:
        session.merge(Person(tenant_id=tenant_id, **row))


def _store(tenant_id: str, chunk: list[dict]) -> int:
    from extension.analytics import facts as analytics

    with get_db().session() as session:
        counts = analytics.upsert_facts(session, tenant_id=tenant_id, records=chunk)
    return counts["inserted"] + counts["updated"] + counts["unchanged"]
