"""What the analytics views share: the request's tenant-local interval and the caller's slice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from extension.analytics.query import Slice
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.problems import Problem
from extension.platform.tenants import tenant_timezone

DEFAULT_DAYS = 30


def local_range(session, principal: Principal, args: dict) -> tuple[date, date]:
    """The request's [from, to] in tenant-local days; default: the last 30 days to today."""
    end = args.get("end") or datetime.now(ZoneInfo(tenant_timezone(session, principal.tenant_id))).date()
    start = args.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Problem(400, "Bad Request", "Invalid interval.",
                      errors=[{"field": "from", "message": "Must not be after 'to'."}])
    return start, end


def scoped_slice(session, principal: Principal, args: dict) -> Slice:
    """The caller's interval restricted to the agents they may see."""
    start, end = local_range(session, principal, args)
    return Slice(tenant_id=principal.tenant_id, start=start, end=end,
                 agent_ids=scope.visible_agent_ids(session, principal))
