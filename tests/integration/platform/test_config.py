"""Settings from the environment: no environment but ``test`` accepts the published or weak
keys; development generates its own into the instance folder; production refuses SQLite and
missing keys; malformed values fail at start-up naming the variable."""

from __future__ import annotations

import base64
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from extension import close_app, create_app
from extension.platform import config as config_module
from extension.platform.auth import tokens
from extension.platform.config import DEV_DATA_KEY, DEV_SECRET, ConfigError
from tests.factories import add_people, add_tenant

ROOT = Path(__file__).resolve().parents[3]

PG_URL = "postgresql+psycopg://coachwire@db.example/coachwire"


def production_env(**changes) -> dict:
    env = {"COACHWIRE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "COACHWIRE_DATA_KEYS": Fernet.generate_key().decode(), "DATABASE_URL": PG_URL}
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def test_production_starts_with_real_secrets_and_postgresql():
    settings = config_module.from_env(production_env())
    assert settings.env == "production" and not settings.is_sqlite


@pytest.mark.parametrize("secret_key", [None, DEV_SECRET, "short-but-not-dev"])
def test_production_refuses_a_missing_dev_or_short_secret_key(secret_key):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config_module.from_env(production_env(SECRET_KEY=secret_key))


@pytest.mark.parametrize("data_keys", [
    None, DEV_DATA_KEY, f"{Fernet.generate_key().decode()},{DEV_DATA_KEY}"])
def test_production_refuses_the_development_data_key_even_as_an_old_key(data_keys):
    with pytest.raises(ConfigError, match="COACHWIRE_DATA_KEYS"):
        config_module.from_env(production_env(COACHWIRE_DATA_KEYS=data_keys))


@pytest.mark.parametrize("database_url", [None, "sqlite:////var/lib/coachwire.db"])
def test_production_refuses_sqlite(database_url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        config_module.from_env(production_env(DATABASE_URL=database_url))


def test_development_runs_on_embedded_defaults_without_any_environment(tmp_path):
    settings = config_module.from_env({"COACHWIRE_INSTANCE_PATH": str(tmp_path)})
    assert settings.env == "development"
    assert settings.is_sqlite and settings.redis_url is None
    assert settings.secret_key not in (DEV_SECRET, "") and DEV_DATA_KEY not in settings.data_keys


@pytest.mark.parametrize("name", ["SMTP_PORT", "COACHWIRE_EMBEDDED_THREADS", "COACHWIRE_INBOX_GRACE_SECONDS"])
@pytest.mark.parametrize("raw", ["abc", "5.5", "2x"])
def test_a_malformed_integer_names_its_variable(name, raw):
    with pytest.raises(ConfigError, match=name) as caught:
        config_module.from_env({name: raw, "COACHWIRE_ENV": "test"})
    assert repr(raw) in str(caught.value)


def test_integers_are_parsed_and_empty_means_default():
    settings = config_module.from_env({"SMTP_PORT": "2525", "COACHWIRE_EMBEDDED_THREADS": "",
                                       "COACHWIRE_ENV": "test"})
    assert (settings.smtp_port, settings.embedded_worker_threads) == (2525, 1)


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="COACHWIRE_ENV"):
        config_module.from_env({"COACHWIRE_ENV": "prod"})


def test_data_keys_are_a_comma_separated_list_newest_first():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = config_module.from_env({"COACHWIRE_DATA_KEYS": f" {new} , {old},",
                                       "SECRET_KEY": secrets.token_urlsafe(48)})
    assert settings.data_keys == (new, old)


def test_the_testing_config_is_never_held_to_production_rules():
    settings = config_module.testing({"DATABASE_URL": "sqlite:////tmp/x.db"})
    assert settings.testing and settings.secret_key == DEV_SECRET


def dev_env(tmp_path, **changes) -> dict:
    env = {"COACHWIRE_ENV": "development", "COACHWIRE_INSTANCE_PATH": str(tmp_path / "instance")}
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def test_development_generates_private_keys_once_and_reuses_them(tmp_path, capsys):
    first = config_module.from_env(dev_env(tmp_path))
    told = capsys.readouterr().err
    assert "generated development keys" in told and str(tmp_path / "instance") in told
    key_file = tmp_path / "instance" / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and len(first.data_keys) == 1
    Fernet(first.data_keys[0])  # a usable Fernet key

    again = config_module.from_env(dev_env(tmp_path))
    assert (again.secret_key, again.data_keys) == (first.secret_key, first.data_keys)
    assert capsys.readouterr().err == ""  # said once, on the run that made them

    other = config_module.from_env(dev_env(tmp_path / "elsewhere"))
    assert other.secret_key != first.secret_key and other.data_keys != first.data_keys


@pytest.mark.parametrize("secret_key", [secrets.token_hex(16), secrets.token_urlsafe(32),
                                        secrets.token_hex(32)])
def test_common_random_secret_keys_are_accepted(tmp_path, secret_key):
    assert config_module.from_env(dev_env(tmp_path, SECRET_KEY=secret_key)).secret_key == secret_key


def test_keys_given_in_the_environment_win_over_the_instance_file(tmp_path):
    secret, key = secrets.token_urlsafe(48), Fernet.generate_key().decode()
    settings = config_module.from_env(dev_env(tmp_path, SECRET_KEY=secret, COACHWIRE_DATA_KEYS=key))
    assert (settings.secret_key, settings.data_keys) == (secret, (key,))
    assert not (tmp_path / "instance" / "keys.json").exists()


def test_a_key_file_others_can_read_is_refused(tmp_path):
    config_module.from_env(dev_env(tmp_path))
    (tmp_path / "instance" / "keys.json").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        config_module.from_env(dev_env(tmp_path))


WEAK_SECRETS = [DEV_SECRET, "short-but-random-Q7x", "s" * 48, "abcd" * 12, "0123456" * 6]


@pytest.mark.parametrize("env_name", ["development", "production"])
@pytest.mark.parametrize("secret_key", WEAK_SECRETS)
def test_published_short_or_low_entropy_secret_keys_are_refused_outside_test(
        tmp_path, env_name, secret_key):
    env = dev_env(tmp_path, SECRET_KEY=secret_key) if env_name == "development" else (
        production_env(SECRET_KEY=secret_key))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config_module.from_env(env)


WEAK_DATA_KEYS = [DEV_DATA_KEY, "not-a-fernet-key", base64.urlsafe_b64encode(b"A" * 32).decode(),
                  f"{Fernet.generate_key().decode()},{DEV_DATA_KEY}"]


@pytest.mark.parametrize("data_keys", WEAK_DATA_KEYS)
def test_published_malformed_or_patterned_data_keys_are_refused_in_development(tmp_path, data_keys):
    with pytest.raises(ConfigError, match="COACHWIRE_DATA_KEYS"):
        config_module.from_env(dev_env(tmp_path, COACHWIRE_DATA_KEYS=data_keys))


def test_the_test_environment_alone_keeps_the_published_keys():
    settings = config_module.from_env({"COACHWIRE_ENV": "test"})
    assert (settings.secret_key, settings.data_keys) == (DEV_SECRET, (DEV_DATA_KEY,))


def test_a_token_forged_with_the_old_constant_is_refused_outside_test(
        tmp_path, database_url, redis_url):
    settings = config_module.from_env(dev_env(tmp_path, DATABASE_URL=database_url,
                                              REDIS_URL=redis_url)).with_overrides(
        embedded_worker_threads=0, queue_namespace=f"cfg-{secrets.token_hex(4)}-")
    app = create_app(settings)
    db = app.extensions["coachwire.db"]
    try:
        add_tenant(db, "forgery")
        add_people(db, "forgery", [("root", "admin", None, None)])
        client = app.test_client()
        honest = tokens.issue(app.config["SECRET_KEY"], tenant_id="forgery", person_id="root",
                              role="admin")
        forged = tokens.issue(DEV_SECRET, tenant_id="forgery", person_id="root", role="admin")
        assert client.get("/api/v1/queues", headers={"Authorization": f"Bearer {honest}"}
                          ).status_code == 200
        answer = client.get("/api/v1/queues", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    finally:
        with db.engine.begin() as conn:
            from extension.platform.models.tenants import Tenant

            conn.execute(Tenant.__table__.delete().where(Tenant.__table__.c.id == "forgery"))
        close_app(app)


@pytest.mark.parametrize("command", [["-c", "import wsgi"],
                                     ["-m", "flask", "--app", "wsgi", "migrate"]])
def test_the_procfile_processes_refuse_to_start_without_coachwire_env(command):
    env = {k: v for k, v in os.environ.items() if k != "COACHWIRE_ENV"}
    done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "COACHWIRE_ENV is not set" in done.stderr


def test_require_declared_env_accepts_any_declared_environment():
    config_module.require_declared_env({"COACHWIRE_ENV": "development"})
    with pytest.raises(ConfigError, match="COACHWIRE_ENV"):
        config_module.require_declared_env({})
