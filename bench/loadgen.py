"""Load generators for the ingest bench: wrk over a pool of pre-signed requests, and a paced
(open-loop) Python client for latency at a fixed rate.

Standard Webhooks signatures embed a timestamp (5-minute tolerance) and a webhook-id (the
delivery id: a repeated id is a redelivery, answered 200 and not stored). So every request is
signed in advance with its own webhook-id, just before the run that sends it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from bench.common import BENCH_DIR, log, percentile

LUA = BENCH_DIR / "post_pool.lua"


def wrk_path() -> str | None:
    return shutil.which("wrk")


def ensure_wrk() -> str | None:
    """wrk from Debian (`apt-get install -y wrk`); None means: use the Python client instead."""
    found = wrk_path()
    if found or os.environ.get("BENCH_NO_APT"):
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        log("wrk not found: trying apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    return wrk_path()


# ------------------------------------------------------------------ signed requests


@dataclass(frozen=True)
class Signed:
    headers: dict[str, str]
    body: bytes


def signed_requests(secret: str, bodies: list[bytes], count: int, *, prefix: str,
                    clock=time.time) -> Iterator[Signed]:
    """count requests cycling over bodies, each with its own webhook-id and a fresh signature."""
    hook = Webhook(secret)
    texts = [body.decode() for body in bodies]
    run = uuid.uuid4().hex[:8]
    for i in range(count):
        msg_id = f"{prefix}-{run}-{i}"
        # Whole seconds first: the signer floors the datetime it is given, and a datetime made
        # from x.9999996 rounds to x+1 (microseconds), so the header's int(now) would not be
        # what was signed (about one request in two million got a rightful 401).
        now = int(clock())
        stamp = datetime.fromtimestamp(now, UTC)
        body = bodies[i % len(bodies)]
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(now),
                   "webhook-signature": hook.sign(msg_id, stamp, texts[i % len(texts)]),
                   "content-type": "application/json"}
        yield Signed(headers, body)


def raw_request(path: str, signed: Signed) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(signed.body)}"]
    head += [f"{name}: {value}" for name, value in signed.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + signed.body


def write_pool(path: Path, path_on_server: str, requests: Iterable[Signed]) -> int:
    count = 0
    with path.open("wb") as out:
        for signed in requests:
            raw = raw_request(path_on_server, signed)
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    return count


# ------------------------------------------------------------------ wrk


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    wrapped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    method: str = "wrk"
    server_cpu: float = 0.0  # CPU seconds the server's workers used during the run

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / self.requests if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, status: int) -> int:
        return self.statuses.get(str(status), 0)


def run_wrk(url: str, pool: Path, *, seconds: float, connections: int,
            threads: int) -> LoadResult:
    env = {**os.environ, "BENCH_POOL": str(pool), "BENCH_THREADS": str(threads)}
    cmd = [wrk_path() or "wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s",
           "--timeout", "10s", "-s", str(LUA), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60,
                         check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return LoadResult(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                      p50_ms=data["p50_us"] / 1e3, p99_ms=data["p99_us"] / 1e3,
                      statuses=data["statuses"], wrapped=data["wrapped"], errors=data["errors"])


# ------------------------------------------------------------------ Python clients


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: list[float] = []  # from the scheduled send time (no coordinated omission)
        self.service: list[float] = []  # from the actual send time
        self.statuses: dict[str, int] = {}
        self.last_end = 0.0

    def add(self, latency: float, service: float, status: int, end: float) -> None:
        with self.lock:
            self.latency.append(latency)
            self.service.append(service)
            key = str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            self.last_end = max(self.last_end, end)


def _post(conn: http.client.HTTPConnection, path: str, signed: Signed) -> int:
    conn.request("POST", path, body=signed.body, headers=signed.headers)
    response = conn.getresponse()
    response.read()
    return response.status


def paced(url: str, requests: list[Signed], *, rate: float, threads: int = 32) -> LoadResult:
    """Open loop: request i is due at t0 + i/rate whatever happened before (like wrk2 -R).

    Latency is measured from the due time, so a server that falls behind is charged for the
    queueing it causes; p50/p99 from the actual send time are in .errors["service_*"].
    """
    parts = urlsplit(url)
    recorder, counter = _Recorder(), itertools.count()
    t0 = time.perf_counter() + 0.2

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while (i := next(counter)) < len(requests):
            due = t0 + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            start = time.perf_counter()
            try:
                status = _post(conn, parts.path, requests[i])
            except OSError:
                conn.close()
                status = 0
            end = time.perf_counter()
            recorder.add(end - due, end - start, status, end)
        conn.close()

    _join([threading.Thread(target=run, daemon=True) for _ in range(threads)],
          timeout=len(requests) / rate + 60)
    seconds = recorder.last_end - t0
    return LoadResult(
        requests=len(recorder.latency), seconds=seconds,
        p50_ms=percentile(recorder.latency, 50) * 1e3,
        p99_ms=percentile(recorder.latency, 99) * 1e3, statuses=recorder.statuses,
        errors={"service_p50_ms": round(percentile(recorder.service, 50) * 1e3, 2),
                "service_p99_ms": round(percentile(recorder.service, 99) * 1e3, 2)},
        method=f"paced Python client, {threads} keep-alive connections, open loop")


def closed_loop(url: str, requests: list[Signed], *, seconds: float,
                connections: int = 32) -> LoadResult:
    """Fallback when wrk is missing: as many requests as the connections can push (slower
    than wrk, and it competes with the server for the same two cores)."""
    parts = urlsplit(url)
    recorder, counter = _Recorder(), itertools.count()
    t0 = time.perf_counter()
    stop_at = t0 + seconds

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.perf_counter() < stop_at and (i := next(counter)) < len(requests):
            start = time.perf_counter()
            try:
                status = _post(conn, parts.path, requests[i])
            except OSError:
                conn.close()
                status = 0
            end = time.perf_counter()
            recorder.add(end - start, end - start, status, end)
        conn.close()

    _join([threading.Thread(target=run, daemon=True) for _ in range(connections)],
          timeout=seconds + 60)
    return LoadResult(
        requests=len(recorder.latency), seconds=max(recorder.last_end - t0, 1e-9),
        p50_ms=percentile(recorder.latency, 50) * 1e3,
        p99_ms=percentile(recorder.latency, 99) * 1e3, statuses=recorder.statuses,
        method=f"Python closed-loop client ({connections} connections; wrk not installed)")


def _join(workers: list[threading.Thread], *, timeout: float) -> None:
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.1, deadline - time.monotonic()))
