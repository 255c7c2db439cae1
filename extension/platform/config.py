"""Typed settings read from the environment in one place.

Development runs with no environment at all (SQLite, embedded queue); its keys are generated at
random into the instance folder on first run (mode 0600) and reused later, so a dev database
survives restarts without any key living in the source. Only the ``test`` environment uses the
fixed constants below; every other environment refuses them and weak keys, and production refuses
to start without keys given explicitly.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from cryptography.fernet import Fernet

# Test-only keys (public: they are in the source). Refused in every environment but ``test``.
DEV_SECRET = "dev-only-not-secret"
DEV_DATA_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS0wMDAwMDAwMDAwMDA="
KNOWN_KEYS = frozenset({DEV_SECRET, DEV_DATA_KEY})
ROOT = Path(__file__).resolve().parents[2]
INSTANCE = ROOT / "instance"
KEYS_FILE = "keys.json"
MIN_SECRET_CHARS = 32
# Estimated from the key's own characters: a random 32-character hex key (128 bits) scores ~112
# and at least 90 in 100,000 draws; repeated patterns and tiny alphabets score far lower.
MIN_SECRET_BITS = 88
MIN_SECRET_DISTINCT = 8


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
    instance_path: str = str(INSTANCE)
    database_url: str = f"sqlite:///{ROOT / 'instance' / 'coachwire.db'}"
    redis_url: str | None = None
    secret_key: str = ""  # from_env fills it in; no usable key is a default
    data_keys: tuple[str, ...] = ()
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
    # a host effect (appointment, recognition) that keeps failing transiently is retried with
    # capped exponential backoff for this long, as a host's own sender would, then handed over
    effect_give_up_seconds: int = 24 * 3600
    effect_retry_base_seconds: int = 15
    effect_retry_cap_seconds: int = 90
    sta_grace_seconds: int = 600
    sta_fetch_delay_seconds: int = 180
    peer_snapshot_seconds: int = 300
    log_format: str = "text"  # text | json (one object per line: extension/platform/logs.py)
    metrics_token: str | None = None  # bearer for /metrics; unset: loopback clients only
    audit_verify_seconds: int = 3600
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
    name = env.get("COACHWIRE_ENV", "development")
    instance = env.get("COACHWIRE_INSTANCE_PATH") or str(INSTANCE)
    secret_key = env.get("SECRET_KEY") or None
    data_keys = _csv(env.get("COACHWIRE_DATA_KEYS"))
    if name == "test":
        secret_key, data_keys = secret_key or DEV_SECRET, data_keys or (DEV_DATA_KEY,)
    elif name == "development" and (secret_key is None or not data_keys):
        stored = instance_keys(Path(instance))
        secret_key, data_keys = secret_key or stored["secret_key"], data_keys or stored["data_keys"]
    settings = Settings(
        env=name,
        instance_path=instance,
        database_url=env.get("DATABASE_URL") or Settings.database_url,
        redis_url=env.get("REDIS_URL") or None,
        secret_key=secret_key or "",
        data_keys=data_keys,
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
        effect_give_up_seconds=_int(env, "COACHWIRE_EFFECT_GIVE_UP_SECONDS", 24 * 3600),
        effect_retry_base_seconds=_int(env, "COACHWIRE_EFFECT_RETRY_BASE_SECONDS", 15),
        effect_retry_cap_seconds=_int(env, "COACHWIRE_EFFECT_RETRY_CAP_SECONDS", 90),
        sta_grace_seconds=_int(env, "COACHWIRE_STA_GRACE_SECONDS", 600),
        sta_fetch_delay_seconds=_int(env, "COACHWIRE_STA_FETCH_DELAY_SECONDS", 180),
        peer_snapshot_seconds=_int(env, "COACHWIRE_PEER_SNAPSHOT_SECONDS", 300),
        log_format=env.get("COACHWIRE_LOG_FORMAT") or "text",
        metrics_token=env.get("METRICS_TOKEN") or None,
        audit_verify_seconds=_int(env, "COACHWIRE_AUDIT_VERIFY_SECONDS", 3600),
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
    if settings.log_format not in ("text", "json"):
        raise ConfigError(f"COACHWIRE_LOG_FORMAT must be text or json, not {settings.log_format!r}")
    if settings.env == "test":
        return
    problem = weak_secret(settings.secret_key)
    if problem:
        raise ConfigError(f"SECRET_KEY {problem}; set at least {MIN_SECRET_CHARS} random "
                          "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if not settings.data_keys:
        raise ConfigError("COACHWIRE_DATA_KEYS must hold at least one Fernet key")
    for position, key in enumerate(settings.data_keys, start=1):
        problem = weak_data_key(key)
        if problem:
            raise ConfigError(f"COACHWIRE_DATA_KEYS key #{position} {problem}; generate one with "
                              "python -c 'from cryptography.fernet import Fernet; "
                              "print(Fernet.generate_key().decode())'")
    if settings.env == "production" and settings.is_sqlite:
        raise ConfigError("production needs DATABASE_URL pointing at PostgreSQL")


def _entropy_bits(data: bytes | str) -> float:
    """Length times the Shannon entropy of the key's own symbol frequencies: a rough upper
    bound on how guessable it is, enough to refuse repeated or tiny alphabets."""
    counts, total = Counter(data), len(data)
    return -total * sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0


def weak_secret(secret: str) -> str | None:
    """Why ``secret`` must not sign tokens, or None when it is acceptable."""
    if not secret:
        return "is not set"
    if secret in KNOWN_KEYS:
        return "is a published development key"
    if len(secret) < MIN_SECRET_CHARS:
        return f"is too short ({len(secret)} < {MIN_SECRET_CHARS} characters)"
    if len(set(secret)) < MIN_SECRET_DISTINCT or _entropy_bits(secret) < MIN_SECRET_BITS:
        return "has too little entropy (repeated or few distinct characters)"
    return None


def weak_data_key(key: str) -> str | None:
    """Why ``key`` must not seal secrets, or None when it is a random-looking Fernet key."""
    if key in KNOWN_KEYS:
        return "is a published development key"
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        return "is not a Fernet key (32 url-safe base64-encoded bytes)"
    # 32 random bytes have ~30 distinct values; fewer than 16 means text or a pattern
    if len(set(raw)) < 16:
        return "has too little entropy (not random bytes)"
    return None


def instance_keys(instance: Path) -> dict:
    """Development keys from ``instance/keys.json``, generated (mode 0600) on first run.

    Created atomically (written to a private temporary file, then hard-linked into place), so
    two processes starting together agree on one set of keys; a key file others may read is
    refused rather than used."""
    path = instance / KEYS_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fresh = {"secret_key": secrets.token_urlsafe(48), "data_keys": [Fernet.generate_key().decode()]}
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".keys-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(fresh, handle)
            try:
                os.link(tmp, path)
                print(f"coachwire: generated development keys in {path} (mode 0600); they are "
                      "reused on later runs. Set SECRET_KEY and COACHWIRE_DATA_KEYS outside "
                      "development.", file=sys.stderr, flush=True)
            except FileExistsError:
                pass  # another process won the race: use its keys
        finally:
            os.unlink(tmp)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        stored = json.loads(path.read_text())
        return {"secret_key": str(stored["secret_key"]),
                "data_keys": tuple(str(k) for k in stored["data_keys"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a Coachwire key file ({exc}); move it away to "
                          "generate new development keys") from exc


def require_declared_env(environ: Mapping[str, str] | None = None) -> None:
    """The deployed processes (Procfile: web, worker, listener, release) never guess their
    environment: a missing COACHWIRE_ENV would otherwise run production as development."""
    if not (os.environ if environ is None else environ).get("COACHWIRE_ENV"):
        raise ConfigError("COACHWIRE_ENV is not set: set it to production (or development/test) "
                          "before starting the web, worker, listener or release process")


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
