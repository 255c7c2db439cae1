"""Logging: human-readable lines by default, one JSON object per line when
``COACHWIRE_LOG_FORMAT=json``, and the request or job context on every record.

The webhook receiver binds the tenant and the delivery id (``webhook-id``) of the request it is
answering; the job runners (the embedded queue and the RQ worker) bind the job id and, when the
job takes a ``tenant_id`` argument, the tenant. A log record factory copies them onto every
record as ``tenant``, ``delivery_id`` and ``job_id`` (``None`` when unknown), so any handler
sees them: the formatter here, pytest's capture, a log shipper's handler.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("text", "json")
FIELDS = ("tenant", "delivery_id", "job_id")
_EMPTY: tuple[str | None, str | None, str | None] = (None, None, None)
# One variable holding the three, in FIELDS order: the webhook hot path sets it once per request.
_context: ContextVar[tuple[str | None, str | None, str | None]] = ContextVar(
    "coachwire_log_context", default=_EMPTY)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"
JSON_FIELDS = ("levelname", "name", "message", *FIELDS)


def current() -> dict[str, str | None]:
    """The context as it stands: ``{"tenant": ..., "delivery_id": ..., "job_id": ...}``."""
    return dict(zip(FIELDS, _context.get(), strict=True))


def tenant() -> str | None:
    return _context.get()[0]


def clear() -> None:
    """Forget any context: a server thread (or greenlet) answering its next request starts clean."""
    _context.set(_EMPTY)


def bind_request(*, tenant: str, delivery_id: str | None) -> None:
    """The receiver knows the tenant (and the sender's delivery id): it says so for its logs."""
    _context.set((tenant, delivery_id[:200] if delivery_id else None, None))


def bind_tenant(tenant_id: str) -> None:
    """A job that learns its tenant from the row it loaded says so (logs, per-tenant metrics)."""
    _, delivery_id, job_id = _context.get()
    _context.set((tenant_id, delivery_id, job_id))


@contextmanager
def scope() -> Iterator[None]:
    """Whatever is bound inside (``bind_tenant``) is forgotten on leaving."""
    token = _context.set(_context.get())
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def job_context(job_id: str | None, func: Callable, args: Sequence[Any]) -> Iterator[None]:
    """Bind the job id and (from a ``tenant_id`` argument) the tenant while a job runs."""
    token = _context.set((_tenant_argument(func, args), None, job_id))
    try:
        yield
    finally:
        _context.reset(token)


def run_job(func: Callable, args: Sequence[Any], *, job_id: str | None) -> Any:
    with job_context(job_id, func, args):
        return func(*args)


def _tenant_argument(func: Callable, args: Sequence[Any]) -> str | None:
    try:
        bound = inspect.signature(func).bind_partial(*args)
    except (TypeError, ValueError):
        return None
    value = bound.arguments.get("tenant_id")
    return value if isinstance(value, str) else None


_factory_installed = False


def install_record_factory() -> None:
    """Every LogRecord carries the context (once per process, whoever builds the record)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.tenant, record.delivery_id, record.job_id = _context.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class TextFormatter(logging.Formatter):
    """The human line, with `` [tenant=... delivery=... job=...]`` when any of them is known."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        known = [(label, getattr(record, name, None)) for label, name in
                 (("tenant", "tenant"), ("delivery", "delivery_id"), ("job", "job_id"))]
        parts = " ".join(f"{label}={value}" for label, value in known if value)
        record.context = f" [{parts}]" if parts else ""
        return super().format(record)


def json_formatter() -> logging.Formatter:
    """python-json-logger: one object per line; context fields are always present (null if
    unknown) so a log pipeline can index them; ``extra=`` fields are added as they come."""
    return JsonFormatter(list(JSON_FIELDS), timestamp="time",  # ISO 8601, UTC
                         rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=[*_RESERVED, "context"])


_RESERVED = [name for name in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
             if name not in FIELDS] + ["message", "asctime"]


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}")
    return json_formatter() if log_format == "json" else TextFormatter()


class _CoachwireHandler(logging.StreamHandler):
    """Marks the handler this module installed, so configuring twice replaces, never doubles."""


def configure(log_format: str = "text", *, stream=None) -> None:
    """Install the record factory and, on the root logger, one stream handler in the chosen
    format. As ``logging.basicConfig`` did before: handlers someone else installed (a test
    runner's capture, a host's agent) are left alone and no handler of ours is added next to them."""
    install_record_factory()
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _CoachwireHandler)]
    if root.handlers and not ours:
        return
    handler = ours[0] if ours else _CoachwireHandler(stream or sys.stderr)
    if stream is not None:
        handler.setStream(stream)
    handler.setFormatter(formatter(log_format))
    if not ours:
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def init_app(app) -> None:
    configure(app.config["SETTINGS"].log_format)
