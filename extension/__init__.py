"""Coachwire: the Flask application factory. It only wires (each capability's ``init_app``);
it does no I/O."""

from __future__ import annotations

from importlib import import_module

from flask import Flask
from flask.sessions import SessionInterface

from extension.platform import config as config_module

# One package per capability, lowest first; each registers its blueprints, CLI, periodic jobs.
CAPABILITIES = ("platform", "text", "analytics", "quality", "coaching", "sampling", "privacy")


def create_app(settings: config_module.Settings | None = None) -> Flask:
    settings = settings or config_module.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key,
                      MAX_CONTENT_LENGTH=settings.webhook_max_bytes * 2,
                      TESTING=settings.testing)
    app.session_interface = NoCookieSessions()
    for name in CAPABILITIES:
        import_module(f"extension.{name}").init_app(app)
    import handlers

    handlers.init_app(app)
    return app


def close_app(app: Flask) -> None:
    """Release what ``create_app`` and the app's first requests started: the scheduler thread
    (before the engine goes, or its ticks would reconnect), the inbox writer, the queue and the
    database pool. For tests, scripts and anything that builds an app and is done with it."""
    from extension.platform.queue import get_dispatcher
    from extension.platform.worker import stop_scheduler

    stop_scheduler(app)
    inbox = app.extensions.get("coachwire.inbox")
    if inbox is not None:
        inbox.close()
    get_dispatcher(app).shutdown()
    app.extensions["coachwire.db"].dispose()


def load_models() -> None:
    """Import every capability's tables onto Base.metadata (Alembic, schema checks)."""
    for name in CAPABILITIES:
        import_module(f"extension.{name}.models")


class NoCookieSessions(SessionInterface):
    """Coachwire keeps no cookie sessions: API calls and panels carry bearer tokens. Flask's
    default would still open (and sign-check) a cookie session on every request, webhooks
    included; this answers with Flask's null session, which refuses writes."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None
