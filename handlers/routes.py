"""Dispatch a normalized event to the handlers its capabilities registered (each capability's
``events.register`` adds its routes to the app's router in ``init_app``)."""

from __future__ import annotations

from typing import Any

from flask import current_app


def handle(event: Any, context: Any) -> bool:
    """Run the event's handlers; False when nothing handles its type (the row is `ignored`)."""
    found = current_app.extensions["coachwire.router"].handlers_for(event)
    for handler in found:
        handler(event, context)
    return bool(found)
