"""First-contact resolution maintained on the facts, in any arrival order (live or sync).

The rule is extension.analytics.domain.fcr; this module keeps stored facts consistent with it:

* ``judge_groups`` (called by analytics.upsert_facts for every batch) loads every stored contact
  of the customers the batch touches, judges each (customer, inquiry) group again with the batch
  applied, and adds every stored contact whose value moved to the batch, so its old and new
  rollup contributions are moved in the same statements (rollups stay equal to the facts);
* contacts whose window has not passed are ``NULL`` (not yet known); ``finalize`` (a periodic
  job, ``flask sync fcr``, and every ``flask sync`` run) judges the due ones;
* on PostgreSQL a transaction-scoped advisory lock per customer key serialises two workers that
  store contacts of the same customer, so neither judges without seeing the other's contact.

Customer keys are HMACs under a per-tenant random secret, sealed with the data keys in
``analytics_settings`` (extension.analytics.domain.fcr.customer_key).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, distinct, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extension.analytics.domain import fcr as rule
from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.sync import AnalyticsSettings
from extension.platform import context
from extension.platform.models._types import utcnow
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job

_facts = cast(Table, InteractionFact.__table__)
_settings = cast(Table, AnalyticsSettings.__table__)
_CHUNK = 500
_secrets: dict[tuple[str, str], bytes] = {}
_secrets_lock = threading.Lock()


def settings(session: Session, tenant_id: str) -> AnalyticsSettings | None:
    return session.get(AnalyticsSettings, tenant_id)


def window_days(session: Session, tenant_id: str) -> int:
    found = settings(session, tenant_id)
    return found.fcr_window_days if found is not None else rule.DEFAULT_WINDOW_DAYS


def _settings_row(session: Session, tenant_id: str) -> AnalyticsSettings:
    """The tenant's row, created if missing (two writers at once: one insert wins, both go on)."""
    found = settings(session, tenant_id)
    if found is None:
        if session.get(Tenant, tenant_id) is None:
            raise LookupError(f"no tenant {tenant_id!r}")
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(_settings).values(
            tenant_id=tenant_id, fcr_window_days=rule.DEFAULT_WINDOW_DAYS, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["tenant_id"]))
        found = session.get(AnalyticsSettings, tenant_id)
        assert found is not None  # inserted above, by us or a concurrent writer
    return found


def customer_secret(session: Session, tenant_id: str, *, create: bool = True) -> bytes | None:
    """The tenant's hashing secret; made on first use unless ``create`` is False. Only the first
    writer's secret is kept (conditional UPDATE), so concurrent first uses agree on it."""
    found = settings(session, tenant_id)
    if (found is None or not found.customer_secret_enc) and not create:
        return None
    found = _settings_row(session, tenant_id)
    box = context.secret_box()
    if not found.customer_secret_enc:
        sealed = box.seal(base64.b64encode(secrets.token_bytes(32)).decode())
        session.execute(update(_settings).where(_settings.c.tenant_id == tenant_id,
                                                _settings.c.customer_secret_enc.is_(None))
                        .values(customer_secret_enc=sealed, updated_at=utcnow()))
        session.refresh(found)
    key = (tenant_id, cast(str, found.customer_secret_enc))  # set above if it was missing
    with _secrets_lock:
        if key not in _secrets:
            _secrets[key] = base64.b64decode(box.open(found.customer_secret_enc))
        return _secrets[key]


def key_for(session: Session, tenant_id: str, address: str | None, *, create: bool = True) -> str | None:
    """The customer key of an address (None for no usable address)."""
    if rule.normalize_address(address) is None:
        return None
    secret = customer_secret(session, tenant_id, create=create)
    if secret is None:
        return None
    return rule.customer_key(tenant_id=tenant_id, secret=secret, address=address)


def judge_groups(session: Session, *, tenant_id: str, rows: dict[str, dict[str, Any]],
                 stored: dict[str, dict[str, Any]], now: datetime,
                 extra_keys: Iterable[str] = ()) -> None:
    """Set ``fcr`` on keyed rows and add to ``rows`` (and their old values to ``stored``)
    every stored contact of the touched customers whose value moves.

    A contact's value depends only on the contacts after it, so a batch whose contacts (new
    and old positions) lie in [t0, t1] can only move contacts in [t0 - N, t1], and judging
    those needs contacts up to t1 + N: only that slice of each customer's history is loaded
    (a shared or switchboard number with years of contacts costs one window, not its history).
    ``extra_keys`` re-judges those customers' whole histories (finalising, a new window)."""
    mine = [r for r in rows.values() if r.get("customer_key")]
    mine += [s for cid, s in stored.items() if cid in rows and s.get("customer_key")]
    keys = {fact["customer_key"] for fact in mine} | set(extra_keys)
    if not keys:
        return
    window = rule.window_for(window_days(session, tenant_id))
    low = top = None
    if mine and not extra_keys:
        low, top = min(f["ended_at"] for f in mine) - window, max(f["ended_at"] for f in mine)
    _lock(session, tenant_id, keys)
    neighbours = _load_groups(session, tenant_id, sorted(keys), low=low,
                              high=None if top is None else top + window)
    current = {**neighbours, **rows}
    contacts = [rule.Contact(cid, fact["customer_key"], fact["inquiry"], fact["ended_at"])
                for cid, fact in current.items() if fact.get("customer_key")]
    values = rule.fcr_values(contacts, window=window, now=now)
    for conversation_id, value in values.items():
        if conversation_id in rows:
            rows[conversation_id]["fcr"] = value
            continue
        neighbour = neighbours[conversation_id]
        in_reach = low is None or low <= neighbour["ended_at"] <= top
        if in_reach and neighbour["fcr"] != value:
            rows[conversation_id] = {**neighbour, "fcr": value}
            stored[conversation_id] = neighbour


def lock_keys(session: Session, tenant_id: str, keys: Iterable[str | None]) -> None:
    """Take the customers' locks before the batch's rows are locked (one lock order: no
    deadlock between a worker holding a row and one holding the customer)."""
    wanted = {key for key in keys if key}
    if wanted:
        _lock(session, tenant_id, wanted)


def _lock(session: Session, tenant_id: str, keys: set[str]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: one writer at a time already (BEGIN IMMEDIATE)
    for number in sorted(_lock_number(tenant_id, key) for key in keys):
        session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def _lock_number(tenant_id: str, key: str) -> int:
    digest = hashlib.sha256(f"fcr\x00{tenant_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _load_groups(session: Session, tenant_id: str, keys: list[str], *, low: datetime | None = None,
                 high: datetime | None = None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    locking = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(keys), _CHUNK):
        query = select(_facts).where(_facts.c.tenant_id == tenant_id,
                                     _facts.c.customer_key.in_(keys[start:start + _CHUNK]))
        if low is not None and high is not None:
            query = query.where(_facts.c.ended_at >= low, _facts.c.ended_at <= high)
        if locking:
            query = query.with_for_update()
        found.update((row.conversation_id, dict(row._mapping)) for row in session.execute(query))
    return found


def rejudge(session: Session, *, tenant_id: str, keys: Iterable[str], now: datetime | None = None) -> int:
    """Judge these customers' contacts again and store what moved. Returns facts changed."""
    from extension.analytics import facts as analytics

    rows: dict[str, dict[str, Any]] = {}
    stored: dict[str, dict[str, Any]] = {}
    judge_groups(session, tenant_id=tenant_id, rows=rows, stored=stored, now=now or utcnow(),
                 extra_keys=keys)
    analytics.store_rows(session, tenant_id=tenant_id, rows=rows, stored=stored, counted=set())
    return len(rows)


def finalize(session: Session, *, tenant_id: str, now: datetime | None = None, batch: int = 1000) -> int:
    """Settle the contacts whose window has passed and are still "not yet known"."""
    now = now or utcnow()
    cutoff = now - rule.window_for(window_days(session, tenant_id))
    seen: set[str]
    changed, seen = 0, set()
    while True:
        keys = set(session.scalars(
            select(distinct(_facts.c.customer_key)).where(
                _facts.c.tenant_id == tenant_id, _facts.c.fcr.is_(None),
                _facts.c.customer_key.is_not(None), _facts.c.inquiry.is_not(None),
                _facts.c.ended_at <= cutoff).limit(batch))) - seen
        if not keys:
            return changed
        seen |= keys
        changed += rejudge(session, tenant_id=tenant_id, keys=keys, now=now)


def set_window_days(session: Session, *, tenant_id: str, days: int, now: datetime | None = None) -> int:
    """Change the tenant's window and judge every keyed contact again. Returns facts changed."""
    rule.window_for(days)  # ValueError before anything changes
    _settings_row(session, tenant_id).fcr_window_days = days
    session.flush()
    keys = sorted(session.scalars(select(distinct(_facts.c.customer_key)).where(
        _facts.c.tenant_id == tenant_id, _facts.c.customer_key.is_not(None))))
    return sum(rejudge(session, tenant_id=tenant_id, keys=keys[start:start + _CHUNK], now=now)
               for start in range(0, len(keys), _CHUNK))


@job(queue="default", retries=0, timeout=1800)
def finalize_all(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: settle due contacts of every active tenant, one transaction each."""
    from extension.platform.db import get_db

    db = get_db()
    with db.session() as session:
        tenant_ids = list(session.scalars(select(Tenant.id).where(Tenant.status == "active")))
    result = {}
    for tenant_id in tenant_ids:
        with db.session() as session:
            result[tenant_id] = finalize(session, tenant_id=tenant_id, now=now)
    return result
