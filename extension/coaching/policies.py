"""Per-tenant trigger policies: validated before they are stored, every change audited."""

from __future__ import annotations

from extension.coaching.domain import policies
from extension.platform import audit


def set_policy(session, tenant, document: dict, *, actor: str = "system:cli") -> list:
    """Store `document` as the tenant's policy; returns the validation issues (nothing stored)."""
    issues = policies.validate_policy(document)
    if issues:
        return issues
    previous, tenant.policy = tenant.policy, document
    audit.record(session, tenant_id=tenant.id, actor=actor, action="policy.updated",
                 subject_type="tenant", subject_id=tenant.id,
                 details={"previous": previous, "policy": document})
    return []
