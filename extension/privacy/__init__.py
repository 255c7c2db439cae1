"""Privacy: the data map, subject access (export), erasure and retention per data class."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.platform.worker import add_periodic
    from extension.privacy import api, retention
    from extension.privacy.cli import privacy_cli

    app.register_blueprint(api.bp)
    app.cli.add_command(privacy_cli)
    add_periodic(app, retention.apply_all, RETENTION_EVERY_SECONDS)


RETENTION_EVERY_SECONDS = 6 * 3600
