"""Privacy: the data map, subject access (export), erasure and retention per data class."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.privacy import api
    from extension.privacy.cli import privacy_cli

    app.register_blueprint(api.bp)
    app.cli.add_command(privacy_cli)
