"""The e2e helpers that run a worker process (tests/e2e/conftest.py) exist once, and ``kill``
ends a process's whole group, as a worker's forked scheduler needs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import kill, wait_until

E2E = Path(__file__).resolve().parents[1] / "e2e"
SHARED = {"start_worker", "kill", "wait_until"}


def test_no_e2e_module_defines_its_own_copy_of_the_shared_helpers():
    copies = [f"{path.name}: {node.name}" for path in sorted(E2E.glob("test_*.py"))
              for node in ast.parse(path.read_text()).body
              if isinstance(node, ast.FunctionDef) and node.name in SHARED]
    assert copies == [], copies


def test_kill_ends_the_process_and_what_it_forked(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = ("import pathlib, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n"
              "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    assert wait_until(lambda: pid_file.exists() and pid_file.read_text(), 10, step=0.05)
    child = int(pid_file.read_text())
    kill(parent)
    assert parent.returncode is not None

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        try:  # a zombie waiting for init to reap it counts as dead
            return Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    assert wait_until(gone, 5, step=0.05)
