"""A failing statement's error, as logged, names the statement but never its parameter values
(ids, bodies, tokens): the engine is made with ``hide_parameters=True``."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

SECRET = "s3cret-body-4f1b9c"


def test_a_failing_statements_logged_error_has_no_parameter_values(db, caplog):
    log = logging.getLogger("coachwire.errors")
    with pytest.raises(SQLAlchemyError) as failed, db.engine.connect() as conn:
        try:
            conn.execute(text("SELECT :body AS body FROM no_such_table WHERE id = :id"),
                         {"body": SECRET, "id": 987654321})
        except SQLAlchemyError:
            log.exception("unhandled error")  # what the app's error handler does
            raise
    logged = caplog.text
    assert "no_such_table" in logged  # the error and its statement are still there to read
    assert SECRET not in logged and "987654321" not in logged
    assert SECRET not in str(failed.value) and "hidden due to hide_parameters" in str(failed.value)
