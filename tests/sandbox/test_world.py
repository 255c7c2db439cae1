"""The seeded world: shape, determinism and well-formed schedules."""

from datetime import UTC, datetime

from sandbox.world import build_world

NOW = datetime(2025, 6, 11, 8, 0, tzinfo=UTC)


def test_same_seed_same_ids_other_seed_other_ids():
    a, b, c = build_world(seed=7, now=NOW), build_world(seed=7, now=NOW), build_world(seed=8,
                                                                                      now=NOW)
    assert sorted(a.people) == sorted(b.people) and sorted(a.people) != sorted(c.people)


def test_three_teams_of_eight_to_twelve_with_a_supervisor_each():
    world = build_world(seed=7, now=NOW)
    assert len(world.teams) == 3 and all(8 <= len(t.agent_ids) <= 12 for t in world.teams)
    assert [s.email for s in world.supervisors] == [f"sup{i}@sandbox.test" for i in (1, 2, 3)]
    assert len(world.queues) == 4 and len(world.weeks) == 2


def test_shifts_are_weekday_contiguous_and_quarter_aligned():
    world = build_world(seed=7, now=NOW)
    for agent in world.agents:
        for shift in world.shifts_of(agent.id):
            assert shift.start.astimezone(world.tz).weekday() < 5
            cursor = shift.start
            for activity in shift.activities:
                assert activity.start == cursor and activity.start.minute % 15 == 0
                cursor = activity.end
            assert cursor == shift.end
            categories = [a.category for a in shift.activities]
            assert categories.count("Break") == 2 and categories.count("Meal") == 1
