"""The audit log is a per-tenant hash chain: intact chains verify, any edit or a removed middle
row is pinned to the row where the chain breaks, and tenants' chains never mix."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from extension.platform import audit, tenants
from extension.platform.models.audit import AuditEntry


def make_tenant(app, db, tenant_id: str) -> None:
    with db.session() as session:
        tenants.create(session, app.extensions["coachwire.box"], name=tenant_id.title(),
                       tenant_id=tenant_id, api_base="https://api.example.test",
                       login_base="https://login.example.test")


def append(db, tenant_id: str, n: int, *, tag: str = "") -> list[int]:
    ids = []
    for i in range(n):
        with db.session() as session:
            entry = audit.record(
                session, tenant_id=tenant_id, actor="user:u-1", action="policy.updated",
                subject_type="policy", subject_id=f"p-{i}",
                details={"n": i, "tag": tag, "ratio": 0.1 * i, "nested": {"b": [1, 2], "a": "é"}})
            ids.append(entry.id)
    return ids


def chain_ids(db, tenant_id: str) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.id).where(AuditEntry.tenant_id == tenant_id)
                                    .order_by(AuditEntry.id)))


def verify(db, tenant_id: str) -> int | None:
    with db.session() as session:
        return audit.verify_chain(session, tenant_id)


@pytest.fixture
def chain(app, db):
    """Tenant `acme` with its creation row plus five appended rows; returns all row ids."""
    make_tenant(app, db, "acme")
    append(db, "acme", 5)
    return chain_ids(db, "acme")


def test_an_intact_chain_verifies(db, chain):
    assert len(chain) == 6
    assert verify(db, "acme") is None


def test_each_row_links_to_its_predecessor_from_genesis(db, chain):
    with db.session() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == "acme")
                                    .order_by(AuditEntry.id)))
    assert rows[0].prev_hash == audit.GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


EDITS = [("details", {"n": 999}), ("actor", "user:mallory"), ("action", "policy.deleted"),
         ("subject_id", "p-other"), ("subject_type", "form")]


@pytest.mark.parametrize("position", [0, 2, -1], ids=["first", "middle", "last"])
def test_editing_any_column_of_any_row_is_detected_at_that_row(db, chain, position):
    target = chain[position]
    for column, value in EDITS:
        with db.session() as session:
            original = getattr(session.get(AuditEntry, target), column)
            session.execute(update(AuditEntry).where(AuditEntry.id == target)
                            .values({column: value}))
        assert verify(db, "acme") == target, column
        with db.session() as session:
            session.execute(update(AuditEntry).where(AuditEntry.id == target)
                            .values({column: original}))
        assert verify(db, "acme") is None, f"{column} restored"


def test_moving_a_rows_timestamp_is_detected(db, chain):
    with db.session() as session:
        row = session.get(AuditEntry, chain[3])
        row.at = row.at - timedelta(days=1)
    assert verify(db, "acme") == chain[3]


def test_rehashing_an_edited_row_breaks_the_link_to_the_next_row(db, chain):
    """Even a forger holding the data keys who recomputes the edited row's own HMAC is caught
    by its successor."""
    with db.session() as session:
        row = session.get(AuditEntry, chain[2])
        row.details = {"n": 999}
        keys = audit.keys_of(session)
        row.hash = audit.keyed_hash(keys, row.key_id, row.prev_hash, audit._fields(row))
    assert verify(db, "acme") == chain[3]


def test_deleting_a_middle_row_is_detected_at_the_row_after_it(db, chain):
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == chain[3]))
    assert verify(db, "acme") == chain[4]


def test_deleting_the_first_row_is_detected(db, chain):
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == chain[0]))
    assert verify(db, "acme") == chain[1]


def test_two_tenants_chains_are_independent(app, db):
    make_tenant(app, db, "acme")
    make_tenant(app, db, "globex")
    for _ in range(3):  # interleaved appends must not link across tenants
        append(db, "acme", 1, tag="a")
        append(db, "globex", 1, tag="g")
    acme, globex = chain_ids(db, "acme"), chain_ids(db, "globex")
    with db.session() as session:
        firsts = {t: session.scalar(select(AuditEntry.prev_hash).where(AuditEntry.tenant_id == t)
                                    .order_by(AuditEntry.id).limit(1)) for t in ("acme", "globex")}
    assert firsts == {"acme": audit.GENESIS, "globex": audit.GENESIS}
    assert verify(db, "acme") is None and verify(db, "globex") is None

    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == acme[2]).values(details={}))
        session.execute(delete(AuditEntry).where(AuditEntry.id == globex[1]))
    assert verify(db, "acme") == acme[2]
    assert verify(db, "globex") == globex[2]


def test_tampering_with_one_tenant_leaves_the_other_verifiable(app, db):
    make_tenant(app, db, "acme")
    make_tenant(app, db, "globex")
    append(db, "acme", 2)
    append(db, "globex", 2)
    with db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.tenant_id == "acme")
                        .values(actor="user:mallory"))
    assert verify(db, "acme") is not None
    assert verify(db, "globex") is None


def test_concurrent_appends_keep_one_unforked_chain(app, db):
    make_tenant(app, db, "acme")
    errors = []

    def writer(tag: str) -> None:
        try:
            append(db, "acme", 5, tag=tag)
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(chain_ids(db, "acme")) == 1 + 4 * 5
    assert verify(db, "acme") is None
