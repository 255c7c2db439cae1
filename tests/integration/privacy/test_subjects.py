"""Subject access and erasure through the CLI and the admin API: the archive lists every data
class, erasure leaves nothing identifying in any table or inbox payload, rollup totals are
unchanged, the audit chain still verifies, and erasing again changes nothing."""

from __future__ import annotations

import io
import json
import os
import zipfile

from sqlalchemy import select

from extension.analytics import fcr
from extension.analytics.models.interactions import Interaction
from extension.platform.db import Base
from extension.platform.models.audit import AuditEntry
from extension.platform.models.tenants import Tenant
from extension.privacy.domain import datamap
from tests.factories import add_people, add_tenant, bearer
from tests.integration.privacy.conftest import ADDRESS, ADMIN, AGENT, EMAIL, NAME, OTHER, rollup_totals

# the record of accountability: the audit trail and the erasure records keep host ids by design
RECORDS = ("audit_log", "privacy_erasures")


# mapped tables the world cannot hold the agent in (each with why): a new mapped table must get
# a row in tests/integration/privacy/conftest.py or a line here
NOT_ABOUT_AN_AGENT = {
    "audit_log": "the world is stored directly, not through audited services",
    "privacy_erasures": "written by an erasure, which comes after the export",
    "sta_transcript_fetches": "holds conversation ids only; a customer's, never found by person",
    "peer_snapshots": "built by the worker's periodic job, which the world does not run",
}


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["privacy", *args])


def dump(db, tenant_id: str, *, skip=RECORDS) -> dict[str, str]:
    """Every table's rows of the tenant as one lower-cased JSON text per table."""
    out = {}
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            query = select(table)
            if "tenant_id" in table.c:
                query = query.where(table.c.tenant_id == tenant_id)
            elif table.name == "tenants":
                query = query.where(table.c.id == tenant_id)
            rows = [dict(r._mapping) for r in session.execute(query)]
            text = json.dumps(rows, default=str)
            out[table.name] = (text + json.dumps(rows, default=str, ensure_ascii=False)).lower()
    return out


def holding(db, tenant_id: str, needle: str) -> list[str]:
    return sorted(name for name, text in dump(db, tenant_id).items() if needle.lower() in text)


def _archive(result_output: str) -> dict:
    path = result_output.split("\t", 1)[0].strip()
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        body = json.loads(zf.read("export.json"))
        assert "classes.csv" in names and {f"tables/{t}.csv" for t in body["tables"]} <= names
        classes_csv = zf.read("classes.csv").decode()
    assert {line.split(",", 1)[0] for line in classes_csv.splitlines()[1:]} == set(datamap.CLASSES)
    return body


def test_export_of_an_agent_lists_every_class_and_every_capability(app, db, world, tmp_path):
    result = cli(app, "export", "--tenant", world, "--person", AGENT, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    body = _archive(result.output)
    assert set(body["classes"]) == set(datamap.CLASSES)
    assert os.stat(result.output.split("\t", 1)[0]).st_mode & 0o777 == 0o600
    held = {h["table"] for c in body["classes"].values() for h in c["held"]}
    # every mapped table but those that cannot be about an agent before an export or erasure
    expected = set(datamap.TABLES) - set(NOT_ABOUT_AN_AGENT)
    assert expected <= set(body["tables"]), expected - set(body["tables"])
    assert expected - {"interaction_text_analytics"} <= held
    assert body["tables"]["people"][0]["email"] == EMAIL
    assert {r["conversation_id"] for r in body["tables"]["interaction_facts"]} == {"c-1", "c-2"}
    with db.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == world)))
    assert "privacy.exported" in actions


def test_export_of_a_customer_finds_them_by_address_through_the_customer_key(app, world, tmp_path):
    result = cli(app, "export", "--tenant", world, "--customer", "tel:+442079460001", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    body = _archive(result.output)
    facts = body["tables"]["interaction_facts"]
    assert {f["conversation_id"] for f in facts} == {"c-1", "c-3"}
    assert {r["conversation_id"] for r in body["tables"]["interactions"]} == {"c-1", "c-3"}
    assert body["tables"]["inbox"]  # the payloads of those conversations, and any quoting the address
    assert set(body["classes"]) == set(datamap.CLASSES)


def test_the_api_is_for_the_tenants_admins_only_and_speaks_problem_json(app, client, db, world):
    admin = bearer(app, ADMIN, "admin")
    got = client.post("/api/v1/privacy/exports", json={"person_id": AGENT}, headers=admin)
    assert got.status_code == 200 and set(got.get_json()["classes"]) == set(datamap.CLASSES)
    customer = client.post("/api/v1/privacy/exports", json={"customer_address": ADDRESS}, headers=admin)
    facts = customer.get_json()["tables"]["interaction_facts"]
    assert {f["conversation_id"] for f in facts} == {"c-1", "c-3"}
    zipped = client.post("/api/v1/privacy/exports", json={"person_id": AGENT, "format": "zip"}, headers=admin)
    assert zipped.mimetype == "application/zip"
    assert "export.json" in zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()

    denied = client.post("/api/v1/privacy/exports", json={"person_id": AGENT},
                         headers=bearer(app, "sup-1", "supervisor"))
    assert denied.status_code == 403 and denied.mimetype == "application/problem+json"
    both = client.post("/api/v1/privacy/exports", json={"person_id": AGENT, "customer_address": ADDRESS},
                       headers=admin)
    assert both.status_code == 422 and both.mimetype == "application/problem+json"
    unknown = client.post("/api/v1/privacy/erasures", json={"person_id": "nobody"}, headers=admin)
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    # another tenant's admin cannot reach acme's agent (same id, other tenant: not found)
    add_tenant(db, "globex")
    add_people(db, "globex", [(ADMIN, "admin", None, None)])
    other = client.post("/api/v1/privacy/exports", json={"person_id": AGENT},
                        headers=bearer(app, ADMIN, "admin", tenant_id="globex"))
    assert other.status_code == 404, other.get_json()

    dry = client.post("/api/v1/privacy/erasures", json={"person_id": AGENT, "dry_run": True}, headers=admin)
    assert dry.status_code == 200 and dry.get_json()["dry_run"] is True
    assert {s["table"] for s in dry.get_json()["steps"]} >= {"people", "evaluations", "inbox"}
    assert holding(db, world, AGENT)  # a dry run changes nothing


def test_an_erasure_through_the_api_runs_on_a_worker_and_can_be_followed(app, client, db, world, run_jobs):
    admin = bearer(app, ADMIN, "admin")
    accepted = client.post("/api/v1/privacy/erasures", json={"person_id": AGENT}, headers=admin)
    assert accepted.status_code == 202, accepted.get_json()
    erasure = accepted.get_json()
    assert erasure["status"] == "running" and erasure["pseudonym"].startswith("erased-")
    run_jobs()
    followed = client.get(f"/api/v1/privacy/erasures/{erasure['erasure_id']}", headers=admin)
    assert followed.status_code == 200 and followed.get_json()["status"] == "done"
    assert followed.get_json()["total"]["people"] == 1
    assert holding(db, world, AGENT) == [] and holding(db, world, EMAIL) == []
    with db.session() as session:
        erased = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erased")).one()
    assert erased.actor == ADMIN
    assert client.get("/api/v1/privacy/erasures/999999", headers=admin).status_code == 404


def test_erasing_an_agent_leaves_nothing_identifying_and_keeps_the_totals(app, db, world):
    before = rollup_totals(db, world)
    dry = cli(app, "erase", "--tenant", world, "--person", AGENT, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["dry_run"] is True and holding(db, world, AGENT)

    result = cli(app, "erase", "--tenant", world, "--person", AGENT)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "done" and report["pseudonym"].startswith("erased-")
    for needle in (AGENT, NAME, EMAIL, "Priya", "Érasmus", "\\u00c9rasmus"):
        assert holding(db, world, needle) == [], needle
    assert rollup_totals(db, world) == before
    assert holding(db, world, OTHER)  # the other agent is untouched
    assert holding(db, world, "Olaf")
    assert holding(db, world, report["pseudonym"])  # the rows are kept, under the pseudonym
    trail = dump(db, world, skip=())["audit_log"]  # ids only: no name or address to erase there
    assert NAME.lower() not in trail and EMAIL.lower() not in trail

    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    again = cli(app, "erase", "--tenant", world, "--person", AGENT)
    assert again.exit_code == 0, again.output
    second = json.loads(again.output)
    assert second["pseudonym"] == report["pseudonym"] and sum(second["this_run"].values()) == 0
    with db.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == world)))
    assert actions.count("privacy.erased") == 2


def test_erasing_a_customer_removes_key_transcripts_and_payloads_and_keeps_the_totals(app, db, world):
    before = rollup_totals(db, world)
    with app.app_context(), db.session() as session:
        key = fcr.key_for(session, world, ADDRESS, create=False)
    assert key and holding(db, world, key) == ["interaction_facts"]
    result = cli(app, "erase", "--tenant", world, "--customer", ADDRESS)
    assert result.exit_code == 0, result.output
    assert holding(db, world, key) == []
    # nothing of c-1/c-3's words is left; c-2/c-4 (the other customer) keep theirs
    text = dump(db, world)
    assert "7946 0001" not in text["inbox"] and "442079460001" not in text["inbox"]
    assert "7946 0001" not in text["interactions"] and "7946 0001" not in text["interaction_text_analytics"]
    assert "7946 0999" in text["inbox"]  # the other customer's payloads are kept
    with db.session() as session:
        kept = dict(session.execute(select(Interaction.conversation_id, Interaction.transcript)
                                    .where(Interaction.tenant_id == world)).all())
    assert kept["c-1"] is None and kept["c-3"] is None and kept["c-2"] and kept["c-4"]
    assert rollup_totals(db, world) == before
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    again = cli(app, "erase", "--tenant", world, "--customer", ADDRESS)
    assert again.exit_code == 0 and sum(json.loads(again.output)["this_run"].values()) == 0


def test_an_erasure_cut_short_resumes_with_the_same_pseudonym(app, db, world, monkeypatch):
    from extension.analytics.models.facts import KpiRollupAgentDaily
    from extension.privacy import subjects

    before = rollup_totals(db, world)
    real = subjects._erase_row

    def failing(session, subject, name, row, pseudonym):
        if name == "performance_alerts":
            raise RuntimeError("worker lost")
        return real(session, subject, name, row, pseudonym)

    monkeypatch.setattr(subjects, "_erase_row", failing)
    cut = cli(app, "erase", "--tenant", world, "--person", AGENT)
    assert cut.exit_code != 0
    assert "kpi_rollups_agent_daily" not in holding(db, world, AGENT)  # done before the cut
    assert "performance_alerts" in holding(db, world, AGENT)
    # meanwhile a late event adds to the agent's day: the resumed run folds it into the same cell
    with db.session() as session:
        cell = session.scalars(select(KpiRollupAgentDaily)
                               .where(KpiRollupAgentDaily.tenant_id == world)).first()
        session.add(KpiRollupAgentDaily(tenant_id=world, agent_id=AGENT, day=cell.day, week=cell.week,
                                        month=cell.month, quarter=cell.quarter, volume=1, handle_ms=1000))
    monkeypatch.setattr(subjects, "_erase_row", real)
    done = cli(app, "erase", "--tenant", world, "--person", AGENT)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    for needle in (AGENT, NAME, EMAIL):
        assert holding(db, world, needle) == [], needle
    after = rollup_totals(db, world)
    assert after["kpi_rollups_daily"] == before["kpi_rollups_daily"]
    grown = before["kpi_rollups_agent_daily"]
    assert after["kpi_rollups_agent_daily"] == {**grown, "volume": grown["volume"] + 1,
                                                "handle_ms": grown["handle_ms"] + 1000}
    with db.session() as session:
        cells = session.scalars(select(KpiRollupAgentDaily.agent_id).where(
            KpiRollupAgentDaily.tenant_id == world, KpiRollupAgentDaily.day == cell.day)).all()
    assert report["pseudonym"] in cells and len(cells) == len(set(cells))


def test_an_erased_agent_is_not_created_again_by_the_people_sync(app, db, world):
    """The host may still list the person active (an erasure on request, before they leave):
    the sync must not bring their name and id back."""
    from extension.platform import people
    from extension.platform.models.people import Person

    assert cli(app, "erase", "--tenant", world, "--person", AGENT).exit_code == 0
    listed = [{"id": AGENT, "name": "Back Again", "email": "back@example.com", "state": "active"},
              {"id": "new-hire", "name": "New Hire", "state": "active"}]
    with app.app_context(), db.session() as session:
        tenant = session.get(Tenant, world)
        result = people.sync_people(session, tenant, host=people.HostPeople(listed, []))
    assert result["kept_erased"] == 1 and result["created"] == 1
    with db.session() as session:
        ids = set(session.scalars(select(Person.id).where(Person.tenant_id == world)))
        synced = session.scalars(select(AuditEntry).where(AuditEntry.action == "people.synced")
                                 .order_by(AuditEntry.id.desc())).first()
    assert AGENT not in ids and "new-hire" in ids
    assert synced.details["kept_erased"] == 1
    assert "Back Again" not in str(dump(db, world, skip=()))


def test_erasing_an_agent_drops_the_cached_peer_sums_that_name_them(app, db, world):
    from datetime import date, timedelta

    from extension.analytics import peers, snapshots
    from extension.analytics.models.snapshots import StoredPeerSnapshot

    end = date.today()
    with app.app_context(), db.session() as session:
        snapshot = peers.build(session, tenant_id=world, start=end - timedelta(days=89), end=end)
        snapshots.save(session, snapshot, mark=None)
    stored = select(StoredPeerSnapshot).where(StoredPeerSnapshot.tenant_id == world)
    with db.session() as session:
        assert session.scalars(stored).all()
    assert cli(app, "erase", "--tenant", world, "--person", AGENT).exit_code == 0
    with db.session() as session:
        assert not session.scalars(stored).all()
