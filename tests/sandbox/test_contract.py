"""Every response model the sandbox serves conforms to the official SDK (269) model."""

from datetime import timedelta

import pytest

from tests.sandbox.conftest import NOW
from tests.sandbox.sdk import conforms


def test_conformance_checker_can_fail():
    with pytest.raises(AssertionError):
        conforms({"id": "x", "lengthMinutes": 15}, "CoachingAppointmentResponse")
    with pytest.raises(AssertionError):
        conforms({"status": "Booked"}, "CoachingAppointmentResponse")


def _week(world):
    return sorted(world.weeks.values(), key=lambda w: w.monday)[0]


def _agent(world):
    return world.agents[0]


def _appointment(api, world, **extra):
    body = {"name": "Coaching", "description": "Review calls", "lengthInMinutes": 30,
            "dateStart": "2025-06-12T09:00:00Z", "attendeeIds": [_agent(world).id],
            "facilitatorId": world.supervisor_of(_agent(world).id).id,
            "conversationIds": ["c0ffee00-0000-4000-8000-000000000001"], **extra}
    return api("post", "/coaching/appointments", json=body)


def test_users_groups_queues(api, world):
    agent = _agent(world)
    team = world.teams[0]
    conforms(api("get", "/users?pageSize=5").json, "UserEntityListing")
    conforms(api("get", f"/users/{agent.id}").json, "User")
    conforms(api("get", f"/users/{team.supervisor_id}/directreports").json, "list[User]")
    conforms(api("get", f"/users/{agent.id}/superiors").json, "list[User]")
    conforms(api("get", "/groups").json, "GroupEntityListing")
    conforms(api("get", f"/groups/{team.id}").json, "Group")
    conforms(api("get", f"/groups/{team.id}/members").json, "UserEntityListing")
    conforms(api("get", "/routing/queues").json, "QueueEntityListing")
    conforms(api("get", f"/routing/queues/{world.queues[0].id}").json, "Queue")


def test_wfm(api, world):
    week, bu = _week(world), world.bu_id
    base = f"/workforcemanagement/businessunits/{bu}"
    conforms(api("get", f"/workforcemanagement/agents/{_agent(world).id}/managementunit").json,
             "AgentManagementUnitReference")
    conforms(api("get", "/workforcemanagement/businessunits").json, "BusinessUnitListing")
    conforms(api("get", f"{base}/activitycodes").json, "BusinessUnitActivityCodeListing")
    conforms(api("get", f"{base}/weeks/{week.monday}/schedules").json, "BuScheduleListing")
    query = api("post", f"{base}/weeks/{week.monday}/schedules/{week.schedule_id}"
                "/agentschedules/query", json={"managementUnitId": world.mu_id})
    conforms(query.json, "BuAsyncAgentSchedulesQueryResponse")
    conforms(api("get", f"{base}/weeks/{week.monday}/shorttermforecasts").json,
             "BuShortTermForecastListing")
    data = api("get", f"{base}/weeks/{week.monday}/shorttermforecasts/{week.forecast_id}/data")
    conforms(data.json, "BuForecastResultResponse")


def test_coaching(api, world):
    created = _appointment(api, world, addToSchedule=True)
    assert created.status_code == 200, created.json
    conforms(created.json, "CoachingAppointmentResponse")
    conforms(api("get", f"/coaching/appointments/{created.json['id']}").json,
             "CoachingAppointmentResponse")
    listing = api("get", f"/coaching/appointments?userIds={_agent(world).id}")
    conforms(listing.json, "CoachingAppointmentResponseList")
    interval = f"{(NOW + timedelta(days=1)).isoformat()}/{(NOW + timedelta(days=3)).isoformat()}"
    slots = api("post", "/coaching/scheduleslots/query",
                json={"interval": interval, "lengthInMinutes": 30,
                      "attendeeIds": [_agent(world).id],
                      "facilitatorIds": [world.supervisor_of(_agent(world).id).id]})
    conforms(slots.json, "CoachingSlotsResponse")
    assert slots.json["suggestedSlots"]


def test_recognition_and_sta(api, world, client):
    created = api("post", "/employeeengagement/recognitions",
                  json={"recipientId": _agent(world).id, "type": "ThankYou", "title": "Thanks",
                        "contextType": "Interaction", "contextId": "conv-1"})
    assert created.status_code == 200
    conforms(created.json, "RecognitionBase")
    conforms(api("get", f"/employeeengagement/recognitions/{created.json['id']}").json,
             "Recognition")
    conforms(api("get", "/employeeengagement/recognitions").json, "Recognitions")
    from random import Random

    from sandbox.events import build_conversation
    messages = build_conversation(world, agent_id=_agent(world).id, ended_at=NOW, rng=Random(1))
    client.post("/sandbox/control/conversations", json={"messages": messages})
    cid = messages[0]["eventBody"]["conversationId"]
    conforms(api("get", f"/speechandtextanalytics/conversations/{cid}").json,
             "ConversationMetrics")


def test_notifications(api):
    channel = api("post", "/notifications/channels")
    conforms(channel.json, "Channel")
    conforms(api("get", "/notifications/channels").json, "ChannelEntityListing")
    path = f"/notifications/channels/{channel.json['id']}/subscriptions"
    topics = [{"id": "v2.users.00000000-0000-4000-8000-000000000001.wem.coaching.notification"}]
    conforms(api("post", path, json=topics).json, "ChannelTopicEntityListing")
    conforms(api("put", path, json=topics).json, "ChannelTopicEntityListing")
    conforms(api("get", path).json, "ChannelTopicEntityListing")


def test_errors_are_error_bodies(api):
    response = api("get", "/users/does-not-exist")
    assert response.status_code == 404
    conforms(response.json, "ErrorBody")
    bad = api("post", "/coaching/appointments", json={"name": "x"})
    assert bad.status_code == 400
    conforms(bad.json, "ErrorBody")


def test_an_expand_value_the_users_endpoints_do_not_list_is_refused(api, world):
    agent = _agent(world)
    refused = api("get", f"/users/{agent.id}?expand=manager")
    assert refused.status_code == 400 and "manager" in refused.json["message"]
    conforms(refused.json, "ErrorBody")
    assert api("get", "/users?expand=team,groups").status_code == 200
    user = api("get", f"/users/{agent.id}").json
    assert user["manager"]["id"] == world.supervisor_of(agent.id).id  # no expand needed


def test_generated_events_conform_to_topic_models(world):
    from random import Random

    from sandbox.events import build_conversation
    models = ["UserEndDetailEventTopicUserEndEvent", "AcwDetailEventTopicAfterCallWorkEvent",
              "TranscriptionTopicTranscriptionMessage",
              "V2StaSentimentOverallTopicOverallSentimentMessage"]
    messages = build_conversation(world, agent_id=_agent(world).id, ended_at=NOW, rng=Random(3))
    for message, model in zip(messages, models, strict=True):
        conforms(message["eventBody"], model)


def test_the_users_listing_answers_the_authorization_and_groups_expands(api, world):
    """What the people sync's role mapping reads: UserAuthorization and Group per user."""
    listing = api("get", "/users?expand=team,authorization,groups").json
    conforms(listing, "UserEntityListing")
    by_id = {user["id"]: user for user in listing["entities"]}
    supervisor = world.supervisors[0]
    mine = by_id[supervisor.id]
    conforms(mine["authorization"], "UserAuthorization")
    assert "Supervisor" in {role["name"] for role in mine["authorization"]["roles"]}
    assert [group["id"] for group in mine["groups"]] == [world.team_of(supervisor.id).id]
    plain = api("get", "/users").json["entities"][0]
    assert "authorization" not in plain and "groups" not in plain
