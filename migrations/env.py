"""Alembic environment: DATABASE_URL wins over alembic.ini; batch mode keeps SQLite happy."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from extension import load_models
from extension.platform.db import Base

load_models()  # registers every table on Base.metadata

config = context.config
if os.environ.get("DATABASE_URL") and not config.attributes.get("url_given"):
    config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"].replace("%", "%%"))
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
