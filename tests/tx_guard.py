"""Outbound calls never happen inside a database transaction (ARCHITECTURE.md); this makes the
test suite enforce it.

Every SQLAlchemy connection that ran a write (INSERT/UPDATE/DELETE/MERGE, SELECT ... FOR
UPDATE; on SQLite a BEGIN IMMEDIATE, which takes the database-wide write lock) is remembered with
its thread until its transaction commits or rolls back. `install` wraps the shared transport
(connectors/http.py, `Transport._attempt`) so a call from a thread holding such a transaction is
recorded and fails. tests/conftest.py installs it for every test.
"""

from __future__ import annotations

import re
import threading
import weakref

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from connectors.http import Transport

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|BEGIN\s+IMMEDIATE)\b"
                    r"|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)
_writing: weakref.WeakKeyDictionary[Connection, int] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _note_write(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if _WRITE.search(statement):
        with _lock:
            _writing[conn] = threading.get_ident()


def _note_end(conn) -> None:
    with _lock:
        _writing.pop(conn, None)


event.listen(Engine, "before_cursor_execute", _note_write)
event.listen(Engine, "commit", _note_end)
event.listen(Engine, "rollback", _note_end)


def open_write_transactions() -> int:
    """How many connections of the calling thread hold an open write transaction."""
    me = threading.get_ident()
    with _lock:
        held = list(_writing.items())
    return sum(1 for conn, owner in held if owner == me and not conn.closed
               and conn.in_transaction())


def install(monkeypatch) -> list[str]:
    """Guard the transport for one test; returns the list the refused calls are added to."""
    seen: list[str] = []
    real = Transport._attempt

    def guarded(self, method, url, **kwargs):
        if open_write_transactions():
            seen.append(f"{method} {url.split('?', 1)[0]}")
            pytest.fail(f"{method} {url} called inside an open database write transaction",
                        pytrace=False)
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(Transport, "_attempt", guarded)
    return seen
