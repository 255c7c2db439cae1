"""GET /api/v1/interactions: the interaction facts behind a KPI cell, scoped and cursor-paged.

The query lives in :mod:`extension.analytics.drilldown` (the drill-down panel lists the same
rows); its count equals the cell's ``volume`` in /api/v1/metrics.
"""

from __future__ import annotations

from flask import Blueprint

from extension.analytics import drilldown as service
from extension.analytics.api import schemas
from extension.platform.api.plumbing import documented, parse, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import ANALYTICS_READ
from extension.platform.db import get_db

bp = Blueprint("api_drilldown", __name__, url_prefix="/api/v1")
# the documented item (schemas.InteractionItem), not every column the fact table may grow
COLUMNS = tuple(schemas.InteractionItem().fields)


@bp.get("/interactions")
@documented(summary="Drill-down: the interactions behind a KPI cell", query=schemas.InteractionsQuery,
            response=schemas.InteractionsPage)
@require(ANALYTICS_READ)
def interactions():
    """Filters as in /api/v1/metrics (``agent``, ``team``, ``queue``, ``inquiry``, ``channel``),
    and ``null`` for a cell whose value is null (``null=queue,inquiry``: no queue, no wrap-up);
    ``period_start`` with ``period`` (day|week|month|quarter, tenant-local) pins one bucket, and
    ``from``/``to`` narrow it further. Ordered by local day, then conversation id."""
    args = parse(schemas.InteractionsQuery)
    principal = current_principal()
    with get_db().session() as session:
        body = service.list_interactions(session, principal, args, COLUMNS)
    return respond(body)
