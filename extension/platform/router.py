"""A small composable router from domain events to handler functions (after gidgethub.routing).

    router = Router()

    @router.register("evaluation.changed", status="finished")
    def on_finished(event, session): ...

    app_router = Router(coaching.router, quality.router)
    app_router.dispatch(event, session)

A route is an event type plus at most one `data` key/value: enough to say "finished evaluations"
without growing a query language. Composition is live: a sub-router's later registrations are seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[..., Any]


class Routable(Protocol):
    type: str
    data: dict[str, Any]


class Router:
    def __init__(self, *other_routers: Router) -> None:
        self._children = list(other_routers)
        self._by_type: dict[str, list[Handler]] = {}
        self._by_key: dict[str, dict[str, dict[Any, list[Handler]]]] = {}

    def add(self, handler: Handler, event_type: str, **data_detail: Any) -> None:
        """Route `event_type` (optionally only events whose data[key] == value) to `handler`."""
        if len(data_detail) > 1:
            raise TypeError("a route takes at most one data key, got " + ", ".join(data_detail))
        if not data_detail:
            self._by_type.setdefault(event_type, []).append(handler)
            return
        [(key, value)] = data_detail.items()
        by_value = self._by_key.setdefault(event_type, {}).setdefault(key, {})
        by_value.setdefault(value, []).append(handler)

    def register(self, event_type: str, **data_detail: Any) -> Callable[[Handler], Handler]:
        """Decorator form of add(); returns the function unchanged so it stays testable."""
        if len(data_detail) > 1:
            # Checked here too, so a bad route fails where it is written, not when applied.
            raise TypeError("a route takes at most one data key, got " + ", ".join(data_detail))

        def decorator(handler: Handler) -> Handler:
            self.add(handler, event_type, **data_detail)
            return handler

        return decorator

    def routes(self, event_type: str) -> bool:
        """Whether any route (type-only or keyed, here or in a sub-router) takes `event_type`:
        the listener subscribes only topics whose events something handles."""
        return (bool(self._by_type.get(event_type)) or bool(self._by_key.get(event_type))
                or any(child.routes(event_type) for child in self._children))

    def handlers_for(self, event: Routable) -> list[Handler]:
        """Matching handlers: sub-routers' first (in the order given), then this router's own,
        type-only routes before keyed ones, each in registration order."""
        found = [h for child in self._children for h in child.handlers_for(event)]
        found.extend(self._by_type.get(event.type, []))
        for key, by_value in self._by_key.get(event.type, {}).items():
            value = event.data.get(key)
            if _hashable(value):
                found.extend(by_value.get(value, []))
        return found

    def dispatch(self, event: Routable, *args: Any, **kwargs: Any) -> list[Any]:
        """Call every matching handler with (event, *args, **kwargs); return their results.

        No match returns [] rather than raising: the caller decides whether that means "ignored".
        """
        return [handler(event, *args, **kwargs) for handler in self.handlers_for(event)]


def _hashable(value: Any) -> bool:
    # data may hold lists or dicts; those can never equal a registered key value.
    try:
        hash(value)
    except TypeError:
        return False
    return True
