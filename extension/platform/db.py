"""SQLAlchemy engine and sessions, built in init_app (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_begin_immediate(conn) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs and lets two deferred transactions
    # deadlock on the read->write upgrade ("database is locked" at once, no busy wait). Taking
    # the write lock at BEGIN makes writers queue on busy_timeout instead (SQLAlchemy recipe).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    # WAL lets the web process read while the embedded worker writes; busy_timeout turns lock
    # contention into a short wait instead of "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    # hide_parameters: a failing statement's error (and so every log of it) shows the SQL but
    # not the bound values, which carry ids, bodies and other personal data
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # psycopg 3 prepares a statement after 5 executions and PostgreSQL may then keep a generic
    # plan made while the tables were small (sequential scans as they grow: the drain slowed
    # 3-5x within 15k events). Unprepared statements are planned with their parameters.
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                         connect_args={"prepare_threshold": None}, hide_parameters=True)


class Database:
    """Holds the engine and session factory for one app (one per process in practice)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session] | None = None

    def configure(self, url: str, *, info: dict | None = None) -> None:
        """``info`` rides on every session (e.g. the audit keys, so services need no Flask)."""
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info=info or {})

    def init_app(self, app) -> None:
        from extension.platform.crypto import AuditKeys

        settings = app.config["SETTINGS"]
        self.configure(settings.database_url,
                       info={"coachwire.audit_keys": AuditKeys(settings.data_keys)})
        app.extensions["coachwire.db"] = self

    @property
    def is_postgres(self) -> bool:
        return self.engine is not None and self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error, always closes."""
        session = cast("sessionmaker[Session]", self.sessionmaker)()  # set by configure()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def get_db(app=None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["coachwire.db"]
