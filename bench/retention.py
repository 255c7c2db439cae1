"""Retention bench: a year of old data removed in batches while webhooks are ingested and drained.

A tenant ``old`` gets a year of history written with SQL (PostgreSQL only): processed inbox rows
with realistic payloads, interactions with transcripts, their text analyses and facts with
customer keys. Then the same ingest (webhook batches through the receiver) and drain
(``drain_inbox``) of a fresh tenant are timed alone (after a warm-up run), while another process
runs the retention job over ``old``, and alone again after it. The report gives retention's rows
removed or pseudonymised per second and the ingest and drain rates alone and during retention.

    python -m bench.retention [--days 365] [--per-day 2000] [--events 6000] [--yield-ratio 0]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time

from sqlalchemy import text

from bench.common import bench_database, bench_redis, create_tenant, dumps, event_stream, log, make_app, sign
from bench.worker import drain, warm_up

LOAD = [
    # processed inbox rows of the past year, one payload each (~1 KiB, with a transcript)
    """INSERT INTO inbox (tenant_id, delivery_id, type, subject, source_topic, occurred_at, payload, status,
         attempts, received_at, next_attempt_at, processed_at)
       SELECT :t, 'd-' || g, 'conversation.transcript', 'c-' || g, 'v2.conversations.x.transcription',
         now() - (g % :days) * interval '1 day', jsonb_build_object('conversation_id', 'c-' || g,
         'phrases', jsonb_build_array(jsonb_build_object('party', 'customer', 'text',
           'My number is +44 20 7946 ' || (g % 10000) || ', the bill is wrong and I want it fixed today'),
           jsonb_build_object('party', 'agent', 'text', 'I am sorry to hear that, let me look at the bill'))),
         'done', 1, now() - (g % :days) * interval '1 day', now(), now() - (g % :days) * interval '1 day'
       FROM generate_series(1, :n) g""",
    """INSERT INTO interactions (tenant_id, conversation_id, agent_id, channel, ended_at, transcript,
         outcomes, updated_at)
       SELECT :t, 'c-' || g, 'agent-' || (g % 500), 'voice', now() - (g % :days) * interval '1 day',
         jsonb_build_array(jsonb_build_object('party', 'customer', 'text', 'the bill is wrong'),
                           jsonb_build_object('party', 'agent', 'text', 'let me look at the bill')),
         '[]'::jsonb, now()
       FROM generate_series(1, :m) g""",
    """INSERT INTO interaction_text_analytics (tenant_id, conversation_id, channel, escalation,
         compliance_miss, prohibited_count, result, analysed_at)
       SELECT :t, 'c-' || g, 'voice', false, false, 0,
         jsonb_build_object('utterances', jsonb_build_array('the bill is wrong', 'let me look')),
         now() - (g % :days) * interval '1 day'
       FROM generate_series(1, :m) g""",
    """INSERT INTO interaction_facts (tenant_id, conversation_id, agent_id, channel, ended_at, local_day,
         t_handle_ms, customer_key, updated_at)
       SELECT :t, 'c-' || g, 'agent-' || (g % 500), 'voice', now() - (g % :days) * interval '1 day',
         (now() - (g % :days) * interval '1 day')::date, 300000, md5('customer-' || (g % 50000)), now()
       FROM generate_series(1, :m) g""",
]


def load_history(app, tenant_id: str, *, days: int, per_day: int) -> dict[str, int]:
    n = days * per_day
    sizes = {"inbox": n, "interactions": n // 3}
    with app.extensions["coachwire.db"].engine.begin() as conn:
        for sql in LOAD:
            conn.execute(text(sql), {"t": tenant_id, "days": days, "n": n, "m": n // 3})
        conn.execute(text("ANALYZE"))
    return sizes


def ingest(app, tenant_id: str, secret: str, count: int, *, seed: int, batch: int = 100) -> float:
    """Events per second through the webhook receiver (test client, batches of ``batch``)."""
    client = app.test_client()
    messages = list(event_stream(seed, count))
    started = time.perf_counter()
    for i in range(0, len(messages), batch):
        body = dumps({"events": messages[i:i + batch]})
        headers = sign(secret, body, f"b-{seed}-{i}")
        response = client.post(f"/webhooks/{tenant_id}", data=body, headers=headers)
        assert response.status_code == 202, response.get_data(as_text=True)
    return len(messages) / (time.perf_counter() - started)


def _retention_child(database_url: str, redis_url: str, tenant_id: str, yield_ratio: float, out) -> None:
    from bench.common import make_app
    from extension.privacy import retention

    retention.MAX_BATCHES = 10**9  # the whole year in one run
    app = make_app(database_url, redis_url)
    out.put("started")
    report = retention.run_tenant(app.extensions["coachwire.db"].session, tenant_id, yield_ratio=yield_ratio)
    out.put(report)


def pipeline(app, database_url: str, tenant_id: str, secret: str, events: int, seed: int) -> dict:
    rate_in = ingest(app, tenant_id, secret, events, seed=seed)
    result = drain(app, database_url, tenant_id)
    return {"ingest_events_per_s": round(rate_in, 1), "drain_events_per_s": round(result.rate, 1),
            "drained": result.statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--yield-ratio", type=float, default=0.0,
                        help="retention's pause per batch, times the batch's duration (the job's default: 1)")
    args = parser.parse_args()
    with bench_database() as database_url, bench_redis() as redis_url:
        app = make_app(database_url, redis_url, sentiment_model="vader")
        create_tenant(app, "old")
        started = time.perf_counter()
        sizes = load_history(app, "old", days=args.days, per_day=args.per_day)
        log(f"loaded {sizes} in {time.perf_counter() - started:.1f} s")
        warm_up(app)
        pipeline(app, database_url, "warm", create_tenant(app, "warm"), args.events // 3, 9)  # caches, JIT
        alone = pipeline(app, database_url, "live-a", create_tenant(app, "live-a"), args.events, 1)
        log(f"pipeline alone: {alone}")
        secret = create_tenant(app, "live-b")
        out: mp.Queue = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=_retention_child,
                                                args=(database_url, redis_url, "old", args.yield_ratio, out))
        child.start()
        assert out.get(timeout=120) == "started"  # past its start-up: deleting from now on
        time.sleep(1)
        during = pipeline(app, database_url, "live-b", secret, args.events, 2)
        during["retention_still_running"] = child.is_alive()
        log(f"pipeline during retention: {during}")
        report = out.get(timeout=3600)
        child.join()
        after = pipeline(app, database_url, "live-c", create_tenant(app, "live-c"), args.events, 3)
        log(f"pipeline after retention: {after}")
        result = {"history": sizes, "alone": alone, "during_retention": during, "after": after,
                  "retention": {"changed": report["changed"], "seconds": report["seconds"],
                                "rows_per_second": report["rows_per_second"],
                                "rules": {f"{x['class']}:{x['table']}": x["changed"]
                                          for x in report["rules"]}},
                  "ratio_ingest": round(during["ingest_events_per_s"] / alone["ingest_events_per_s"], 2),
                  "ratio_drain": round(during["drain_events_per_s"] / alone["drain_events_per_s"], 2)}
        print(json.dumps(result, indent=2))
        from extension import close_app

        close_app(app)


if __name__ == "__main__":
    main()
