"""The events quality handles: evaluations made in Genesys, mirrored into Coachwire's own."""

from __future__ import annotations

from typing import Any

from extension.platform.router import Router
from extension.quality import host_evaluations


def evaluation_changed(event: Any, context: Any) -> None:
    """A Genesys evaluation changed: record it as due for mirroring (the host GETs happen in
    ``host_evaluations.mirror_due``, after the drain commits, outside any transaction)."""
    host_evaluations.record_due(context.session, tenant_id=context.tenant_id, data=event.data)


def register(router: Router) -> None:
    router.add(evaluation_changed, "evaluation.changed")
