"""Workforce management: where an agent belongs, published schedules and forecasts.

Several WFM answers are asynchronous: the body carries the result inline, or a `downloadUrl`
to a pre-signed document holding it, or (status Processing) nothing yet, the result arriving
later on a notification topic. `_resolve` folds the first two into `result`; `_settled` asks
again while the answer is Processing (a bounded wait) and then raises WfmPending (transient).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from connectors.errors import Transient
from connectors.genesys.body import compact, query, wire
from connectors.http import Transport

BU = "/api/v2/workforcemanagement/businessunits"
# GET .../businessunits/{id} expand values (reference enum) for the week's start day and zone
WEEK_EXPANDS = ("settings.startDayOfWeek", "settings.timeZone")
PROCESSING_WAITS = (1.0, 2.0, 4.0)  # then WfmPending: the booking job retries with backoff


class WfmPending(Transient):
    """The host is still computing a WFM result (status Processing) after a bounded wait, or
    it gave up (Error, Canceled): transient, so the caller's job retries later."""


class WfmClient:
    def __init__(self, transport: Transport, *, sleep: Callable[[float], None] = time.sleep,
                 processing_waits: tuple[float, ...] = PROCESSING_WAITS):
        self._t = transport
        self._sleep, self._waits = sleep, processing_waits

    def business_unit_settings(self, business_unit_id: str) -> dict[str, Any]:
        """The BU's week rules: {startDayOfWeek (Sunday..Saturday), timeZone (IANA)}. Week ids
        (weekId, weekDateId) must be the first day of a week by these rules."""
        path = f"{BU}/{business_unit_id}"
        answer = self._t.request("GET", path, params=query(expand=list(WEEK_EXPANDS))) or {}
        return answer.get("settings") or {}

    def agent_management_unit(self, agent_id: str) -> dict[str, Any]:
        """AgentManagementUnitReference: {user, managementUnit, businessUnit}."""
        path = f"/api/v2/workforcemanagement/agents/{agent_id}/managementunit"
        return self._t.request("GET", path)

    def list_week_schedules(
        self,
        business_unit_id: str,
        week: date | str,
        *,
        include_only_published: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Schedule metadata for a week (first day yyyy-MM-dd, or "recent"); not the shifts."""
        params = query(includeOnlyPublished=include_only_published)
        path = f"{BU}/{business_unit_id}/weeks/{wire(week)}/schedules"
        return (self._t.request("GET", path, params=params) or {}).get("entities") or []

    def query_agent_schedules(
        self,
        business_unit_id: str,
        week: date | str,
        schedule_id: str,
        *,
        management_unit_id: str,
        user_ids: list[str] | None = None,
        team_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Agents' shifts in one schedule: BuAsyncAgentSchedulesQueryResponse with `result`
        filled from `downloadUrl` when the host chose to send a download instead.
        """
        path = f"{BU}/{business_unit_id}/weeks/{wire(week)}/schedules/{schedule_id}"
        body = compact(managementUnitId=management_unit_id, userIds=user_ids, teamIds=team_ids)
        return self._settled(lambda: self._t.request(
            "POST", f"{path}/agentschedules/query", json=body))

    def _settled(self, ask: Callable[[], Any]) -> dict[str, Any]:
        """An async WFM answer, resolved: a Processing answer carries no result (it would come
        on the v2.workforcemanagement.users.{id}.schedules.query topic, which a worker does
        not hold) and the reference offers no status route for its operationId, so the query
        is asked again after each of the bounded waits, then WfmPending is raised."""
        answer: dict[str, Any] = {}
        for wait in (*self._waits, None):
            answer = dict(ask() or {})
            status = answer.get("status")
            if status in ("Error", "Canceled"):
                raise WfmPending(f"WFM query ended {status}")
            if status != "Processing" or answer.get("result") or answer.get("downloadUrl"):
                return self._resolve(answer)
            if wait is None:
                break
            self._sleep(wait)
        raise WfmPending(f"WFM query still Processing after {sum(self._waits):g} s "
                         f"(operation {answer.get('operationId')})")

    def activity_codes(self, business_unit_id: str) -> list[dict[str, Any]]:
        """BusinessUnitActivityCode entries: shift activities carry only the code id, and the
        code's `category` (OnQueueWork, Break, Meal, ...) is what slot finding needs."""
        path = f"{BU}/{business_unit_id}/activitycodes"
        return (self._t.request("GET", path) or {}).get("entities") or []

    def list_short_term_forecasts(
        self, business_unit_id: str, week: date | str
    ) -> list[dict[str, Any]]:
        path = f"{BU}/{business_unit_id}/weeks/{wire(week)}/shorttermforecasts"
        return (self._t.request("GET", path) or {}).get("entities") or []

    def forecast_data(
        self,
        business_unit_id: str,
        week: date | str,
        forecast_id: str,
        *,
        week_number: int | None = None,
    ) -> dict[str, Any]:
        """The forecast result (BuForecastResult), downloaded when only a URL is returned."""
        path = f"{BU}/{business_unit_id}/weeks/{wire(week)}/shorttermforecasts/{forecast_id}/data"
        answer = self._t.request("GET", path, params=query(weekNumber=week_number))
        return self._resolve(answer).get("result") or {}

    def _resolve(self, answer: Any) -> dict[str, Any]:
        answer = dict(answer or {})
        if answer.get("downloadUrl") and not answer.get("result"):
            answer["result"] = _unwrap(self._t.download(answer["downloadUrl"]))
        return answer


def _unwrap(document: Any) -> Any:
    # The reference does not model the downloaded document; accept the bare result or the
    # response envelope around it ({"result": ...}).
    if isinstance(document, dict) and set(document) <= {"result", "status", "operationId"}:
        return document.get("result", document)
    return document
