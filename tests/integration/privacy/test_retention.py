"""Retention per tenant and data class: in batches, with a report, rollups unchanged, the audit
chain intact, a second run a no-op, a dry run changing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.interactions import Interaction
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.tenants import Tenant
from extension.platform.worker import job_name, periodic_jobs
from extension.privacy import retention
from extension.text.models import InteractionTextAnalytics
from tests.integration.privacy.conftest import NOW, rollup_totals


def _count(db, model, *where) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _changed(report, table: str) -> int:
    return sum(line["changed"] for line in report["rules"] if line["table"] == table)


def test_a_tenants_period_per_class_applies_in_batches_and_reports(app, db, world, monkeypatch):
    runner = app.test_cli_runner()
    set_it = runner.invoke(args=["privacy", "set-retention", "--tenant", world, "--class", "transcript",
                                 "--days", "1"])
    assert set_it.exit_code == 0, set_it.output
    with db.session() as session:
        assert session.get(Tenant, world).retention == {"transcript": 1}
    dry = runner.invoke(args=["privacy", "retention", "--tenant", world, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert all(line["changed"] == 0 for line in json.loads(dry.output)[0]["rules"])  # not yet due

    before = rollup_totals(db, world)
    monkeypatch.setattr(retention, "BATCH", 3)  # several batches for four rows
    report = retention.run_tenant(db.session, world, now=NOW + timedelta(days=2))
    assert _changed(report, "interactions") == 4 and _changed(report, "interaction_text_analytics") == 4
    assert _changed(report, "inbox") == 0 and _changed(report, "interaction_facts") == 0
    assert _count(db, Interaction, Interaction.transcript.isnot(None)) == 0
    with db.session() as session:
        results = session.scalars(select(InteractionTextAnalytics.result)).all()
    assert results and all(r == {} for r in results)
    assert _count(db, InteractionFact, InteractionFact.customer_key.isnot(None)) == 4
    again = retention.run_tenant(db.session, world, now=NOW + timedelta(days=2))
    assert again["changed"] == 0

    inbox = _count(db, InboxEvent)
    report = retention.run_tenant(db.session, world, now=NOW + timedelta(days=401))
    assert _changed(report, "inbox") == inbox and _count(db, InboxEvent) == 0
    assert _changed(report, "interaction_facts") == 4
    assert _count(db, InteractionFact, InteractionFact.customer_key.isnot(None)) == 0
    assert _count(db, InteractionFact) == 4  # the facts stay, unlinked from their customers
    evaluations = next(x for x in report["rules"] if x["table"] == "evaluations")
    assert evaluations["action"] == "report" and evaluations["changed"] == 0
    assert report["rows_per_second"] is not None
    assert rollup_totals(db, world) == before
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_unprocessed_inbox_rows_are_kept_whatever_their_age(app, db, world):
    with db.session() as session:
        session.query(InboxEvent).filter(InboxEvent.tenant_id == world).update({"status": "received"})
    retention.run_tenant(db.session, world, now=NOW + timedelta(days=401))
    assert _count(db, InboxEvent) > 0


def test_retention_runs_as_a_periodic_job(app):
    assert job_name(retention.apply_all) in {job_name(f) for f, _ in periodic_jobs(app)}


def test_people_the_host_deleted_are_erased_after_the_tenants_period(app, db, world):
    from extension.platform.models.people import Person
    from tests.integration.privacy.conftest import AGENT, EMAIL, OTHER
    from tests.integration.privacy.test_subjects import holding

    default = retention.run_tenant(db.session, world, now=NOW + timedelta(days=3650))
    assert not [x for x in default["rules"] if x["class"] == "identity"]  # no period: kept
    with db.session() as session:  # what people sync does when the host reports the user deleted
        person = session.get(Person, (world, AGENT))
        person.active, person.synced_at = False, NOW
    runner = app.test_cli_runner()
    assert runner.invoke(args=["privacy", "set-retention", "--tenant", world, "--class", "identity",
                               "--days", "30"]).exit_code == 0
    early = retention.run_tenant(db.session, world, now=NOW + timedelta(days=29))
    assert next(x for x in early["rules"] if x["class"] == "identity")["changed"] == 0
    report = retention.run_tenant(db.session, world, now=NOW + timedelta(days=31))
    assert next(x for x in report["rules"] if x["class"] == "identity")["changed"] == 1
    assert holding(db, world, AGENT) == [] and holding(db, world, EMAIL) == []
    assert holding(db, world, OTHER)  # still active: kept
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_admins_read_and_set_the_tenants_periods_through_the_api(app, client, db, world):
    from tests.factories import add_people, add_tenant, bearer
    from tests.integration.privacy.conftest import ADMIN

    admin = bearer(app, ADMIN, "admin")
    got = client.get("/api/v1/privacy/retention", headers=admin)
    assert got.status_code == 200
    assert {c["class"]: c["days"] for c in got.get_json()["classes"]}["raw_payload"] == 30
    put = client.put("/api/v1/privacy/retention", json={"periods": {"raw_payload": 7, "audit": None}},
                     headers=admin)
    assert put.status_code == 200, put.get_json()
    days = {c["class"]: c for c in put.get_json()["classes"]}
    assert days["raw_payload"]["days"] == 7 and days["raw_payload"]["overridden"]
    with db.session() as session:
        assert session.get(Tenant, world).retention == {"raw_payload": 7, "audit": None}
    bad = client.put("/api/v1/privacy/retention", json={"periods": {"nonsense": 7}}, headers=admin)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert client.get("/api/v1/privacy/retention",
                      headers=bearer(app, "sup-1", "supervisor")).status_code == 403
    add_tenant(db, "globex")
    add_people(db, "globex", [(ADMIN, "admin", None, None)])
    theirs = client.get("/api/v1/privacy/retention", headers=bearer(app, ADMIN, "admin", tenant_id="globex"))
    assert {c["class"]: c["days"] for c in theirs.get_json()["classes"]}["raw_payload"] == 30
