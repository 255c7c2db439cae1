"""`flask sync` against the sandbox host: history into facts, idempotent, resumable, reconcilable."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from extension.analytics import facts as analytics
from extension.analytics.models.facts import InteractionFact
from extension.platform.models.people import Person
from sandbox.analytics import day_conversations, history
from tests.integration.analytics.sync.conftest import NOW, UNTIL, control, cursor, facts, rollups


def _expected(sandbox_app, start: datetime, end: datetime) -> dict[str, dict]:
    """What the host holds: ended conversations of the range, straight from the sandbox world."""
    state = sandbox_app.extensions["sandbox"]
    per_day = sandbox_app.extensions.get("sandbox.analytics")
    found = history(state.world, start, end, per_day=per_day.per_day if per_day else 8, now=NOW)
    return {c["conversationId"]: c for c in found if c.get("conversationEnd")}


def test_sync_stores_every_ended_conversation_and_a_second_run_changes_nothing(cli, db, sandbox,
                                                                                 host_tenant):
    tenant_id = host_tenant[0]
    result = cli("--since", "5d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query")
    assert result.exit_code == 0, result.output
    expected = _expected(sandbox[1], NOW - timedelta(days=5), NOW)
    stored = facts(db, tenant_id)
    assert set(stored) == set(expected) and len(stored) > 30
    for conversation_id, conversation in expected.items():
        agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
        session = agent["sessions"][0]
        metrics = {m["name"]: m["value"] for m in session["metrics"]}
        wrapup = next(s for s in session["segments"] if s["segmentType"] == "wrapup")
        fact = stored[conversation_id]
        assert (fact["agent_id"], fact["team_id"], fact["inquiry"], fact["channel"]) == (
            agent["userId"], agent["teamId"], wrapup["wrapUpCode"],
            {"voice": "voice", "chat": "chat", "email": "email", "message": "message"}[session["mediaType"]])
        assert (fact["t_talk_ms"], fact["t_hold_ms"], fact["t_acw_ms"]) == (
            metrics["tTalk"], metrics.get("tHeld", 0), metrics["tAcw"])
        assert fact["t_handle_ms"] == metrics["tHandle"]
        assert fact["transferred"] is ("nTransferred" in metrics)
        assert fact["ended_at"] == datetime.fromisoformat(wrapup["segmentStart"].replace("Z", "+00:00"))
        anonymous = session.get("ani") == "tel:anonymous"
        assert (fact["customer_key"] is None) is anonymous
        assert fact["customer_key"] is None or "7700" not in fact["customer_key"]
    assert any(f["fcr"] is False for f in stored.values()) and any(f["fcr"] for f in stored.values())
    assert "users" in result.output and f"{len(expected)} new" in result.output
    with db.session() as session:
        assert session.scalar(select(Person.id).where(Person.tenant_id == tenant_id).limit(1))
    assert cursor(db, tenant_id).synced_until <= NOW

    before_facts, before_rollups = facts(db, tenant_id), rollups(db, tenant_id)
    again = cli("--since", "5d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query", "--restart")
    assert again.exit_code == 0, again.output
    assert f"{len(expected)} unchanged" in again.output and "0 new, 0 changed" in again.output
    assert facts(db, tenant_id) == before_facts
    assert rollups(db, tenant_id) == before_rollups
    # without --restart the cursor says there is nothing left to do
    assert "already synced" in cli("--since", "5d", "--until", UNTIL, "--tenant", tenant_id).output


def test_async_jobs_give_the_same_facts_as_the_query(cli, db, sandbox, host_tenant, second_tenant):
    args = ("--since", "15d", "--until", UNTIL, "--no-people", "--poll-seconds", "0", "--page-size", "7")
    jobs = cli(*args, "--tenant", host_tenant[0], "--mode", "jobs")
    assert jobs.exit_code == 0, jobs.output
    assert "jobs" in jobs.output
    query = cli(*args, "--tenant", second_tenant[0], "--mode", "query")
    assert query.exit_code == 0, query.output

    assert _comparable(db, host_tenant[0]) == _comparable(db, second_tenant[0])
    assert len(_comparable(db, host_tenant[0])) == len(_expected(sandbox[1], NOW - timedelta(days=15), NOW))
    # auto picks jobs for a range over a week, and a second run changes nothing
    before, before_rollups = facts(db, host_tenant[0]), rollups(db, host_tenant[0])
    again = cli(*args, "--tenant", host_tenant[0], "--restart")
    assert " jobs " in again.output and "0 new, 0 changed" in again.output
    assert facts(db, host_tenant[0]) == before and rollups(db, host_tenant[0]) == before_rollups


def _comparable(db, tenant_id):
    return {cid: {k: v for k, v in f.items() if k not in ("tenant_id", "updated_at", "customer_key")}
            for cid, f in facts(db, tenant_id).items()}


def test_an_interrupted_query_sync_resumes_at_the_cursor(cli, db, sandbox, host_tenant, second_tenant):
    base, sandbox_app = sandbox
    tenant_id = host_tenant[0]
    args = ("--since", "6d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query", "--no-people",
            "--page-size", "5")
    control(base, failAfter=7)
    stopped = cli(*args)
    assert stopped.exit_code == 1
    assert "sync stopped; run the same command again to resume" in stopped.output
    partial = cursor(db, tenant_id).synced_until
    assert NOW - timedelta(days=6) < partial < NOW
    stored = facts(db, tenant_id)
    assert 0 < len(stored) < len(_expected(sandbox_app, NOW - timedelta(days=6), NOW))
    calls = control(base, failAfter=None)["calls"]
    resumed = cli(*args)
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming at {partial.isoformat()}" in resumed.output
    assert set(facts(db, tenant_id)) == set(_expected(sandbox_app, NOW - timedelta(days=6), NOW))
    # the resumed run asked only for the days after the cursor
    full_run_calls = 6 * 2  # six days of two pages each (8 per day, pages of 5)
    assert control(base)["calls"] - calls < full_run_calls
    # and ends where an uninterrupted run does (FCR included: later contacts re-judged earlier ones)
    clean = cli("--since", "6d", "--until", UNTIL, "--tenant", second_tenant[0], "--mode", "query",
                "--no-people")
    assert clean.exit_code == 0, clean.output
    assert _comparable(db, tenant_id) == _comparable(db, second_tenant[0])


def test_an_interrupted_job_is_continued_not_asked_again(cli, db, sandbox, host_tenant):
    base, sandbox_app = sandbox
    tenant_id = host_tenant[0]
    args = ("--since", "7d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "jobs", "--no-people",
            "--page-size", "10", "--poll-seconds", "0")
    control(base, failAfter=6)  # submit, two polls, three result pages, then failures
    assert cli(*args).exit_code == 1
    interrupted = cursor(db, tenant_id)
    assert interrupted.job_id and interrupted.job_cursor and interrupted.synced_until is None
    jobs_before = control(base, failAfter=None)["jobs"]
    resumed = cli(*args)
    assert resumed.exit_code == 0, resumed.output
    assert control(base)["jobs"] == jobs_before  # the stored job was read on, not submitted again
    assert set(facts(db, tenant_id)) == set(_expected(sandbox_app, NOW - timedelta(days=7), NOW))
    done = cursor(db, tenant_id)
    assert done.job_id is None and done.synced_until == NOW


def test_a_conversation_in_progress_holds_the_cursor_at_its_start(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    state = sandbox[1].extensions["sandbox"]
    day = (NOW - timedelta(days=1)).date()
    first = day_conversations(state.world, day, per_day=8, now=NOW)[0]
    started = datetime.fromisoformat(first["conversationStart"].replace("Z", "+00:00"))
    state.fixed_now = moment = started + timedelta(minutes=1)  # the host's clock: mid-conversation
    in_progress = day_conversations(state.world, day, per_day=8, now=moment)[0]
    assert in_progress["conversationId"] == first["conversationId"] and "conversationEnd" not in in_progress
    result = cli("--since", "2d", "--until", moment.isoformat(), "--tenant", tenant_id, "--mode", "query",
                 "--no-people")
    assert result.exit_code == 0, result.output
    assert cursor(db, tenant_id).synced_until == started
    assert first["conversationId"] not in facts(db, tenant_id)
    # once it has ended, the next run (from the cursor) stores it
    state.fixed_now = NOW
    again = cli("--since", "2d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query", "--no-people")
    assert again.exit_code == 0, again.output
    assert f"resuming at {started.isoformat()}" in again.output
    assert first["conversationId"] in facts(db, tenant_id)


def test_reconcile_lists_differences_and_changes_nothing(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    assert cli("--since", "3d", "--until", UNTIL, "--tenant", tenant_id, "--no-people").exit_code == 0
    stored = sorted(facts(db, tenant_id))
    gone, edited = stored[0], stored[1]
    with db.session() as session:
        analytics.delete_facts(session, tenant_id=tenant_id, conversation_ids=[gone])
        session.execute(update(InteractionFact).where(InteractionFact.tenant_id == tenant_id,
                                                      InteractionFact.conversation_id == edited)
                        .values(t_talk_ms=1))
        analytics.upsert_facts(session, tenant_id=tenant_id, records=[{
            "conversation_id": "only-here", "agent_id": "a", "ended_at": NOW - timedelta(days=1)}])
    before, before_rollups = facts(db, tenant_id), rollups(db, tenant_id)
    before_cursor = cursor(db, tenant_id)
    for args in (("reconcile", "--since", "3d", "--until", UNTIL, "--tenant", tenant_id),
                 ("--since", "3d", "--until", UNTIL, "--tenant", tenant_id, "--reconcile")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert f"missing here:  {gone}" in result.output
        assert "missing there: only-here" in result.output
        assert f"differs:       {edited}: t_talk_ms host=" in result.output and "here=1" in result.output
        assert "1 missing here, 1 missing there, 1 differing" in result.output
    assert facts(db, tenant_id) == before and rollups(db, tenant_id) == before_rollups
    assert cursor(db, tenant_id).synced_until == before_cursor.synced_until
    # after a sync the host and the facts agree again (only the local fact stays "missing there")
    assert cli("--since", "3d", "--until", UNTIL, "--tenant", tenant_id, "--restart",
               "--no-people").exit_code == 0
    clean = cli("reconcile", "--since", "3d", "--until", UNTIL, "--tenant", tenant_id)
    assert "0 missing here, 1 missing there, 0 differing" in clean.output


def test_bad_input_is_refused_and_changes_nothing(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    cases = [
        ((), "give --since"),
        (("--since", "banana"), "neither a span"),
        (("--since", "0d"), "more than zero"),
        (("--since", "2025-06-10", "--until", "2025-06-01"), "--until must be after --since"),
        (("--since", "1d", "--until", "yesterday"), "neither a span"),
        (("--since", "1d", "--tenant", "nope"), "no tenant 'nope'"),
        (("--since", "1d", "--mode", "fast"), "Invalid value for '--mode'"),
        (("reconcile",), "Missing option '--since'"),
        (("fcr", "--window-days", "0"), "Invalid value for '--window-days'"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert facts(db, tenant_id) == {} and cursor(db, tenant_id) is None
    with db.session() as session:
        assert session.scalar(select(Person.id).where(Person.tenant_id == tenant_id)) is None


def test_a_host_failure_is_a_clear_error(cli, db, sandbox, host_tenant):
    control(sandbox[0], failAfter=0)
    result = cli("reconcile", "--since", "1d", "--until", UNTIL, "--tenant", host_tenant[0])
    assert result.exit_code == 1
    assert "reconciliation stopped: the host failed" in result.output
    result = cli("--since", "1d", "--until", UNTIL, "--tenant", host_tenant[0], "--mode", "query")
    assert result.exit_code == 1 and "sync stopped" in result.output
    assert facts(db, host_tenant[0]) == {}


def test_sync_people_still_works(cli, db, sandbox, host_tenant):
    result = cli("people", "--tenant", host_tenant[0])
    assert result.exit_code == 0, result.output
    assert "users" in result.output and "new" in result.output
    with db.session() as session:
        people = session.scalars(select(Person).where(Person.tenant_id == host_tenant[0])).all()
    assert {p.role for p in people} >= {"agent", "supervisor"}
    world = sandbox[1].extensions["sandbox"].world
    for person in people:  # each person's team is their Genesys work team
        team = world.team_of(person.id)
        if team is not None:
            assert person.team_id == team.id, person.id
        else:  # no work team: the manager's reports, or none without a manager
            assert person.team_id == (f"manager:{person.supervisor_id}" if person.supervisor_id else None)
    assert sum(p.team_id is not None for p in people) >= len(people) - 2


def test_without_a_work_team_the_managers_reports_form_a_team():
    from extension.platform.people import team_of

    assert team_of({"id": "u1", "team": {"id": "t-9"}, "manager": {"id": "m1"}}) == "t-9"
    assert team_of({"id": "u1", "manager": {"id": "m1"}}) == "manager:m1"
    assert team_of({"id": "u1"}) is None


def test_fcr_command_sets_the_window_and_rejudges(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    assert cli("--since", "10d", "--until", UNTIL, "--tenant", tenant_id, "--no-people",
               "--mode", "query").exit_code == 0
    week = {cid: f["fcr"] for cid, f in facts(db, tenant_id).items()}
    result = cli("fcr", "--tenant", tenant_id, "--window-days", "1")
    assert result.exit_code == 0, result.output
    assert "FCR window 1 days" in result.output
    day = {cid: f["fcr"] for cid, f in facts(db, tenant_id).items()}
    assert sum(v is False for v in day.values()) < sum(v is False for v in week.values())


def test_an_earlier_range_is_not_taken_for_synced(cli, db, sandbox, host_tenant):
    tenant_id = host_tenant[0]
    assert cli("--since", "2d", "--until", UNTIL, "--tenant", tenant_id, "--no-people").exit_code == 0
    earlier = cli("--since", "2025-06-01", "--until", "2025-06-03", "--tenant", tenant_id, "--no-people")
    assert earlier.exit_code == 0, earlier.output
    assert "already synced" not in earlier.output and "resuming" not in earlier.output
    ended = [f["ended_at"] for f in facts(db, tenant_id).values()]
    assert min(ended) < NOW - timedelta(days=7)
    assert cursor(db, tenant_id).synced_from == datetime.fromisoformat("2025-06-01T00:00:00+00:00")


def test_ctrl_c_keeps_what_was_stored_and_the_next_run_resumes(cli, db, sandbox, host_tenant, monkeypatch):
    from extension.analytics import sync

    tenant_id = host_tenant[0]
    real, calls = sync._store_page, []

    def interrupted_on_the_fourth_page(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "_store_page", interrupted_on_the_fourth_page)
    args = ("--since", "5d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "query", "--no-people")
    stopped = cli(*args)
    assert stopped.exit_code == 130
    assert "interrupted; facts are stored up to" in stopped.output
    stored = cursor(db, tenant_id).synced_until
    assert stored == NOW - timedelta(days=2)  # three daily chunks of one page each were committed
    assert all(f["ended_at"] < stored + timedelta(hours=1) for f in facts(db, tenant_id).values())
    monkeypatch.setattr(sync, "_store_page", real)
    resumed = cli(*args)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming at" in resumed.output
    assert set(facts(db, tenant_id)) == set(_expected(sandbox[1], NOW - timedelta(days=5), NOW))


def test_a_job_export_never_moves_the_cursor_past_the_data_availability_date(cli, db, sandbox,
                                                                            host_tenant):
    base, sandbox_app = sandbox
    tenant_id = host_tenant[0]
    args = ("--since", "8d", "--until", UNTIL, "--tenant", tenant_id, "--mode", "jobs",
            "--no-people", "--poll-seconds", "0")
    control(base, lagMinutes=24 * 60)  # the host has indexed data up to a day ago
    available = NOW - timedelta(days=1)
    assert cli(*args).exit_code == 0
    assert cursor(db, tenant_id).synced_until == available
    late = set(_expected(sandbox_app, available, NOW))
    assert late and not late & set(facts(db, tenant_id))
    # the late data arrives; the next run reads on from the availability date and stores it
    control(base, lagMinutes=0)
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert f"resuming at {available.isoformat()}" in again.output
    assert set(facts(db, tenant_id)) == set(_expected(sandbox_app, NOW - timedelta(days=8), NOW))
    assert cursor(db, tenant_id).synced_until == NOW


def test_reconcile_compares_inside_a_transaction_and_never_asks_the_host(app, db, tenant, monkeypatch):
    """The host pages are fetched first (sync.host_conversations, no transaction open);
    reconcile itself only compares, so a session mid-write may run it."""
    from extension.analytics import sync
    from extension.platform import hosts
    from extension.platform.models.tenants import Tenant

    def no_host(_tenant):
        raise AssertionError("reconcile asked the host")

    monkeypatch.setattr(hosts, "genesys_for", no_host)
    with app.app_context(), db.session() as session:
        row = session.get(Tenant, tenant[0])
        row.name = "Acme, reconciling"  # a write: the transaction holds write locks now
        session.flush()
        analytics.upsert_facts(session, tenant_id=tenant[0], records=[{
            "conversation_id": "only-here", "agent_id": "a", "ended_at": NOW - timedelta(days=1)}])
        report = sync.reconcile(session, row, start=NOW - timedelta(days=3), end=NOW, pages=[[]])
    assert (report.host, report.stored, report.missing_there) == (0, 1, ["only-here"])
