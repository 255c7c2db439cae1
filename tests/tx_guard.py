"""Outbound calls never happen inside a database transaction (ARCHITECTURE.md); this makes the
test suite enforce it.

Every SQLAlchemy connection that ran a write (INSERT/UPDATE/DELETE/MERGE, SELECT ... FOR
UPDATE; on SQLite a BEGIN IMMEDIATE, which takes the database-wide write lock) is remembered with
its thread until its transaction commits or rolls back. `install` wraps every way out of the
process the product has: the shared transport (connectors/http.py, `Transport._attempt`: host and
calendar APIs, OAuth tokens), any `requests.Session.send` (outbound webhooks, connectors/webhooks.py,
which do not go through the transport) and `smtplib.SMTP.connect` (mail, connectors/mail.py), so a
call from a thread holding such a transaction is recorded and fails. tests/conftest.py installs
it for every test.
"""

from __future__ import annotations

import re
import smtplib
import threading
import weakref

import pytest
import requests
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
    """Guard every outbound path for one test; returns the list the refused calls are added to."""
    seen: list[str] = []

    def refuse_inside_a_transaction(what: str) -> None:
        if open_write_transactions():
            seen.append(what)
            pytest.fail(f"{what} called inside an open database write transaction", pytrace=False)

    attempt = Transport._attempt

    def guarded_attempt(self, method, url, **kwargs):
        refuse_inside_a_transaction(f"{method} {url.split('?', 1)[0]}")
        return attempt(self, method, url, **kwargs)

    send = requests.Session.send

    def guarded_send(self, request, **kwargs):
        refuse_inside_a_transaction(f"{request.method} {str(request.url).split('?', 1)[0]}")
        return send(self, request, **kwargs)

    connect = smtplib.SMTP.connect

    def guarded_connect(self, host="localhost", port=0, source_address=None):
        refuse_inside_a_transaction(f"SMTP {host}:{port}")
        return connect(self, host, port, source_address)

    monkeypatch.setattr(Transport, "_attempt", guarded_attempt)
    monkeypatch.setattr(requests.Session, "send", guarded_send)
    monkeypatch.setattr(smtplib.SMTP, "connect", guarded_connect)
    return seen
