"""flask commands of the inbound layer: `listener` (the Procfile's Notification API -> inbox
process, until SIGTERM) and `events replay`."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

events_cli = AppGroup("events", help="Inspect and replay inbox events.")


def _stop_on_signals(stop: threading.Event) -> None:
    # The platform sends SIGTERM on deploy/scale-down; Ctrl-C sends SIGINT in development.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())


@click.command("listener")
@click.option("--rescan", default=60.0, show_default=True,
              help="Seconds between re-reading tenants and their agents")
@click.option("--heartbeat-timeout", default=95.0, show_default=True,
              help="Seconds without any frame before a socket counts as dead")
@click.option("--renew-before", default=3600.0, show_default=True,
              help="Seconds before a channel expires to replace it")
@click.option("--topic", "extra_topics", multiple=True,
              help="Also subscribe this topic (repeatable), e.g. a sandbox wildcard "
                   "v2.detail.events.conversation.*.user.end for demos")
@with_appcontext
def listener_command(rescan, heartbeat_timeout, renew_before, extra_topics):
    """Bridge every active tenant's Notification API channel into the inbox."""
    from handlers.listener import ListenerSettings
    from handlers.listener_pool import ListenerPool

    stop = threading.Event()
    _stop_on_signals(stop)
    settings = ListenerSettings(heartbeat_timeout=heartbeat_timeout,
                                renew_before=timedelta(seconds=renew_before))
    pool = ListenerPool(current_app._get_current_object(), settings=settings,
                        extra_topics=tuple(extra_topics))
    click.echo("listener running; SIGTERM stops it")
    pool.run(stop, rescan_seconds=rescan)
    click.echo("listener stopped")


@events_cli.command("replay")
@click.argument("event_id", required=False, type=int)
@click.option("--failed", is_flag=True, help="Replay every dead-lettered event")
@click.option("--tenant")
def replay(event_id, failed, tenant):
    from handlers.jobs import replay as replay_rows

    if event_id is None and not failed:
        raise click.UsageError("give an event id or --failed")
    count = replay_rows(event_id=event_id, failed=failed, tenant_id=tenant)
    click.echo(f"replayed {count} event(s)")


def register(app) -> None:
    for command in (events_cli, listener_command):
        app.cli.add_command(command)
