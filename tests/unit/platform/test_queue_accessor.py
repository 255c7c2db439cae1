"""The job dispatcher has one accessor, ``extension.platform.queue.get_dispatcher``: no other
product module reads ``app.extensions["coachwire.queue"]`` or ``context.extension("queue")``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCT = ("extension", "handlers", "connectors")
OTHER_ACCESS = re.compile(r"""extensions\[\s*["']coachwire\.queue["']\s*\]"""
                          r"""|\bextension\(\s*["']queue["']\s*\)""")


def test_only_get_dispatcher_reads_the_dispatcher():
    found = [f"{path.relative_to(ROOT)}:{number}"
             for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if OTHER_ACCESS.search(line)]
    assert all(f.startswith("extension/platform/queue.py:") for f in found), found

