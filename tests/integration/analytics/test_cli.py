"""The analytics commands: a minted token works on the API; demo data is stored and repeatable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from extension.analytics.cli import analytics_cli, demo_data_command
from extension.analytics.query import Slice, kpi_rows
from extension.platform.cli import tokens_cli


def _runner(app):
    for command in (tokens_cli, analytics_cli, demo_data_command):
        app.cli.add_command(command)
    return app.test_cli_runner()


def test_a_token_from_the_cli_opens_the_api(app, client, loaded):
    result = _runner(app).invoke(args=["tokens", "issue", "--tenant", "acme", "--person", "mgr",
                                       "--role", "manager"])
    assert result.exit_code == 0, result.output
    response = client.get("/api/v1/inquiries", headers={"Authorization": f"Bearer {result.output.strip()}"})
    assert response.status_code == 200


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "nope", "--person", "mgr"], "no tenant"),
    (["--tenant", "acme", "--person", "nobody"], "no active person"),
    (["--tenant", "acme", "--person", "a01", "--role", "admin"], "is a agent, not a admin"),
])
def test_tokens_are_issued_only_for_stored_people_with_their_stored_role(app, db, loaded, args, message):
    from sqlalchemy import select

    from extension.platform.models.audit import AuditEntry

    result = _runner(app).invoke(args=["tokens", "issue", *args])
    assert result.exit_code != 0 and message in result.output
    ok = _runner(app).invoke(args=["tokens", "issue", "--tenant", "acme", "--person", "mgr"])
    assert ok.exit_code == 0, ok.output
    with db.session() as session:
        issued = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.issued")).all()
    assert [(e.subject_id, e.details["role"]) for e in issued] == [("mgr", "manager")]
    assert ok.output.strip() not in str([e.details for e in issued])  # the token is never stored


def test_demo_data_is_stored_once_and_rebuilds_to_the_same_rollups(app, client, db, tenant):
    runner = _runner(app)
    args = ["demo-data", "--tenant", "acme", "--agents", "14", "--days", "10", "--seed", "3"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert runner.invoke(args=args).exit_code == 0  # a re-run changes nothing
    today = date.today()
    where = Slice(tenant_id="acme", start=today - timedelta(days=40), end=today + timedelta(days=1))
    with db.session() as session:
        before = kpi_rows(session, where, dims=("team_id",), period="day")
    assert runner.invoke(args=["analytics", "rebuild-rollups", "acme"]).exit_code == 0
    with db.session() as session:
        after = kpi_rows(session, where, dims=("team_id",), period="day")
    assert {r["team_id"] for r in before} == {"t000", "t001"}
    assert [r["volume"] for r in after] == [r["volume"] for r in before]
