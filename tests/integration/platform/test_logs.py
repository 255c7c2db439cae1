"""COACHWIRE_LOG_FORMAT: human lines by default, one JSON object per line with json; both carry
the tenant, delivery and job context. Run in a fresh interpreter, as `flask`/gunicorn start,
because pytest has already put its own handlers on the root logger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extension.platform import config as config_module

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import logging
from extension import create_app
from extension.platform import logs

app = create_app()

def job(tenant_id, n):
    logging.getLogger("coachwire.jobs").info("inside the job %d", n)

logs.run_job(job, ("acme", 7), job_id="job-42")
logging.getLogger("coachwire.other").warning("outside any job")
"""


def run(tmp_path, **env) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**base, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                                            "COACHWIRE_ENV": "development", **env})
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if "job" in line]


def test_json_format_writes_one_object_per_line_with_the_job_context(tmp_path):
    lines = run(tmp_path, COACHWIRE_LOG_FORMAT="json")
    inside, outside = (json.loads(line) for line in lines)
    assert inside["message"] == "inside the job 7"
    assert (inside["level"], inside["logger"]) == ("INFO", "coachwire.jobs")
    assert (inside["tenant"], inside["job_id"], inside["delivery_id"]) == ("acme", "job-42", None)
    assert inside["time"].endswith("+00:00")
    assert (outside["message"], outside["tenant"], outside["job_id"]) == ("outside any job", None, None)


def test_the_default_is_human_readable_and_names_the_context(tmp_path):
    lines = run(tmp_path, COACHWIRE_LOG_FORMAT="")
    assert len(lines) == 2
    inside, outside = lines
    assert " INFO coachwire.jobs inside the job 7 [tenant=acme job=job-42]" in inside
    assert outside.endswith(" WARNING coachwire.other outside any job")
    with pytest.raises(json.JSONDecodeError):
        json.loads(inside)


def test_an_unknown_log_format_is_refused_at_start_naming_the_setting():
    with pytest.raises(config_module.ConfigError, match="COACHWIRE_LOG_FORMAT"):
        config_module.from_env({"COACHWIRE_LOG_FORMAT": "xml"})
    assert config_module.from_env({"COACHWIRE_LOG_FORMAT": "json"}).log_format == "json"
    assert config_module.from_env({}).log_format == "text"
