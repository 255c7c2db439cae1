"""Users, groups, routing queues and reporting lines (directory data for teams and roles)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.genesys.body import one_of, query
from connectors.http import Transport

USER_STATES = ("active", "inactive", "deleted", "any")
# The expand values GET /api/v2/users and /users/{userId} accept (reference enum); `manager` is
# not one of them: a user's `manager` comes without any expand.
USER_EXPANDS = (
    "routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice",
    "geolocation", "station", "authorization", "lasttokenissued", "authorization.unusedRoles",
    "team", "workPlanBidRanks", "externalContactsSettings", "groups", "customAttributes",
    "profileSkills", "certifications", "locations", "skills", "languages", "languagePreference",
    "employerInfo", "biography", "dateLastLogin", "dateWelcomeSent",
)


def _expands(expand: list[str] | None) -> list[str] | None:
    for value in expand or ():
        one_of(USER_EXPANDS, value, field="expand")
    return expand


class UsersClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def list_users(
        self, *, state: str | None = None, expand: list[str] | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every user of the organisation (GET /api/v2/users), page by page."""
        params = query(
            pageSize=page_size, state=one_of(USER_STATES, state, field="state"),
            expand=_expands(expand),
        )
        return self._t.paginate("/api/v2/users", params)

    def get_user(self, user_id: str, *, expand: list[str] | None = None) -> dict[str, Any]:
        return self._t.request("GET", f"/api/v2/users/{user_id}",
                               params=query(expand=_expands(expand)))

    def direct_reports(self, user_id: str) -> list[dict[str, Any]]:
        """The users who report to `user_id` (a plain list, not a paged listing)."""
        return self._t.request("GET", f"/api/v2/users/{user_id}/directreports") or []

    def list_groups(self, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        return self._t.paginate("/api/v2/groups", {"pageSize": page_size})

    def group_members(self, group_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        return self._t.paginate(f"/api/v2/groups/{group_id}/members", {"pageSize": page_size})

    def list_queues(
        self, *, name: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Routing queues; `name` filters by name (the host supports a trailing * wildcard)."""
        return self._t.paginate("/api/v2/routing/queues", query(pageSize=page_size, name=name))

    def queue_members(self, queue_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        path = f"/api/v2/routing/queues/{queue_id}/members"
        return self._t.paginate(path, {"pageSize": page_size})
