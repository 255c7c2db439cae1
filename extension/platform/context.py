"""The running application's shared pieces, for services and jobs that must not import Flask:
settings, the secret box, and named extensions. The one place that reads ``current_app``
on their behalf (like ``db.get_db``)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from extension.platform.config import Settings
from extension.platform.crypto import SecretBox


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def secret_box() -> SecretBox:
    return current_app.extensions["coachwire.box"]


def extension(name: str) -> Any:
    """``app.extensions["coachwire.<name>"]``: e.g. ``db``, ``peers``. Not ``queue``: the
    dispatcher has one accessor, ``extension.platform.queue.get_dispatcher``."""
    return current_app.extensions[f"coachwire.{name}"]
