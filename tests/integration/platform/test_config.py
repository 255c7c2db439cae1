"""Settings from the environment: production refuses development secrets and SQLite; malformed
values fail at start-up naming the variable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from extension.platform import config as config_module
from extension.platform.config import DEV_DATA_KEY, DEV_SECRET, ConfigError

PG_URL = "postgresql+psycopg://coachwire@db.example/coachwire"


def production_env(**changes) -> dict:
    env = {"COACHWIRE_ENV": "production", "SECRET_KEY": "s" * 48,
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


def test_development_runs_on_embedded_defaults_without_any_environment():
    settings = config_module.from_env({})
    assert (settings.env, settings.secret_key, settings.data_keys) == (
        "development", DEV_SECRET, (DEV_DATA_KEY,))
    assert settings.is_sqlite and settings.redis_url is None


@pytest.mark.parametrize("name", ["SMTP_PORT", "COACHWIRE_EMBEDDED_THREADS", "COACHWIRE_INBOX_GRACE_SECONDS"])
@pytest.mark.parametrize("raw", ["abc", "5.5", "2x"])
def test_a_malformed_integer_names_its_variable(name, raw):
    with pytest.raises(ConfigError, match=name) as caught:
        config_module.from_env({name: raw})
    assert repr(raw) in str(caught.value)


def test_integers_are_parsed_and_empty_means_default():
    settings = config_module.from_env({"SMTP_PORT": "2525", "COACHWIRE_EMBEDDED_THREADS": ""})
    assert (settings.smtp_port, settings.embedded_worker_threads) == (2525, 1)


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="COACHWIRE_ENV"):
        config_module.from_env({"COACHWIRE_ENV": "prod"})


def test_data_keys_are_a_comma_separated_list_newest_first():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = config_module.from_env({"COACHWIRE_DATA_KEYS": f" {new} , {old},"})
    assert settings.data_keys == (new, old)


def test_the_testing_config_is_never_held_to_production_rules():
    settings = config_module.testing({"DATABASE_URL": "sqlite:////tmp/x.db"})
    assert settings.testing and settings.secret_key == DEV_SECRET
