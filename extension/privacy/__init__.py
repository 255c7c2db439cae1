"""Privacy: the data map, subject access (export), erasure and retention per data class."""

from __future__ import annotations


def init_app(app) -> None:
    from extension.platform import people
    from extension.platform.worker import add_periodic
    from extension.privacy import api, panels, retention, subjects
    from extension.privacy.cli import privacy_cli

    people.never_recreate(subjects.erased_people)
    app.register_blueprint(api.bp)
    panels.init_app(app)
    app.cli.add_command(privacy_cli)
    add_periodic(app, retention.apply_all, RETENTION_EVERY_SECONDS)


RETENTION_EVERY_SECONDS = 6 * 3600
