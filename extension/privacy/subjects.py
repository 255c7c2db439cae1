"""Subject access and erasure, driven by the data map (extension.privacy.domain.datamap).

A *subject* is a staff member (a host user id) or a customer (the customer key the tenant's
secret makes of an address, extension.analytics.fcr.key_for). ``find`` collects every row of
every mapped table that is about the subject; ``export`` turns them into the archive; ``erase``
deletes or pseudonymises them table by table, each batch in its own short transaction, and
records the erasure (``privacy_erasures`` and the audit trail) so a second run resumes or finds
nothing left.

The audit trail is not edited (its chain must still verify): it holds host ids and no names or
addresses, and the erasure itself is recorded in it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Table, and_, cast, delete, null, or_, select, union
from sqlalchemy.orm import Session

from extension.analytics import fcr
from extension.analytics.models.snapshots import StoredPeerSnapshot
from extension.platform import audit
from extension.platform.db import Base
from extension.platform.errors import Invalid, NotFound
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job
from extension.privacy.domain import datamap
from extension.privacy.domain.scrub import mentions, scrub
from extension.privacy.models import Erasure

BATCH = 500
ERASED = "[erased]"
# tables whose rows are the record of an erasure or of accountability: never edited by erasure
KEPT = frozenset(name for name, t in datamap.TABLES.items() if t.on_person_erasure == "keep")
# where an agent's conversations are found (by agent id)
CONVERSATION_SOURCES = ("interactions", "interaction_facts")


@dataclass
class Subject:
    tenant_id: str
    kind: str  # person | customer
    ref: str  # host user id | customer key
    # what identifies the subject in free text: the id, and the person's name and e-mail address
    # or the customer's address as entered and normalised
    needles: list[str] = field(default_factory=list)
    # the subject's conversations: a customer's (through the customer key) or an agent's; their
    # transcripts and payloads are about the subject too
    # (a subquery, not a list: an agent's year is more conversations than a statement takes
    # parameters; its source tables are erased last, so it holds until the end of a run)
    conversations: Any = None
    # scrubbed in the subject's rows but not searched for (a first name alone finds strangers)
    extra: list[str] = field(default_factory=list)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def person_subject(session: Session, tenant_id: str, person_id: str) -> Subject:
    _tenant_or_404(session, tenant_id)
    person_id = (person_id or "").strip()
    if not person_id:
        raise Invalid("Name a person.", errors=[{"field": "person_id", "message": "Required."}])
    needles, extra = [person_id], []
    person = session.get(Person, (tenant_id, person_id))
    if person is not None:
        needles += [v for v in (person.email, person.name) if v and v != person_id]
        extra = [part for part in (person.name or "").split() if len(part) >= 3 and part not in needles]
    elif _erasure(session, tenant_id, "person", person_id) is None and not _any_rows(
            session, tenant_id, person_id):
        raise NotFound(f"No person {person_id!r} in this tenant.")
    sources = [_table(name) for name in CONVERSATION_SOURCES]
    conversations = union(*[select(t.c.conversation_id).where(t.c.tenant_id == tenant_id,
                                                               t.c.agent_id == person_id)
                            for t in sources])
    return Subject(tenant_id, "person", person_id, needles, conversations, extra)


def customer_subject(session: Session, tenant_id: str, address: str) -> Subject:
    """The customer behind an address, through the same keyed hash the facts were stored under."""
    _tenant_or_404(session, tenant_id)
    normalized = fcr.rule.normalize_address(address)
    if normalized is None:
        raise Invalid("Not a usable customer address.",
                      errors=[{"field": "customer_address",
                               "message": "An e-mail address or a phone number."}])
    key = fcr.key_for(session, tenant_id, address, create=False)
    if key is None:  # the tenant never keyed a customer: nothing can be about this one
        key = "-"
    needles = sorted({address.strip(), normalized, normalized.lstrip("+")}, key=len, reverse=True)
    facts = _table("interaction_facts")
    conversations = select(facts.c.conversation_id).where(facts.c.tenant_id == tenant_id,
                                                          facts.c.customer_key == key)
    return Subject(tenant_id, "customer", key, needles, conversations)


def _tenant_or_404(session: Session, tenant_id: str) -> None:
    if session.get(Tenant, tenant_id) is None:
        raise NotFound(f"No tenant {tenant_id!r}.")


def _any_rows(session: Session, tenant_id: str, person_id: str) -> bool:
    subject = Subject(tenant_id, "person", person_id, [person_id])
    return any(next(iter(_keys(session, subject, name)), None) is not None for name in datamap.TABLES)


def _erasure(session: Session, tenant_id: str, kind: str, ref: str) -> Erasure | None:
    return session.scalar(select(Erasure).where(Erasure.tenant_id == tenant_id,
                                                Erasure.subject_kind == kind, Erasure.subject_ref == ref))


# ---- finding the subject's rows -------------------------------------------------------------

def _condition(subject: Subject, name: str):
    table, spec = _table(name), datamap.TABLES[name]
    clauses = []
    for column, col in spec.columns.items():
        c = table.c[column]
        if subject.kind == "person":
            if col.ref == "person":
                clauses.append(c == subject.ref)
            elif col.ref == "text":
                clauses += [cast(c, String).ilike(f"%{n}%", escape="\\") for n in _like(subject.needles)]
            elif col.ref == "conversation" and spec.on_customer_erasure and subject.conversations is not None:
                clauses.append(c.in_(subject.conversations))
        else:
            if col.ref == "customer":
                clauses.append(c == subject.ref)
            elif col.ref == "conversation" and spec.on_customer_erasure and subject.conversations is not None:
                clauses.append(c.in_(subject.conversations))
            elif col.ref == "text" and column in spec.on_customer_erasure:
                clauses += [cast(c, String).ilike(f"%{n}%", escape="\\") for n in _like(subject.needles)]
    if not clauses:
        return None
    return and_(table.c.tenant_id == subject.tenant_id, or_(*clauses))


def _like(needles: list[str]) -> list[str]:
    """LIKE patterns of the needles, each also as JSON writes it (a JSON column on SQLite holds
    ``Jos\\u00e9`` for ``José``)."""
    spelled = []
    for n in needles:
        if len(n.strip()) >= 3:
            spelled += [n] + ([json.dumps(n)[1:-1]] if json.dumps(n)[1:-1] != n else [])
    return [n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for n in spelled]


def _pk(table: Table) -> list:
    return list(table.primary_key.columns)


def _keys(session: Session, subject: Subject, name: str) -> list[tuple]:
    condition = _condition(subject, name)
    if condition is None:
        return []
    table = _table(name)
    return [tuple(r) for r in session.execute(select(*_pk(table)).where(condition).order_by(*_pk(table)))]


def _rows_by_key(session: Session, name: str, keys: list[tuple]) -> list[dict[str, Any]]:
    table = _table(name)
    pk = _pk(table)
    if not keys:
        return []
    match = or_(*[and_(*[c == v for c, v in zip(pk, key, strict=True)]) for key in keys])
    return [dict(r._mapping) for r in session.execute(select(table).where(match))]


def find(session: Session, subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """table -> the subject's rows (whole rows, for context), for every mapped table."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(datamap.TABLES):
        keys = _keys(session, subject, name)
        rows: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH):
            rows += _rows_by_key(session, name, keys[start:start + BATCH])
        if rows:
            found[name] = rows
    return found


# ---- subject access -------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export(session: Session, subject: Subject, *, actor: str) -> dict[str, Any]:
    """The archive: every data class of the map (with where the subject has data in it), and
    every row about the subject. Audited (the audit row names the subject, not the content)."""
    found = find(session, subject)
    classes: dict[str, dict[str, Any]] = {}
    for key, cls in datamap.CLASSES.items():
        where = []
        for name, rows in sorted(found.items()):
            for column, col in sorted(datamap.TABLES[name].columns.items()):
                if col.cls == key:
                    held = sum(1 for r in rows if r.get(column) not in (None, "", [], {}))
                    if held:
                        where.append({"table": name, "column": column, "rows": held})
        classes[key] = {"title": cls.title, "lawful_basis": cls.lawful_basis,
                        "retention_days": cls.retention_days, "retention": cls.retention_note,
                        "held": where}
    tables = {name: [{k: _plain(v) for k, v in row.items()} for row in rows]
              for name, rows in found.items()}
    audit.record(session, tenant_id=subject.tenant_id, actor=actor, action="privacy.exported",
                 subject_type=subject.kind, subject_id=_audit_subject(subject),
                 details={"tables": {n: len(r) for n, r in sorted(found.items())}})
    return {"subject": {"kind": subject.kind, "id": subject.ref, "tenant_id": subject.tenant_id},
            "generated_at": utcnow().isoformat(), "classes": classes, "tables": tables}


def _audit_subject(subject: Subject) -> str:
    # a customer key is an identifier too; the audit names a short prefix of it
    return subject.ref if subject.kind == "person" else f"customer:{subject.ref[:12]}"


# ---- erasure --------------------------------------------------------------------------------

@dataclass
class Step:
    table: str
    action: str
    rows: int


def plan(session: Session, subject: Subject) -> list[Step]:
    """What an erasure would do: per table, the action and how many rows it touches (dry run)."""
    steps = []
    for name in _order(subject):
        count = len(_keys(session, subject, name))
        if count:
            steps.append(Step(name, _action(subject, name), count))
    return steps


def _action(subject: Subject, name: str) -> str:
    spec = datamap.TABLES[name]
    if subject.kind == "person":
        return spec.on_person_erasure
    return "clear " + ", ".join(f"{c} ({a})" for c, a in sorted(spec.on_customer_erasure.items()))


def start(session: Session, subject: Subject, *, actor: str) -> Erasure:
    """The subject's erasure record, made (with its random pseudonym) on the first request."""
    erasure = _erasure(session, subject.tenant_id, subject.kind, subject.ref)
    if erasure is None:
        erasure = Erasure(tenant_id=subject.tenant_id, subject_kind=subject.kind, subject_ref=subject.ref,
                          pseudonym="erased-" + secrets.token_hex(8), status="running", steps={},
                          requested_by=actor)
        session.add(erasure)
        session.flush()
    else:
        erasure.status = "running"
    return erasure


def subject_of(tenant_id: str, kind: str, ident: str) -> Callable[[Session], Subject]:
    """A subject by its kind and what identifies it (host user id, or the customer's address)."""
    if kind == "person":
        return lambda session: person_subject(session, tenant_id, ident)
    return lambda session: customer_subject(session, tenant_id, ident)


def erased_people(session: Session, tenant_id: str) -> set[str]:
    """Host user ids of the tenant's erased (or being erased) people: the people sync must not
    create them again from the host's listing (``extension.platform.people.never_recreate``)."""
    return set(session.scalars(select(Erasure.subject_ref).where(
        Erasure.tenant_id == tenant_id, Erasure.subject_kind == "person")))


@job(queue="default", retries=3, intervals=(10, 60, 300), timeout=3600)
def erase_job(tenant_id: str, kind: str, ident: str, actor: str) -> dict[str, Any]:
    """The API's erasure, run by a worker (a large subject takes longer than a request may)."""
    from extension.platform import context

    return erase(context.extension("db").session, tenant_id, subject_of(tenant_id, kind, ident), actor=actor)


def erasure_json(erasure: Erasure) -> dict[str, Any]:
    return {"erasure_id": erasure.id, "subject": {"kind": erasure.subject_kind}, "status": erasure.status,
            "pseudonym": erasure.pseudonym, "total": dict(erasure.steps or {}),
            "created_at": erasure.created_at.isoformat() if erasure.created_at else None,
            "finished_at": erasure.finished_at.isoformat() if erasure.finished_at else None}


def erasure_or_404(session: Session, tenant_id: str, erasure_id: int) -> Erasure:
    # ids are 32-bit serials: a larger number names nothing (and would overflow the driver)
    found = session.get(Erasure, erasure_id) if 0 < erasure_id < 2**31 else None
    if found is None or found.tenant_id != tenant_id:
        raise NotFound(f"No erasure {erasure_id} in this tenant.")
    return found


def erase(session_factory: Callable[[], Any], tenant_id: str, subject_of: Callable[[Session], Subject],
          *, actor: str) -> dict[str, Any]:
    """Erase a subject everywhere. Each table is done in batches of short transactions; the
    ``privacy_erasures`` row (made first, with a random pseudonym) makes a second run resume with
    the same pseudonym, and a run after completion a no-op. Returns the report."""
    with session_factory() as session:
        subject = subject_of(session)
        erasure = start(session, subject, actor=actor)
        erasure_id, pseudonym = erasure.id, erasure.pseudonym
    done: dict[str, int] = {}
    for name in _order(subject):
        with session_factory() as session:
            keys = _keys(session, subject, name)
        for first in range(0, len(keys), BATCH):
            with session_factory() as session:  # one short transaction: the batch and its progress
                changed = sum(_erase_row(session, subject, name, row, pseudonym)
                              for row in _rows_by_key(session, name, keys[first:first + BATCH]))
                row = session.get(Erasure, erasure_id)
                row.steps = {**(row.steps or {}), name: (row.steps or {}).get(name, 0) + changed}
            done[name] = done.get(name, 0) + changed
    with session_factory() as session:
        if subject.kind == "person":  # the cached peer sums name agents: drop them, the worker rebuilds
            dropped = session.execute(delete(StoredPeerSnapshot).where(
                StoredPeerSnapshot.tenant_id == tenant_id)).rowcount or 0
            done["peer_snapshots"] = done.get("peer_snapshots", 0) + dropped
        row = session.get(Erasure, erasure_id)
        row.status, row.finished_at = "done", utcnow()
        audit.record(session, tenant_id=tenant_id, actor=actor, action="privacy.erased",
                     subject_type=subject.kind, subject_id=_audit_subject(subject),
                     details={"erasure_id": erasure_id, "pseudonym": pseudonym, "tables": done})
        steps = dict(row.steps or {})
    return {"erasure_id": erasure_id, "subject": {"kind": subject.kind}, "pseudonym": pseudonym,
            "status": "done", "this_run": done, "total": steps}


def _order(subject: Subject) -> list[str]:
    """The tables to erase, those that find the subject last: a run cut short still finds the
    rest (the person's row gives the name and address to scrub; the customer key gives the
    conversations)."""
    def last(name: str) -> int:
        spec = datamap.TABLES[name]
        if subject.kind == "person":
            return 2 if spec.on_person_erasure == "delete" else 1 if name in CONVERSATION_SOURCES else 0
        return int(any(col.ref == "customer" for col in spec.columns.values()))

    return sorted((n for n in datamap.TABLES if n not in KEPT), key=lambda n: (last(n), n))


def _erase_row(session: Session, subject: Subject, name: str, row: dict[str, Any], pseudonym: str) -> int:
    table, spec = _table(name), datamap.TABLES[name]
    key = and_(*[c == row[c.name] for c in _pk(table)])
    if subject.kind == "person":
        owner = next((c for c, col in spec.columns.items() if col.ref == "person"), None)
        if spec.on_person_erasure == "delete" and owner and row.get(owner) == subject.ref:
            session.execute(table.delete().where(key))
            return 1
        words = [*subject.needles, *subject.extra]
        replacements = {subject.ref: pseudonym, **dict.fromkeys(words[1:], ERASED)}
        values: dict[str, Any] = {}
        for column, col in spec.columns.items():
            value = row.get(column)
            if col.ref == "person" and value == subject.ref:
                values[column] = pseudonym
            elif col.ref == "text" and value is not None and mentions(value, words):
                values[column] = scrub(value, replacements)
    else:
        values = {}
        for column, action in spec.on_customer_erasure.items():
            value = row.get(column)
            if action == "null":
                values[column] = None
            elif action == "empty":
                values[column] = [] if isinstance(value, list) else {} if value is not None else None
            else:
                values[column] = {"erased": "privacy", "type": row.get("type")}
        for column, col in spec.columns.items():  # an address quoted elsewhere in the row
            if col.ref == "text" and column not in values and mentions(row.get(column), subject.needles):
                values[column] = scrub(row.get(column), dict.fromkeys(subject.needles, ERASED))
    values = {k: v for k, v in values.items() if v != row.get(k)}
    if not values:
        return 0
    pk = _pk(table)
    if any(c.name in values for c in pk):
        moved = and_(*[c == values.get(c.name, row[c.name]) for c in pk])
        target = session.execute(select(table).where(moved)).first()
        if target is not None:  # the pseudonymised row is there already (a resumed erasure)
            _merge_into(session, table, moved, dict(target._mapping), row)
            session.execute(table.delete().where(key))
            return 1
    # SQL NULL, not JSON null, so "IS NULL" (retention, reports) sees an erased JSON value
    session.execute(table.update().where(key).values(**{k: null() if v is None else v
                                                         for k, v in values.items()}))
    return 1


def _merge_into(session: Session, table: Table, where, target: dict[str, Any], row: dict[str, Any]) -> None:
    """Fold a row into the row already at its new key: rollup sums add up (totals unchanged);
    any other row is the same subject's, already pseudonymised, and the duplicate goes."""
    sums = {c: (target[c] or 0) + (row[c] or 0) for c in datamap.ADDITIVE if c in table.c}
    if sums:
        session.execute(table.update().where(where).values(**sums))


def erasures(session: Session, tenant_id: str) -> list[Erasure]:
    return list(session.scalars(select(Erasure).where(Erasure.tenant_id == tenant_id)
                                .order_by(Erasure.id.desc())))

