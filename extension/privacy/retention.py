"""Retention per tenant and data class: a periodic job removes or pseudonymises what is past its
period, in batches of short transactions (a batch is a few hundred rows by primary key, so no
long lock and no stall of the pipeline), and reports what it did.

The periods are the data map's defaults (extension.privacy.domain.datamap.CLASSES) unless the
tenant's ``retention`` settings name another (``{"transcript": 30}``; ``null`` keeps the class).
What each class's rules do:

- ``raw_payload``: processed inbox rows (done, ignored, failed) and finished evaluation fetches
  are deleted; rows not yet processed are kept whatever their age.
- ``transcript``: transcript text and text-analysis details are removed; scores stay.
- ``customer_ref``: interaction facts lose their customer key (the fact and the rollups stay).
- ``contact``: finished alert deliveries lose their recipient address.
- ``evaluation``, ``coaching``: counted and reported only (deleting a staff member's evaluation
  history is the tenant's decision, made by erasure).
- ``identity``: no period by default. A tenant that sets one has every person the host reported
  inactive or deleted (people sync deactivates them) erased that many days after: the host
  side's deletion of a user followed by the tenant's policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import String, Table, and_, cast, func, null, select, tuple_
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform.db import Base
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job
from extension.privacy.domain import datamap

log = logging.getLogger(__name__)
BATCH = 500
MAX_BATCHES = 200  # per rule and run: the next run goes on where this one stopped
ACTOR = "system:retention"
# after each batch, sleep this many times the batch's own duration: the job then takes at most
# 1 / (1 + YIELD) of its process and of the database's time for it, leaving the rest to the pipeline
YIELD = 1.0
ERASE_PER_RUN = 50  # people erased per tenant and run (each erasure is its own batches)


@dataclass(frozen=True)
class Rule:
    cls: str
    table: str
    age: str  # the timestamp column the period counts from
    action: str  # delete | set | report | erase (a person, through extension.privacy.subjects)
    values: dict[str, Any] = field(default_factory=dict)
    pending: Callable[[Table], Any] | None = None  # rows still to act on (besides their age)


def _status_in(*states: str) -> Callable[[Table], Any]:
    return lambda t: t.c.status.in_(states)


RULES: tuple[Rule, ...] = (
    Rule("raw_payload", "inbox", "received_at", "delete", pending=_status_in("done", "ignored", "failed")),
    Rule("raw_payload", "evaluation_fetches", "created_at", "delete",
         pending=_status_in("done", "skipped", "failed")),
    Rule("transcript", "interactions", "ended_at", "set", {"transcript": None},
         pending=lambda t: and_(t.c.transcript.isnot(None), cast(t.c.transcript, String) != "null")),
    Rule("transcript", "interaction_text_analytics", "analysed_at", "set", {"result": {}},
         pending=lambda t: cast(t.c.result, String) != "{}"),
    Rule("customer_ref", "interaction_facts", "ended_at", "set", {"customer_key": None},
         pending=lambda t: t.c.customer_key.isnot(None)),
    Rule("contact", "alert_deliveries", "created_at", "set", {"recipient": None},
         pending=lambda t: and_(t.c.recipient.isnot(None), t.c.status.in_(("sent", "failed")))),
    Rule("identity", "people", "synced_at", "erase", pending=lambda t: t.c.active.is_(False)),
    Rule("evaluation", "evaluations", "assigned_at", "report"),
    Rule("coaching", "flags", "at", "report"),
)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _where(rule: Rule, tenant_id: str, cutoff: datetime):
    table = _table(rule.table)
    clauses = [table.c.tenant_id == tenant_id, table.c[rule.age] < cutoff]
    if rule.pending is not None:
        clauses.append(rule.pending(table))
    return and_(*clauses)


def _apply_batch(session: Session, rule: Rule, tenant_id: str, cutoff: datetime,
                 after: tuple | None) -> tuple[int, tuple | None]:
    """One batch after the primary key ``after`` (keyset: no batch scans the rows done before
    it); (rows changed, the last key)."""
    table = _table(rule.table)
    pk = list(table.primary_key.columns)
    query = select(*pk).where(_where(rule, tenant_id, cutoff))
    if after is not None:
        query = query.where(tuple_(*pk) > after if len(pk) > 1 else pk[0] > after[0])
    keys = [tuple(r) for r in session.execute(query.order_by(*pk).limit(BATCH))]
    if not keys:
        return 0, after
    if rule.action == "erase":
        raise AssertionError("erase rules go through _erase_people")
    match = tuple_(*pk).in_(keys) if len(pk) > 1 else pk[0].in_([k[0] for k in keys])
    if rule.action == "delete":
        session.execute(table.delete().where(match))
    else:
        values = {k: (null() if v is None else v) for k, v in rule.values.items()}
        session.execute(table.update().where(match).values(**values))
    return len(keys), keys[-1]


def run_tenant(session_factory, tenant_id: str, *, dry_run: bool = False,
               now: datetime | None = None, yield_ratio: float | None = None) -> dict[str, Any]:
    """Apply (or with ``dry_run`` count) every rule for one tenant; the report per class+table."""
    now = now or utcnow()
    with session_factory() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise LookupError(f"no tenant {tenant_id!r}")
        overrides = dict(tenant.retention or {})
    started = time.monotonic()
    lines: list[dict[str, Any]] = []
    for rule in RULES:
        days = datamap.retention_days(rule.cls, overrides)
        if days is None:
            continue
        cutoff = now - timedelta(days=days)
        if dry_run or rule.action == "report":
            with session_factory() as session:
                count = session.scalar(select(func.count()).select_from(_table(rule.table))
                                       .where(_where(rule, tenant_id, cutoff))) or 0
            done = 0
        elif rule.action == "erase":
            count = done = _erase_people(session_factory, rule, tenant_id, cutoff)
        else:
            count = done = 0
            after = None
            pause = YIELD if yield_ratio is None else yield_ratio
            for _ in range(MAX_BATCHES):
                began = time.monotonic()
                with session_factory() as session:  # one short transaction per batch
                    changed, after = _apply_batch(session, rule, tenant_id, cutoff, after)
                done += changed
                if pause and changed:
                    time.sleep(pause * (time.monotonic() - began))
                if changed < BATCH:
                    break
            count = done
        lines.append({"class": rule.cls, "table": rule.table, "action": rule.action, "days": days,
                      "cutoff": cutoff.isoformat(), "rows": count, "changed": done})
    seconds = time.monotonic() - started
    changed = sum(line["changed"] for line in lines)
    report = {"tenant_id": tenant_id, "dry_run": dry_run, "rules": lines, "changed": changed,
              "seconds": round(seconds, 3),
              "rows_per_second": round(changed / seconds, 1) if seconds else None}
    if changed:
        with session_factory() as session:
            audit.record(session, tenant_id=tenant_id, actor=ACTOR, action="privacy.retention",
                         subject_type="tenant", subject_id=tenant_id,
                         details={f"{x['class']}:{x['table']}": x["changed"] for x in lines if x["changed"]})
    return report


def _erase_people(session_factory, rule: Rule, tenant_id: str, cutoff: datetime) -> int:
    """Erase each person the host deactivated before ``cutoff`` (a few per run)."""
    from extension.privacy import subjects

    table = _table(rule.table)
    with session_factory() as session:
        ids = list(session.scalars(select(table.c.id).where(_where(rule, tenant_id, cutoff))
                                   .order_by(table.c.id).limit(ERASE_PER_RUN)))
    for person_id in ids:
        subjects.erase(session_factory, tenant_id, partial(_person, tenant_id, person_id), actor=ACTOR)
    return len(ids)


def _person(tenant_id: str, person_id: str, session: Session):
    from extension.privacy import subjects

    return subjects.person_subject(session, tenant_id, person_id)


def run_all(session_factory, *, dry_run: bool = False,
            yield_ratio: float | None = None) -> list[dict[str, Any]]:
    with session_factory() as session:
        tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    return [run_tenant(session_factory, tenant_id, dry_run=dry_run, yield_ratio=yield_ratio)
            for tenant_id in tenant_ids]


@job(queue="default", retries=0, timeout=3600)
def apply_all() -> dict[str, int]:
    """The periodic job: every tenant's retention; logs each tenant's report."""
    from extension.platform import context

    reports = run_all(context.extension("db").session)
    for report in reports:
        if report["changed"]:
            log.info("retention tenant=%s changed=%s seconds=%s rules=%s", report["tenant_id"],
                     report["changed"], report["seconds"],
                     {f"{x['class']}:{x['table']}": x["changed"] for x in report["rules"] if x["changed"]})
    return {r["tenant_id"]: r["changed"] for r in reports}


def set_period(session: Session, tenant_id: str, cls: str, days: int | None, *, actor: str) -> dict:
    """Set (or with None, keep forever; with 0, back to the default) a tenant's period; audited."""
    if cls not in datamap.CLASSES:
        raise ValueError(f"unknown data class {cls!r}")
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    retention = dict(tenant.retention or {})
    if days == 0:
        retention.pop(cls, None)
    else:
        retention[cls] = days
    tenant.retention = retention
    audit.record(session, tenant_id=tenant_id, actor=actor, action="tenant.retention_changed",
                 subject_type="tenant", subject_id=tenant_id, details={"class": cls, "days": days})
    return retention
