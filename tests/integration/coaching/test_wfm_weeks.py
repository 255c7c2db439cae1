"""WFM weeks are the business unit's: its first day of week, its time zone, multi-week
schedules and forecasts. Against the sandbox host, which is as strict as the host on week ids."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.errors import Invalid
from connectors.genesys import GenesysClient
from extension.coaching import wfm_data
from sandbox.app import create_app as create_sandbox
from sandbox.state import Config
from tests.helpers import serving

NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def host(request):
    config = Config(**getattr(request, "param", {}))
    app = create_sandbox(seed=7, now=NOW, config=config)
    with serving(app) as base:
        client = GenesysClient(api_base=base, login_base=base, client_id="sandbox-client",
                               client_secret="sandbox-secret", tenant_key="wfm-weeks")
        yield client, app.extensions["sandbox"].world


def _activities_in(world, agent_id: str, start: datetime, end: datetime) -> set[datetime]:
    return {a.start for shift in world.shifts_of(agent_id) for a in shift.activities
            if start <= a.start < end}


def test_week_ids_start_on_the_bus_first_day_in_its_zone():
    # Saturday 22:00 in New York is already Sunday in UTC: the week is still the one before
    start = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
    weeks = wfm_data.week_starts(start, start + timedelta(days=8), start_day="Sunday",
                                 time_zone="America/New_York")
    assert weeks == [date(2025, 6, 8), date(2025, 6, 15), date(2025, 6, 22)]
    assert wfm_data.week_starts(start, start, start_day="Monday", time_zone="UTC") == [
        date(2025, 6, 9)]


@pytest.mark.parametrize("host", [{"bu_start_day": "Sunday", "bu_time_zone": "America/New_York",
                                   "schedule_weeks": 2}], indirect=True)
def test_a_sunday_bu_with_two_week_schedules_gives_every_shift_and_staffing(host):
    client, world = host
    agent = world.agents[0].id
    start, end = NOW, NOW + timedelta(days=9)  # Wednesday to the Friday of the next BU week
    with pytest.raises(Invalid):  # a Monday is no week id of a Sunday business unit
        client.wfm.list_week_schedules(world.bu_id, date(2025, 6, 9))

    picture = wfm_data.gather(client, agent_id=agent, start=start, end=end, with_staffing=True)

    found = {a["start"] for a in picture.activities if start <= a["start"] < end}
    expected = _activities_in(world, agent, start, end)
    assert expected and found == expected
    first_weeks = {w.monday for w in world.weeks.values()}
    assert first_weeks == {date(2025, 6, 8), date(2025, 6, 15)}  # Sundays
    # the forecast of both weeks was read (weekNumber 0 and 1), each at its own dates
    starts = [i.start for i in picture.staffing]
    assert len(starts) == len(set(starts))
    week_two = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)  # Sunday 00:00 in New York
    assert min(starts) == datetime(2025, 6, 8, 4, 0, tzinfo=UTC)
    assert any(s >= week_two for s in starts) and any(s < week_two for s in starts)


@pytest.mark.parametrize("host", [{}], indirect=True)
def test_a_monday_bu_still_reads_its_weeks(host):
    client, world = host
    agent = world.agents[1].id
    start, end = NOW, NOW + timedelta(days=7)
    picture = wfm_data.gather(client, agent_id=agent, start=start, end=end, with_staffing=False)
    assert {a["start"] for a in picture.activities if start <= a["start"] < end} == \
        _activities_in(world, agent, start, end)
