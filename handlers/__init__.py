"""The inbound layer: the WSGI webhook receiver, per-source parsers and verifiers, the
normalizer, the durable inbox, the drain, the event router and the notification listener."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.platform.worker import add_periodic
    from handlers.cli import register
    from handlers.inbox import InboxWriter
    from handlers.jobs import sweep
    from handlers.webhooks import WebhookReceiver

    InboxWriter.init_app(app)
    register(app)
    add_periodic(app, sweep, app.config["SETTINGS"].sweep_seconds)
    # The webhook hot path is answered in front of Flask (why: handlers/webhooks.py).
    app.wsgi_app = WebhookReceiver(app, app.wsgi_app)
