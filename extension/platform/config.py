"""Typed settings read from the environment in one place.

Development runs with no environment at all (SQLite, embedded queue, throwaway keys); production
refuses to start without real secrets so a forgotten variable cannot ship a guessable key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

DEV_SECRET = "dev-only-not-secret"
# A fixed development Fernet key so a dev database survives restarts; never accepted in production.
DEV_DATA_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS0wMDAwMDAwMDAwMDA="
ROOT = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never at request time."""


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(cast(str, raw))
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'coachwire.db'}"
    redis_url: str | None = None
    secret_key: str = DEV_SECRET
    data_keys: tuple[str, ...] = (DEV_DATA_KEY,)
    public_url: str = "http://127.0.0.1:5000"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "coachwire@localhost"
    smtp_starttls: bool = True
    webhook_max_bytes: int = 1024 * 1024
    batch_limit: int = 500
    embedded_worker_threads: int = 1
    group_commit: bool = True
    inbox_notify_ms: int = 20
    install_token: str | None = None
    queue_namespace: str = ""
    sentiment_model: str = "auto"
    sweep_seconds: int = 15
    inbox_grace_seconds: int = 30
    effect_lease_seconds: int = 120
    sta_grace_seconds: int = 600
    sta_fetch_delay_seconds: int = 180
    peer_snapshot_seconds: int = 300
    heartbeat_seconds: int = 5
    ready_stale_seconds: int = 15
    ready_wait_seconds: int = 10
    ready_backlog_seconds: int = 120
    background: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def testing(self) -> bool:
        return self.env == "test"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


def from_env(env: dict | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    settings = Settings(
        env=env.get("COACHWIRE_ENV", "development"),
        database_url=env.get("DATABASE_URL") or Settings.database_url,
        redis_url=env.get("REDIS_URL") or None,
        secret_key=env.get("SECRET_KEY") or DEV_SECRET,
        data_keys=_csv(env.get("COACHWIRE_DATA_KEYS")) or (DEV_DATA_KEY,),
        public_url=env.get("COACHWIRE_PUBLIC_URL") or Settings.public_url,
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 587),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_from=env.get("SMTP_FROM") or Settings.smtp_from,
        smtp_starttls=env.get("SMTP_STARTTLS", "1") != "0",
        embedded_worker_threads=_int(env, "COACHWIRE_EMBEDDED_THREADS", 1),
        group_commit=env.get("COACHWIRE_GROUP_COMMIT", "1") != "0",
        inbox_notify_ms=_int(env, "COACHWIRE_INBOX_NOTIFY_MS", 20),
        install_token=env.get("COACHWIRE_INSTALL_TOKEN") or None,
        queue_namespace=env.get("COACHWIRE_QUEUE_NAMESPACE", ""),
        sentiment_model=env.get("COACHWIRE_SENTIMENT", "auto"),
        sweep_seconds=_int(env, "COACHWIRE_SWEEP_SECONDS", 15),
        inbox_grace_seconds=_int(env, "COACHWIRE_INBOX_GRACE_SECONDS", 30),
        effect_lease_seconds=_int(env, "COACHWIRE_EFFECT_LEASE_SECONDS", 120),
        sta_grace_seconds=_int(env, "COACHWIRE_STA_GRACE_SECONDS", 600),
        sta_fetch_delay_seconds=_int(env, "COACHWIRE_STA_FETCH_DELAY_SECONDS", 180),
        peer_snapshot_seconds=_int(env, "COACHWIRE_PEER_SNAPSHOT_SECONDS", 300),
        heartbeat_seconds=_int(env, "COACHWIRE_HEARTBEAT_SECONDS", 5),
        ready_stale_seconds=_int(env, "COACHWIRE_READY_STALE_SECONDS", 15),
        ready_wait_seconds=_int(env, "COACHWIRE_READY_WAIT_SECONDS", 10),
        ready_backlog_seconds=_int(env, "COACHWIRE_READY_BACKLOG_SECONDS", 120),
        background=env.get("COACHWIRE_BACKGROUND", "1") != "0",
    )
    check(settings)
    return settings


def check(settings: Settings) -> None:
    if settings.env not in ("development", "test", "production"):
        raise ConfigError(
            f"COACHWIRE_ENV must be development, test or production, not {settings.env!r}")
    if settings.sentiment_model not in ("auto", "vader"):
        raise ConfigError("COACHWIRE_SENTIMENT must be auto or vader")
    if settings.env != "production":
        return
    if settings.secret_key == DEV_SECRET or len(settings.secret_key) < 32:
        raise ConfigError("SECRET_KEY must be set to at least 32 random characters in production")
    if DEV_DATA_KEY in settings.data_keys:
        raise ConfigError("COACHWIRE_DATA_KEYS must hold real Fernet keys in production")
    if settings.is_sqlite:
        raise ConfigError("production needs DATABASE_URL pointing at PostgreSQL")


def testing(env: dict | None = None, **overrides) -> Settings:
    """The test configuration: honours DATABASE_URL/REDIS_URL so CI runs on real engines."""
    env = dict(os.environ if env is None else env)
    # peer snapshots are not reused in tests unless a test asks: data changes between requests;
    # drains are enqueued before each 202, so a test can run the jobs right after its request;
    # the embedded queue runs jobs only when the test drains it (no background thread)
    base = from_env({"COACHWIRE_PEER_SNAPSHOT_SECONDS": "0", "COACHWIRE_INBOX_NOTIFY_MS": "0",
                     "COACHWIRE_STA_FETCH_DELAY_SECONDS": "0", "COACHWIRE_EMBEDDED_THREADS": "0",
                     **env, "COACHWIRE_ENV": "test"})
    return base.with_overrides(**overrides)
