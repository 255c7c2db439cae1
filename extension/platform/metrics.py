"""Prometheus metrics at ``/metrics`` (prometheus-client).

Two kinds of numbers:

* **Counters** counted where things happen, in whichever process does them: webhook answers by
  status (the receiver), events drained (the drain job), bookings and recognitions by outcome (the
  effect jobs), host requests by answer code (``connectors.metrics``, in the shared transport).
  Under gunicorn with several workers, or with ``flask worker`` processes beside the web, set
  ``PROMETHEUS_MULTIPROC_DIR`` to one empty directory shared by all of them (prometheus-client's
  multiprocess mode): each process writes its counters there and any process's ``/metrics`` adds
  them all up. Without it, a scrape sees only the answering process's counters.
* **Gauges read at scrape time** by :class:`StateCollector`, from the shared engines, so every
  process gives the same answer: inbox rows per tenant and status and the age of each tenant's
  oldest due row (the database), queue depths (RQ's queues in Redis; without Redis the embedded
  queue of the answering process), and the share of each tenant's host budget in use (the token
  bucket in Redis, or this process's bucket without Redis).

Labels are tenant ids (bounded: tenants are created by operators), statuses and outcomes; never a
person. Who may scrape: with ``METRICS_TOKEN`` set, whoever sends ``Authorization: Bearer
<token>``; without it, loopback clients only (development, a sidecar on the same host).
``flask metrics serve`` answers the same scrape on its own port, for hosts that run workers but
no web process.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from extension.platform import logs
from extension.platform.models._types import utcnow
from extension.platform.models.inbox import InboxEvent
from extension.platform.models.tenants import Tenant
from extension.platform.queue import RQDispatcher, get_dispatcher

log = logging.getLogger("coachwire.metrics")

INBOX_STATUSES = ("received", "done", "ignored", "failed")
QUEUE_NAMES = ("events", "effects", "default")  # the worker's queues (flask worker --queues)
BUDGET_KEY = "genesys:{tenant}"  # the bucket key GenesysClient spends (connectors/genesys/client.py)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

WEBHOOK_ANSWERS = Counter(
    "coachwire_webhook_answers", "Answers of POST /webhooks/<tenant> by HTTP status "
    "(tenant 'unknown' until the tenant is found)", ["tenant", "status"])
EVENTS_DRAINED = Counter(
    "coachwire_events_drained", "Inbox rows handled by committed drain batches", ["tenant"])
BOOKINGS = Counter(
    "coachwire_bookings", "Coaching appointment booking jobs by tenant and outcome "
    "(booked, manual, failed, skipped; retry when the job raised for the queue to retry; "
    "tenant 'unknown' when the job found no row)", ["tenant", "outcome"])
RECOGNITIONS = Counter(
    "coachwire_recognitions", "Host recognition jobs by tenant and outcome (sent, failed, "
    "skipped, retry; tenant 'unknown' when the job found no row)", ["tenant", "outcome"])


# --- counting calls (one line at each call site) -------------------------------------------

_webhook_children: dict[tuple[str, str], Any] = {}


def count_webhook_answers(start_response: Callable) -> Callable:
    """Wrap a WSGI ``start_response`` so the answer's status is counted, labelled with the
    tenant the receiver bound (``logs.bind_request``) once it found the tenant."""

    def counting(status: str, headers: list, exc_info: Any = None) -> Any:
        key = (logs.tenant() or "unknown", status[:3])
        child = _webhook_children.get(key)
        if child is None:  # labels() costs ~7 us; the hot path keeps its children (benign race)
            child = _webhook_children[key] = WEBHOOK_ANSWERS.labels(*key)
        child.inc()
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

    return counting


def count_drained(tenant_id: str, handled: int) -> None:
    if handled:
        EVENTS_DRAINED.labels(tenant=tenant_id).inc(handled)


def outcomes(counter: Counter) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorator for an effect job returning its outcome as a string: counts each outcome, and
    ``retry`` when the job raises (the queue retries it), labelled with the tenant the job bound
    (``logs.bind_tenant``, once it loaded its row; ``unknown`` when it found none)."""

    def wrap(job: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(job)
        def counted(*args: Any, **kwargs: Any) -> str:
            with logs.scope():
                try:
                    outcome = job(*args, **kwargs)
                except Exception:
                    counter.labels(tenant=logs.tenant() or "unknown", outcome="retry").inc()
                    raise
                counter.labels(tenant=logs.tenant() or "unknown", outcome=str(outcome)).inc()
            return outcome

        return counted

    return wrap


# --- state read at scrape time ---------------------------------------------------------------

class StateCollector:
    """Gauges computed when scraped, from the database, the queue and the rate-limit buckets.
    A source that cannot be read is reported as ``coachwire_metrics_source_up{source} 0`` and
    its gauges are left out, so one unreachable engine does not hide the rest."""

    def __init__(self, app) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("coachwire_metrics_source_up",
                               "1 when the source behind a group of gauges could be read",
                               labels=["source"])
        tenant_ids: list[str] = []
        for source, reader in (("database", self._database), ("queue", self._queue),
                               ("budget", self._budget)):
            try:
                families = reader(tenant_ids)
            except Exception as exc:  # a scrape must answer even when one engine is away
                log.warning("metrics: could not read %s (%s)", source, type(exc).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _database(self, tenant_ids: list[str]) -> list[Metric]:
        db = self.app.extensions["coachwire.db"]
        now = utcnow()
        with db.session() as session:
            tenant_ids.extend(session.scalars(
                select(Tenant.id).where(Tenant.status == "active").order_by(Tenant.id)))
            counts = session.execute(
                select(InboxEvent.tenant_id, InboxEvent.status, func.count())
                .group_by(InboxEvent.tenant_id, InboxEvent.status)).all()
            oldest = session.execute(
                select(InboxEvent.tenant_id, func.min(InboxEvent.received_at))
                .where(InboxEvent.status == "received", InboxEvent.next_attempt_at <= now)
                .group_by(InboxEvent.tenant_id)).all()
        by_key = {(tenant, status): count for tenant, status, count in counts}
        tenants = sorted(set(tenant_ids) | {tenant for tenant, _ in by_key})
        rows = GaugeMetricFamily("coachwire_inbox_events",
                                 "Inbox rows per tenant and status (received = waiting or "
                                 "retrying, failed = dead letter)", labels=["tenant", "status"])
        statuses = sorted(set(INBOX_STATUSES) | {status for _, status in by_key})
        for tenant in tenants:
            for status in statuses:
                rows.add_metric([tenant, status], by_key.get((tenant, status), 0))
        ages = {tenant: max(0.0, (now - received).total_seconds()) for tenant, received in oldest}
        age = GaugeMetricFamily("coachwire_inbox_oldest_due_age_seconds",
                                "Seconds since the oldest received row that is due was received "
                                "(0: nothing waiting)", labels=["tenant"])
        for tenant in tenants:
            age.add_metric([tenant], ages.get(tenant, 0.0))
        return [rows, age]

    def _queue(self, _tenant_ids: list[str]) -> list[Metric]:
        dispatcher = get_dispatcher(self.app)
        depth = GaugeMetricFamily("coachwire_queue_depth",
                                  "Jobs waiting in each queue (RQ in Redis; 'embedded' is the "
                                  "in-process queue of the answering process)", labels=["queue"])
        if isinstance(dispatcher, RQDispatcher):
            for name in QUEUE_NAMES:
                depth.add_metric([name], dispatcher.queue(name).count)
        else:
            waiting = getattr(dispatcher, "waiting", None)
            depth.add_metric(["embedded"], waiting() if waiting is not None else 0)
        return [depth]

    def _budget(self, tenant_ids: list[str]) -> list[Metric]:
        from connectors.genesys.client import process_bucket
        from connectors.ratelimit import RedisTokenBucket

        redis = getattr(get_dispatcher(self.app), "redis", None)
        bucket = RedisTokenBucket(redis) if redis is not None else process_bucket()
        used = GaugeMetricFamily("coachwire_host_budget_used_ratio",
                                 "Share of the tenant's host request budget (token bucket) in "
                                 "use: 0 idle, 1 exhausted (calls wait)", labels=["tenant"])
        capacity = float(bucket.spec.capacity)
        for tenant in tenant_ids:
            level = bucket.level(BUDGET_KEY.format(tenant=tenant))
            used.add_metric([tenant], round(max(0.0, 1 - level / capacity), 6))
        return [used]


def scrape_registry(app) -> CollectorRegistry:
    """The registry one scrape reads: every process's counters (multiprocess mode) or this
    process's, plus the state gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(StateCollector(app))
    return registry


# --- the endpoint ----------------------------------------------------------------------------

def _refusal(settings, remote_addr: str | None, authorization: str | None):
    """The problem to answer (401 wrong or missing token, 403 not loopback), or None when this
    client may scrape."""
    from extension.platform.problems import Problem

    if settings.metrics_token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            return None
        return Problem(401, "Unauthorized", "A valid metrics token is required "
                       "(Authorization: Bearer <METRICS_TOKEN>).")
    try:
        if remote_addr and ipaddress.ip_address(remote_addr).is_loopback:
            return None
    except ValueError:
        pass
    return Problem(403, "Forbidden", "Without METRICS_TOKEN, /metrics answers loopback "
                   "clients only; set METRICS_TOKEN to scrape from elsewhere.")


def scrape(app) -> bytes:
    started = time.perf_counter()
    body = generate_latest(scrape_registry(app))
    log.debug("metrics scraped in %.1f ms", (time.perf_counter() - started) * 1000)
    return body


def sidecar(app) -> Callable:
    """A WSGI app answering only scrapes, for a host that runs no web process (RQ workers): any
    path is the metrics, with the same rule on who may scrape as ``/metrics``."""
    from extension.platform.problems import problem_response

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        problem = _refusal(app.config["SETTINGS"], environ.get("REMOTE_ADDR"),
                           environ.get("HTTP_AUTHORIZATION"))
        if problem is not None:
            return problem_response(problem)(environ, start_response)
        body = scrape(app)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                  ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [body]

    return application


def init_app(app) -> None:
    import click
    from flask import Blueprint, Response, request
    from werkzeug.serving import make_server

    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics():
        problem = _refusal(app.config["SETTINGS"], request.remote_addr,
                           request.headers.get("Authorization"))
        if problem is not None:
            raise problem
        return Response(scrape(app), content_type=CONTENT_TYPE_LATEST)

    app.register_blueprint(bp)

    group = click.Group("metrics", help="Prometheus metrics (docs/platform.md).")

    @group.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=9108, show_default=True, type=int)
    def serve(host: str, port: int) -> None:
        """Answer scrapes on HOST:PORT, e.g. beside `flask worker` on a host without the web:
        with the same PROMETHEUS_MULTIPROC_DIR it reports that host's workers' counters."""
        click.echo(f"metrics on http://{host}:{port}/metrics")
        make_server(host, port, sidecar(app), threaded=True).serve_forever()

    app.cli.add_command(group)
