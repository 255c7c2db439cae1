"""Per-tenant phrase lists: read the effective lists, replace or revert one kind (audited), and
the analyser configuration of a tenant, cached per process and keyed by the lists' versions
(and update times, so a tenant re-created with the same id never meets an old entry).

The cache costs one small query (kinds and versions) per call instead of loading and rebuilding
every rule, so the analysis jobs stay fast; any edit or revert bumps the version and so misses.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.text.domain import phrase_lists as lists
from extension.text.domain.analysis import TextConfig
from extension.text.models import TenantPhraseList

_cache: dict[str, tuple[tuple, TextConfig]] = {}
_lock = threading.Lock()


def check_kind(kind: str) -> str:
    """The kind, or a 404 problem when there is no such kind."""
    if kind not in lists.KINDS:
        raise domain_errors.NotFound(f"No phrase list kind {kind!r}; kinds are {', '.join(lists.KINDS)}.")
    return kind


def _rows(session: Session, tenant_id: str) -> dict[str, TenantPhraseList]:
    found = session.scalars(select(TenantPhraseList).where(TenantPhraseList.tenant_id == tenant_id))
    return {row.kind: row for row in found}


def _kind_json(kind: str, row: TenantPhraseList | None) -> dict[str, Any]:
    rules = row.rules if row is not None else None
    custom = rules is not None
    return {"kind": kind, "source": "tenant" if custom else "default",
            "rules": list(rules) if rules is not None else lists.defaults_as_dicts(kind),
            "version": row.version if row is not None else 0,
            "updated_by": row.updated_by if row is not None else None,
            "updated_at": row.updated_at if row is not None else None}


def effective(session: Session, tenant_id: str) -> dict[str, Any]:
    """Every kind as the analyser applies it for this tenant, saying whether it is the tenant's
    own list or the built-in default."""
    rows = _rows(session, tenant_id)
    return {"items": [_kind_json(kind, rows.get(kind)) for kind in lists.KINDS]}


def _summary(rules: list[dict] | None) -> dict[str, Any]:
    if rules is None:
        return {"source": "default"}
    return {"source": "tenant", "rules": len(rules),
            "keys": [r["key"] for r in rules], "active": sum(1 for r in rules if r.get("active", True))}


def _change(session: Session, *, tenant_id: str, kind: str, rules: list[dict] | None,
            actor: str) -> dict[str, Any]:
    row = session.get(TenantPhraseList, (tenant_id, kind))
    before = _summary(row.rules if row is not None else None)
    if row is None:
        row = TenantPhraseList(tenant_id=tenant_id, kind=kind, version=0)
        session.add(row)
    row.rules, row.version, row.updated_by = rules, row.version + 1, actor
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="phrase_lists.updated",
                 subject_type="phrase_list", subject_id=kind,
                 details={"version": row.version, "before": before, "after": _summary(rules)})
    return _kind_json(kind, row)


def replace(session: Session, *, tenant_id: str, kind: str, rules: list[dict], actor: str) -> dict[str, Any]:
    """Replace a kind's rules (the body was validated by the API schema)."""
    return _change(session, tenant_id=tenant_id, kind=check_kind(kind), rules=rules, actor=actor)


def revert(session: Session, *, tenant_id: str, kind: str, actor: str) -> dict[str, Any]:
    """Back to the built-in defaults; a no-op (nothing audited) when the defaults already apply."""
    row = session.get(TenantPhraseList, (tenant_id, check_kind(kind)))
    if row is None or row.rules is None:
        return _kind_json(kind, row)
    return _change(session, tenant_id=tenant_id, kind=kind, rules=None, actor=actor)


def text_config(session: Session, tenant_id: str) -> TextConfig:
    """The analyser configuration of the tenant: its own lists where set, the defaults elsewhere."""
    versions = tuple(session.execute(
        select(TenantPhraseList.kind, TenantPhraseList.version, TenantPhraseList.updated_at)
        .where(TenantPhraseList.tenant_id == tenant_id).order_by(TenantPhraseList.kind)).all())
    with _lock:
        cached = _cache.get(tenant_id)
    if cached is not None and cached[0] == versions:
        return cached[1]
    rows = _rows(session, tenant_id)
    # keyed by kind, i.e. by TextConfig field name (required, prohibited); Any lets ** type-check
    chosen: dict[str, Any] = {kind: lists.active_rules(row.rules) for kind, row in rows.items()
                              if row.rules is not None}
    config = TextConfig(**chosen)
    with _lock:
        _cache[tenant_id] = (versions, config)
    return config


def forget() -> None:
    """Drop the cache (tests)."""
    with _lock:
        _cache.clear()
