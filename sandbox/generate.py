"""Event generator: plan conversations deterministically, then deliver them to Coachwire's
webhook (signed with Standard Webhooks) or through the sandbox's WebSocket push path.

    python -m sandbox generate --target http://127.0.0.1:5000 --tenant <id> \
        --secret whsec_... --rate 5 --duration 60 --seed 7 [--batch N]
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from sandbox.events import random_conversation, webhook_id
from sandbox.ids import stable_id
from sandbox.world import build_world

MAX_BATCH = 500


@dataclass(frozen=True)
class Planned:
    due: float  # seconds after the run starts
    message: dict


def plan(world, *, seed: int, count: int, rate: float, step: float,
         start: datetime) -> list[Planned]:
    """`count` conversations, one every 1/rate seconds, their four messages `step` apart."""
    rng = random.Random(f"{seed}:events")
    planned = []
    for index in range(count):
        offset = index / rate
        messages = random_conversation(world, rng=rng, ended_at=start + timedelta(seconds=offset))
        planned += [Planned(offset + order * step, m) for order, m in enumerate(messages)]
    return sorted(planned, key=lambda p: p.due)


def batches(planned: list[Planned], size: int) -> list[list[Planned]]:
    size = max(1, min(size, MAX_BATCH))
    return [planned[i:i + size] for i in range(0, len(planned), size)]


def signed_request(messages: list[dict], *, secret: str, now: datetime,
                   batched: bool) -> tuple[bytes, dict[str, str]]:
    """Body and Standard Webhooks headers. The id is derived from the content, so sending the
    same message (or batch) again is recognisably the same delivery."""
    payload = {"events": messages} if batched else messages[0]
    body = json.dumps(payload, separators=(",", ":"))
    msg_id = webhook_id(messages[0]) if not batched else "msg_" + stable_id(
        *[webhook_id(m) for m in messages])
    signature = Webhook(secret).sign(msg_id, now, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature, "content-type": "application/json"}
    return body.encode(), headers


def run(groups: Iterable[list[Planned]], send: Callable[[list[dict]], int], *,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
        progress: Callable[[str], None] = print) -> dict:
    """Send each group when its last message is due; returns counts for the caller."""
    began, sent, failed = clock(), 0, 0
    for group in groups:
        wait = group[-1].due - (clock() - began)
        if wait > 0:
            sleep(wait)
        status = send([p.message for p in group])
        sent, failed = sent + len(group), failed + (status >= 300)
        if status >= 300 or sent % 50 < len(group):
            progress(f"sent {sent} messages, last status {status}, failures {failed}")
    progress(f"done: {sent} messages, {failed} failed requests")
    return {"sent": sent, "failed": failed}


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retrying(attempt: Callable[[], tuple[int, str | None]], *, tries: int = 8, base: float = 0.5,
             cap: float = 30.0, sleep: Callable[[float], None] = time.sleep,
             rng: random.Random | None = None, log: Callable[[str], None] = print) -> int:
    """Send like a real host: a 429, a 5xx or a connection error is retried with capped
    exponential backoff and jitter, honouring Retry-After; never raises. ``attempt`` returns
    (status, Retry-After header or None) and raises OSError-like errors on connection failures.
    The status of the last try is returned (599 when no answer ever came)."""
    rng = rng or random.Random()
    status = 599
    for number in range(1, tries + 1):
        retry_after: str | None = None
        try:
            status, retry_after = attempt()
        except Exception as exc:  # a connection refused, reset or timed out: retry it
            status = 599
            log(f"no answer ({type(exc).__name__}); retrying")
        if status not in RETRY_STATUSES and status != 599:
            return status
        if number == tries:
            break
        delay = min(cap, base * 2 ** (number - 1)) * rng.uniform(0.5, 1.0)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(cap, float(retry_after)))
        sleep(delay)
    return status


def webhook_sender(session, *, target: str, tenant: str, secret: str, batched: bool,
                   sleep: Callable[[float], None] = time.sleep):
    """Post each group signed, retrying like a host; a retry is signed anew (fresh timestamp)
    under the same webhook-id, so the receiver stores it once."""
    url = f"{target.rstrip('/')}/webhooks/{tenant}"

    def send(messages: list[dict]) -> int:
        def attempt() -> tuple[int, str | None]:
            body, headers = signed_request(messages, secret=secret, now=datetime.now(UTC),
                                           batched=batched)
            response = session.post(url, data=body, headers=headers, timeout=10)
            return response.status_code, response.headers.get("Retry-After")
        return retrying(attempt, sleep=sleep)
    return send


def sandbox_sender(session, *, sandbox: str):
    """The WebSocket path: the sandbox publishes to channels subscribed to each topic."""
    url = f"{sandbox.rstrip('/')}/sandbox/control/publish"

    def send(messages: list[dict]) -> int:
        return session.post(url, json={"messages": messages}, timeout=10).status_code
    return send


def main(args) -> int:
    import requests

    world = build_world(seed=args.seed)
    start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
    planned = plan(world, seed=args.seed, count=max(1, int(args.rate * args.duration)),
                   rate=args.rate, step=args.step, start=start)
    if args.dry_run:
        for item in planned:
            print(json.dumps(item.message, sort_keys=True))
        return 0
    session = requests.Session()
    if args.via == "websocket":
        send = sandbox_sender(session, sandbox=args.sandbox)
    else:
        send = webhook_sender(session, target=args.target, tenant=args.tenant,
                              secret=args.secret, batched=args.batch > 1)
        if args.sandbox:  # let the sandbox answer STA lookups for these conversations
            _register(session, args.sandbox, planned)
    result = run(batches(planned, args.batch), send)
    return 1 if result["failed"] else 0


def _register(session, sandbox: str, planned: list[Planned]) -> None:
    url = f"{sandbox.rstrip('/')}/sandbox/control/conversations"
    session.post(url, json={"messages": [p.message for p in planned]}, timeout=30)
