"""The audit chain is keyed and anchored: without the data keys nobody can rewrite it, rows
removed from its end behind a checkpoint are found, `flask audit verify` says so with its exit
code and names the first bad row, the periodic job alerts, rows from before the chain was keyed
still verify, and adding a data key breaks nothing."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select, update

from extension import close_app, create_app
from extension.platform import audit, tenants
from extension.platform.models._types import utcnow
from extension.platform.models.audit import AuditCheckpoint, AuditEntry
from extension.platform.worker import periodic_jobs


def make_tenant(app, db, tenant_id: str) -> None:
    with db.session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name=tenant_id.title(),
                       tenant_id=tenant_id, api_base="https://api.example.test",
                       login_base="https://login.example.test")


def append(db, tenant_id: str, n: int) -> list[int]:
    ids = []
    for i in range(n):
        with db.session() as session:
            ids.append(audit.record(session, tenant_id=tenant_id, actor="user:u-1",
                                    action="plan.updated", subject_type="plan",
                                    subject_id=f"p-{i}", details={"n": i}).id)
    return ids


def rows(db, tenant_id: str = "acme") -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
                                    .order_by(AuditEntry.id)))


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def failure(db, tenant_id: str = "acme"):
    with db.session() as session:
        return audit.verify(session, tenant_id)[0]


@pytest.fixture
def chain(app, db):
    make_tenant(app, db, "acme")
    append(db, "acme", 5)
    return [r.id for r in rows(db)]


def test_an_intact_chain_verifies_and_the_command_exits_0(app, db, chain):
    result = cli(app)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert cli(app, "--tenant", "acme").exit_code == 0


def test_recomputing_every_hash_without_the_key_is_detected(app, db, chain):
    """The old chain was plain SHA-256: anyone with database access could edit a row and
    re-chain everything after it. Rows are HMACs now."""
    prev = audit.GENESIS
    with db.session() as session:
        for row in session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == "acme")
                                   .order_by(AuditEntry.id)):
            if row.id == chain[2]:
                row.details = {"n": 999}
            row.prev_hash = prev
            row.hash = prev = audit.entry_hash(prev, audit._fields(row))
    with db.session() as session:
        assert audit.verify_chain(session, "acme") is not None
    result = cli(app, "--tenant", "acme")
    assert result.exit_code == 1
    assert f"row {chain[0]}" in result.output


def test_downgrading_rows_to_the_unkeyed_scheme_is_detected(app, db, chain):
    with db.session() as session:
        row = session.get(AuditEntry, chain[-1])
        row.details, row.scheme, row.key_id = {"n": 999}, audit.LEGACY, None
        row.hash = audit.entry_hash(row.prev_hash, audit._fields(row))
    found = failure(db)
    assert found.row_id == chain[-1] and "unkeyed row after keyed" in found.reason


@pytest.mark.parametrize("position", [0, 2, -1], ids=["first", "middle", "last"])
def test_an_edited_row_is_named_by_the_command(app, db, chain, position):
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == chain[position])
                        .values(actor="user:mallory"))
    result = cli(app, "--tenant", "acme")
    assert result.exit_code == 1
    assert f"row {chain[position]}:" in result.output and "edited" in result.output


def test_a_row_deleted_in_the_middle_is_found_at_the_row_after_it(app, db, chain):
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == chain[3]))
    result = cli(app)
    assert result.exit_code == 1
    assert f"row {chain[4]}:" in result.output and "deleted" in result.output


def checkpoint_now(app) -> int:
    result = cli(app, "--checkpoint")
    assert result.exit_code == 0, result.output
    with app.extensions["coachwire.db"].session() as session:
        return session.scalar(select(func.count()).select_from(AuditCheckpoint))


def test_truncating_the_newest_rows_behind_a_checkpoint_is_detected(app, db, chain):
    assert checkpoint_now(app) == 1
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id.in_(chain[-2:])))
    with db.session() as session:
        assert audit.verify_chain(session, "acme") == chain[-1]
    result = cli(app, "--tenant", "acme")
    assert result.exit_code == 1
    assert f"row {chain[-1]}" in result.output and "missing" in result.output


def test_truncation_after_the_newest_checkpoint_is_the_window_a_checkpoint_closes(app, db, chain):
    """Rows appended after the newest checkpoint are anchored only by the next one: deleting
    them verifies until then, which is why the checkpoint job runs periodically."""
    checkpoint_now(app)
    later = append(db, "acme", 2)
    assert checkpoint_now(app) == 2
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == later[-1]))
    assert failure(db).row_id == later[-1]


def test_a_checkpoint_is_written_only_when_the_head_moved(app, db, chain):
    assert checkpoint_now(app) == 1
    assert checkpoint_now(app) == 1
    append(db, "acme", 1)
    assert checkpoint_now(app) == 2


@pytest.mark.parametrize("column", ["head_id", "head_hash", "mac"])
def test_an_edited_checkpoint_is_detected(app, db, chain, column):
    checkpoint_now(app)
    value = {"head_id": chain[1], "head_hash": rows(db)[1].hash, "mac": "0" * 64}[column]
    with db.session() as session:
        cp = session.scalar(select(AuditCheckpoint))
        setattr(cp, column, value)
        cp_id = cp.id
    found = failure(db)
    assert found is not None and found.checkpoint_id == cp_id
    assert cli(app).exit_code == 1


def test_tenants_are_verified_and_named_separately(app, db, chain):
    make_tenant(app, db, "globex")
    append(db, "globex", 2)
    globex = [r.id for r in rows(db, "globex")]
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == globex[1]).values(details={}))
    assert cli(app, "--tenant", "acme").exit_code == 0
    result = cli(app)
    assert result.exit_code == 1
    assert f"tenant globex: row {globex[1]}" in result.output and "tenant acme" not in result.output


def test_verify_of_an_unknown_tenant_fails_cleanly(app, db, chain):
    result = cli(app, "--tenant", "nope")
    assert result.exit_code != 0 and "no tenant 'nope'" in result.output


def legacy_rows(db, tenant_id: str, n: int) -> list[int]:
    """Rows as the unkeyed scheme wrote them before this change (scheme 1, plain SHA-256)."""
    ids = []
    with db.session() as session:
        prev = audit.GENESIS
        for i in range(n):
            entry = AuditEntry(tenant_id=tenant_id, at=utcnow().replace(microsecond=0),
                               actor="system:old", action="policy.updated", subject_type="policy",
                               subject_id=f"old-{i}", details={"i": i}, prev_hash=prev,
                               scheme=audit.LEGACY, key_id=None)
            entry.hash = prev = audit.entry_hash(prev, audit._fields(entry))
            session.add(entry)
            session.flush()
            ids.append(entry.id)
    return ids


def test_rows_written_before_the_chain_was_keyed_still_verify_and_anchor_new_rows(app, db):
    from tests.factories import add_tenant

    add_tenant(db, "acme")  # no creation row: the chain starts with the legacy rows
    old = legacy_rows(db, "acme", 3)
    new = append(db, "acme", 2)
    chain = rows(db)
    assert [r.scheme for r in chain] == [1, 1, 1, 2, 2]
    assert chain[3].prev_hash == chain[2].hash
    assert cli(app, "--tenant", "acme").exit_code == 0
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == old[1]).values(actor="x"))
    assert failure(db).row_id == old[1]
    assert new


def test_adding_a_data_key_keeps_the_chain_verifiable(app, settings, db, chain):
    rotated = create_app(settings.with_overrides(
        data_keys=(Fernet.generate_key().decode(), *settings.data_keys)))
    try:
        rotated_db = rotated.extensions["coachwire.db"]
        checkpoint_now(app)
        append(rotated_db, "acme", 2)  # new rows under the new key
        assert cli(rotated, "--checkpoint").exit_code == 0
        key_ids = {r.key_id for r in rows(rotated_db)}
        assert len(key_ids) == 2
        assert cli(rotated).exit_code == 0
        # the old key retired too early: its rows can no longer be checked, and the command says so
        result = cli(app)
        assert result.exit_code == 1 and "not configured" in result.output
    finally:
        close_app(rotated)


def test_the_periodic_job_is_registered(app):
    assert (audit.verify_all, app.config["SETTINGS"].audit_verify_seconds) in periodic_jobs(app)


def test_the_periodic_job_checkpoints_intact_chains(app, db, chain):
    with app.app_context():
        assert audit.verify_all() == {}
    with db.session() as session:
        cp = session.scalar(select(AuditCheckpoint))
    assert (cp.tenant_id, cp.head_id, cp.head_hash) == ("acme", chain[-1], rows(db)[-1].hash)


def test_the_periodic_job_logs_an_error_and_alerts_on_a_broken_chain(app, db, chain, caplog):
    alerts = []
    audit.add_alert_hook(app, alerts.append)
    audit.add_alert_hook(app, lambda failure: 1 / 0)  # a broken alert path stops no other
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == chain[2]))
    with app.app_context(), caplog.at_level(logging.ERROR, logger="extension.platform.audit"):
        result = audit.verify_all()
    assert list(result) == ["acme"] and f"row {chain[3]}" in result["acme"]
    assert [(a.tenant_id, a.row_id) for a in alerts] == [("acme", chain[3])]
    assert any(r.levelno == logging.ERROR and f"row {chain[3]}" in r.getMessage()
               for r in caplog.records)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0
