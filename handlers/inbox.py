"""The durable inbox: accepted events are committed before the webhook answers 2xx.

Group commit: request threads hand their rows to one writer thread per process, which inserts
everything that queued up while the previous commit was in flight in a single transaction. Under
load, one fsync then covers many requests instead of one each; when idle, a request waits only
for its own commit. Duplicates (same tenant and delivery id) are skipped by the unique key with
ON CONFLICT DO NOTHING, so a redelivery is acknowledged and never processed twice.

On PostgreSQL the writer sends each group as ONE autocommitted statement on a connection of its
own: one round trip per group, where BEGIN, INSERT and COMMIT took three. A single statement is
atomic and, with synchronous_commit on, durable when the server answers, so nothing changes for
the caller. Drain notifications (a Redis round trip each) are coalesced: at most one per
NOTIFY_INTERVAL per process, and always one after the last commit (see _Notifier).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import queue as stdqueue
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

from extension.platform.models._types import utcnow
from extension.platform.models.inbox import InboxEvent

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("coachwire.inbox")
MAX_GROUP_ROWS = 2000
PG_APPLICATION = "coachwire-inbox"
# Under load the writer commits hundreds of groups a second; telling the workers about each one
# cost a Redis round trip per group for a flag that was almost always already set. A tenant's
# drain is now notified at most this often per process, and never later than this after a commit.
NOTIFY_INTERVAL = 0.02


@dataclass(frozen=True)
class AcceptResult:
    accepted: int
    duplicates: int
    ids: tuple[int, ...]


class _Request:
    """One request's rows and the answer the writer hands back. A pre-acquired lock is the
    cheapest one-shot signal there is (a Future builds a Condition per request)."""

    __slots__ = ("_done", "_error", "_result", "rows", "tenant_id")

    def __init__(self, tenant_id: str, rows: list[dict]) -> None:
        self.tenant_id, self.rows = tenant_id, rows
        self._result: AcceptResult | None = None
        self._error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, result: AcceptResult | None = None, error: BaseException | None = None) -> None:
        self._result, self._error = result, error
        self._done.release()

    def wait(self, timeout: float) -> AcceptResult:
        if not self._done.acquire(timeout=timeout):
            raise TimeoutError("the inbox writer did not answer in time")
        if self._error is not None:
            raise self._error
        # resolve() sets a result whenever it sets no error; no runtime check on this path
        return self._result  # type: ignore[return-value]


SQLITE_LOCK_WAIT_MS = 2000
ROW_COLUMNS = ("tenant_id", "delivery_id", "type", "subject", "source_topic", "occurred_at",
               "payload", "status", "attempts", "received_at", "next_attempt_at")


# PostgreSQL: the whole group travels as ONE json parameter and the server unpacks it, instead
# of 11 bound parameters per row that SQLAlchemy and psycopg each process in Python (under the
# GIL that the request threads need). WITH ORDINALITY keeps ids in arrival order.
PG_GROUP_INSERT = (
    "INSERT INTO inbox (tenant_id, delivery_id, type, subject, source_topic, occurred_at, "
    "payload, status, attempts, received_at, next_attempt_at) "
    "SELECT r.tenant_id, r.delivery_id, r.type, r.subject, r.source_topic, r.occurred_at, "
    "r.payload, 'received', 0, r.received_at, r.received_at "
    "FROM ROWS FROM (json_to_recordset(%s::json) AS (tenant_id text, delivery_id text, "
    "type text, subject text, source_topic text, occurred_at timestamptz, payload jsonb, "
    "received_at timestamptz)) WITH ORDINALITY AS r(tenant_id, delivery_id, type, subject, "
    "source_topic, occurred_at, payload, received_at, n) ORDER BY r.n "
    "ON CONFLICT (tenant_id, delivery_id) DO NOTHING RETURNING tenant_id, delivery_id, id"
)
PG_JSON_FIELDS = ("tenant_id", "delivery_id", "type", "subject", "source_topic", "payload")


def _pg_group_json(rows: list[dict]) -> str:
    """The rows as one JSON array for PG_GROUP_INSERT (timestamps as ISO 8601 with offset)."""
    out = []
    for row in rows:
        item = {name: row[name] for name in PG_JSON_FIELDS}
        item["occurred_at"] = _iso(row["occurred_at"])
        item["received_at"] = _iso(row["received_at"])
        out.append(item)
    return json.dumps(out, separators=(",", ":"))


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:  # as UTCDateTime refuses them on the other path
        raise ValueError("naive datetime given to a UTC column")
    return value.isoformat()


CHUNK_SIZES = (500, 256, 128, 64, 32, 16, 8, 4, 2, 1)


def _chunks(rows: list[dict]) -> list[list[dict]]:
    """Split into chunks of a few fixed sizes, so a handful of cached statements cover every
    group size (300 rows = 256 + 32 + 8 + 4)."""
    chunks, start = [], 0
    while start < len(rows):
        size = next(s for s in CHUNK_SIZES if s <= len(rows) - start)
        chunks.append(rows[start:start + size])
        start += size
    return chunks


def delivery_key(delivery_id: str) -> str:
    """Ids over the column width are hashed, not cut, so two long ids cannot collide."""
    if len(delivery_id) <= 200:
        return delivery_id
    return "sha256:" + hashlib.sha256(delivery_id.encode()).hexdigest()


def event_row(tenant_id: str, event) -> dict:
    now = utcnow()
    return {
        "tenant_id": tenant_id, "delivery_id": delivery_key(event.delivery_id), "type": event.type,
        "subject": (event.subject or None) and str(event.subject)[:64],
        "source_topic": (event.source_topic or None) and event.source_topic[:200],
        "occurred_at": event.occurred_at, "payload": event.to_json(), "status": "received",
        "attempts": 0, "received_at": now, "next_attempt_at": now,
    }


_STOP: Any = object()  # queued by close(): the writer finishes what is ahead of it, then exits


class _Notifier:
    """Coalesces the writer's "these tenants have new rows" calls: the first after a quiet
    spell goes out at once (an isolated event waits for nothing), later ones are gathered and
    sent together `interval` after the previous call. Only the writer thread uses it."""

    def __init__(self, send, interval: float, clock=time.monotonic) -> None:
        self.send, self.interval, self.clock = send, interval, clock
        self._dirty: set[str] = set()
        self._last = float("-inf")

    def add(self, tenant_ids) -> None:
        self._dirty.update(tenant_ids)
        self.flush_if_due()

    def due_in(self) -> float | None:
        """Seconds until gathered tenants must be sent; None when there are none."""
        if not self._dirty:
            return None
        return max(0.0, self._last + self.interval - self.clock())

    def flush_if_due(self) -> None:
        self.flush(force=False)

    def flush(self, *, force: bool) -> None:
        if self._dirty and (force or self.clock() >= self._last + self.interval):
            tenant_ids, self._dirty = self._dirty, set()
            self._last = self.clock()
            try:
                self.send(tenant_ids)
            except Exception:  # the sweeper re-enqueues; the events are already safe
                log.exception("enqueue after commit failed")


class InboxWriter:
    def __init__(self, db, *, on_committed=None, group_commit: bool = True,
                 notify_interval: float = NOTIFY_INTERVAL) -> None:
        self.db = db
        self.on_committed = on_committed or (lambda tenant_ids: None)
        self.group_commit = group_commit
        self._pending: stdqueue.SimpleQueue[_Request] = stdqueue.SimpleQueue()  # C, no Condition
        self._thread: threading.Thread | None = None
        self._running = False
        self._start_lock = threading.Lock()
        self._stmts: dict[int, object] = {}
        self._conn = None
        self._pg: psycopg.Connection[Any] | None = None  # the writer thread's own autocommit connection
        self._notifier = _Notifier(lambda ids: self.on_committed(ids), notify_interval)

    @classmethod
    def init_app(cls, app) -> InboxWriter:
        from extension.platform.db import get_db
        from handlers.jobs import notify_tenants

        settings = app.config["SETTINGS"]
        writer = cls(get_db(app), group_commit=settings.group_commit,
                     on_committed=lambda ids: notify_tenants(app, ids),
                     notify_interval=settings.inbox_notify_ms / 1000)
        app.extensions["coachwire.inbox"] = writer
        # A worker process that exits normally sends its gathered notifications first.
        atexit.register(_close_if_alive, weakref.ref(writer))
        return writer

    def accept(self, tenant_id: str, events) -> AcceptResult:
        rows = _dedupe([event_row(tenant_id, event) for event in events])
        if not self.group_commit:
            request = _Request(tenant_id, rows)
            result = _share_out([request], self._insert([request]))[0]
            if result.accepted:
                self.on_committed({tenant_id})
            return result
        request = _Request(tenant_id, rows)
        self._ensure_thread()
        self._pending.put(request)
        return request.wait(timeout=30)

    def _ensure_thread(self) -> None:
        # A flag the writer clears on its way out, not Thread.is_alive(): that costs a lock
        # per request, and a patched one under gevent.
        if self._running:
            return
        with self._start_lock:
            if not self._running:
                self._running = True
                self._thread = threading.Thread(target=self._run, daemon=True, name="inbox-writer")
                self._thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._running = False

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self._pending.get(timeout=self._notifier.due_in())
            except stdqueue.Empty:  # quiet: send what was gathered
                self._notifier.flush_if_due()
                continue
            group: list[_Request] = []
            size, request = 0, first
            while True:
                if request is _STOP:
                    stopping = True
                else:
                    group.append(request)
                    size += len(request.rows)
                if stopping or size >= MAX_GROUP_ROWS:
                    break
                try:
                    request = self._pending.get_nowait()
                except stdqueue.Empty:
                    break
            if group:
                self._commit_group(group)
        self._notifier.flush(force=True)
        self._close_pg()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _commit_group(self, group: list[_Request]) -> None:
        try:
            new = self._insert(group)
        except Exception as exc:
            log.exception("inbox group commit failed for %d requests", len(group))
            for request in group:
                request.resolve(error=exc)
            return
        # Every tenant of the group, duplicates-only ones too: a retried group answers rows its
        # lost attempt committed as duplicates, and a drain that finds nothing costs little.
        # Before the answers: a notification that is due is sent before the 202s go out.
        self._notifier.add(request.tenant_id for request in group)
        for request, result in zip(group, _share_out(group, new), strict=True):
            request.resolve(result)

    def _insert(self, group: list[_Request]) -> dict[tuple[str, str], int]:
        """Insert every row once; return {(tenant, delivery_id): id} for rows that were new."""
        unique: dict[tuple[str, str], dict] = {}
        for request in group:
            for row in request.rows:
                unique.setdefault((row["tenant_id"], row["delivery_id"]), row)
        if not unique:
            return {}
        new: dict[tuple[str, str], int] = {}
        if self.group_commit and self.db.engine.dialect.name == "postgresql":
            return self._insert_pg(list(unique.values()))
        with self._connection() as conn:
            if conn.dialect.name == "postgresql":
                cursor = conn.connection.driver_connection.cursor()
                try:
                    cursor.execute(PG_GROUP_INSERT, (_pg_group_json(list(unique.values())),))
                    new.update(((t, d), i) for t, d, i in cursor.fetchall())
                finally:
                    cursor.close()
                return new
            for chunk in _chunks(list(unique.values())):
                params = {f"{n}_{i}": row[n] for i, row in enumerate(chunk) for n in ROW_COLUMNS}
                new.update(((t, d), i) for t, d, i in conn.execute(self._statement(len(chunk)), params))
        return new

    def _insert_pg(self, rows: list[dict]) -> dict[tuple[str, str], int]:
        """The group as one autocommitted, prepared statement: one round trip. The connection is
        the writer's own (outside the pool). A connection lost mid-group (server restart,
        failover) is replaced and the group sent once more: the unique key makes that safe, and
        rows the lost attempt did commit are then answered as duplicates, never stored twice."""
        import psycopg

        for attempt in (1, 2):
            if self._pg is None or self._pg.closed:
                url = self.db.engine.url.set(drivername="postgresql")
                self._pg = psycopg.connect(url.render_as_string(hide_password=False),
                                           autocommit=True, application_name=PG_APPLICATION)
            try:
                with self._pg.cursor() as cursor:
                    cursor.execute(PG_GROUP_INSERT, (_pg_group_json(rows),), prepare=True)
                    return {(t, d): i for t, d, i in cursor.fetchall()}
            except psycopg.OperationalError:
                self._close_pg()
                if attempt == 2:
                    raise
                log.warning("inbox connection lost; sending the group again on a new one")
            except Exception:
                self._close_pg()
                raise
        raise AssertionError("unreachable")

    def _close_pg(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            except Exception:  # already broken: nothing to release
                log.debug("closing the inbox connection failed", exc_info=True)
            self._pg = None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the writer thread after the requests already queued, send the gathered drain
        notifications, and close its connections (app teardown, tests)."""
        if self._thread is not None and self._thread.is_alive():
            self._pending.put(_STOP)
            self._thread.join(timeout)
        self._thread = None

    def _statement(self, size: int):
        """A multi-row INSERT for `size` rows, built once per size. SQLAlchemy does not cache the
        compiled form of a dialect `insert().on_conflict_do_nothing()` (it has no cache key), and
        compiling it per group cost more than the insert itself; typed text() statements are
        cached here, and valid on both PostgreSQL and SQLite."""
        if size not in self._stmts:
            table = InboxEvent.__table__
            values = ", ".join("(" + ", ".join(f":{n}_{i}" for n in ROW_COLUMNS) + ")"
                               for i in range(size))
            self._stmts[size] = text(
                f"INSERT INTO inbox ({', '.join(ROW_COLUMNS)}) VALUES {values} "  # noqa: S608
                "ON CONFLICT (tenant_id, delivery_id) DO NOTHING "
                "RETURNING tenant_id, delivery_id, id"
            ).bindparams(*[bindparam(f"{n}_{i}", type_=table.c[n].type)
                           for i in range(size) for n in ROW_COLUMNS])
        return self._stmts[size]

    @contextmanager
    def _connection(self):
        """The writer thread keeps one connection (no pool checkout or pre-ping per group) and
        reconnects after an error. Without group commit, request threads insert concurrently,
        so each takes a pooled connection of its own."""
        if not self.group_commit:
            with self.db.engine.begin() as conn:
                yield conn
            return
        if self._conn is None or self._conn.closed:
            self._conn = self.db.engine.connect()
            if self._conn.dialect.name == "sqlite":
                # wait for the worker's write lock less long than a sender waits for its answer:
                # past this the request is answered 503 with Retry-After, nothing stored
                raw = self._conn.connection.dbapi_connection  # no SQLAlchemy begin (no lock taken)
                raw.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        try:
            with self._conn.begin():
                yield self._conn
        except Exception:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
            raise


def _close_if_alive(ref) -> None:
    writer = ref()
    if writer is not None:
        writer.close(timeout=5)


def _share_out(group: list[_Request], new: dict[tuple[str, str], int]) -> list[AcceptResult]:
    """A key that two requests of one group both carried is new for the first one only."""
    taken: set[tuple[str, str]] = set()
    results = []
    for request in group:
        ids = []
        for row in request.rows:
            key = (row["tenant_id"], row["delivery_id"])
            if key in new and key not in taken:
                taken.add(key)
                ids.append(new[key])
        results.append(AcceptResult(len(ids), len(request.rows) - len(ids), tuple(ids)))
    return results


def _dedupe(rows: list[dict]) -> list[dict]:
    seen, unique = set(), []
    for row in rows:
        if row["delivery_id"] not in seen:
            seen.add(row["delivery_id"])
            unique.append(row)
    return unique
