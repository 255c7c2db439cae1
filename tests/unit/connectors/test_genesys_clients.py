import json
from datetime import UTC, date, datetime

import pytest
import responses

from connectors.errors import NotFound

from .conftest import API

M = responses.matchers
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 8, 17, 0, tzinfo=UTC)


def body_of(call):
    return json.loads(call.request.body)


def api_calls(mocked):
    return [c for c in mocked.calls if c.request.url.startswith(API)]


def test_list_users_pages_through_every_user(mocked, genesys):
    mocked.get(
        f"{API}/api/v2/users",
        json={"entities": [{"id": "a"}], "pageNumber": 1, "pageCount": 2},
        match=[M.query_param_matcher({"pageSize": "100", "state": "active"})],
    )
    mocked.get(
        f"{API}/api/v2/users",
        json={"entities": [{"id": "b"}], "pageNumber": 2, "pageCount": 2},
        match=[M.query_param_matcher({"pageSize": "100", "state": "active", "pageNumber": "2"})],
    )
    assert [u["id"] for u in genesys.users.list_users(state="active")] == ["a", "b"]


def test_list_users_rejects_a_state_the_reference_does_not_list(genesys):
    with pytest.raises(ValueError):
        genesys.users.list_users(state="sleeping")


def test_user_expands_are_the_reference_enum_and_manager_is_not_one(genesys):
    from connectors.genesys.users import USER_EXPANDS
    from tests.conftest import REFERENCE

    operations = json.loads((REFERENCE / "genesys-cloud-api.json").read_text())["operations"]
    operations = operations if isinstance(operations, list) else list(operations.values())
    for path in ("/api/v2/users", "/api/v2/users/{userId}"):
        [op] = [o for o in operations if o.get("path") == path and o.get("method") == "GET"]
        [expand] = [p for p in op["queryParams"] if p["name"] == "expand"]
        assert set(USER_EXPANDS) == set(expand["enum"])
    with pytest.raises(ValueError, match="expand"):
        genesys.users.get_user("u1", expand=["manager"])


def test_the_facilitator_is_read_from_the_users_manager_without_an_expand(mocked, genesys):
    from extension.coaching.booking import Facilitator, _facilitator

    mocked.get(f"{API}/api/v2/users/a1", json={"id": "a1", "manager": {"id": "m1"}})
    mocked.get(f"{API}/api/v2/users/m1", json={"id": "m1", "email": "m1@example.com"})
    assert _facilitator(genesys, "a1", Facilitator(None, None)) == Facilitator("m1", "m1@example.com")
    assert all("expand" not in call.request.url for call in api_calls(mocked))


def test_direct_reports_is_a_plain_list(mocked, genesys):
    mocked.get(f"{API}/api/v2/users/boss/directreports", json=[{"id": "a"}, {"id": "b"}])
    assert [u["id"] for u in genesys.users.direct_reports("boss")] == ["a", "b"]


def test_group_members_and_queues(mocked, genesys):
    mocked.get(f"{API}/api/v2/groups/g1/members", json={"entities": [{"id": "m"}]})
    mocked.get(
        f"{API}/api/v2/routing/queues",
        json={"entities": [{"id": "q"}]},
        match=[M.query_param_matcher({"pageSize": "100", "name": "Sales*"})],
    )
    assert list(genesys.users.group_members("g1")) == [{"id": "m"}]
    assert list(genesys.users.list_queues(name="Sales*")) == [{"id": "q"}]


def test_create_appointment_sends_only_given_fields_in_wire_format(mocked, genesys):
    mocked.post(f"{API}/api/v2/coaching/appointments", json={"id": "ap1", "status": "Scheduled"})
    answer = genesys.coaching.create_appointment(
        name="Coaching",
        description="Two flagged calls",
        date_start=T0,
        length_in_minutes=30,
        attendee_ids=["agent"],
        facilitator_id="sup",
        conversation_ids=["c1", "c2"],
        add_to_schedule=True,
    )
    assert answer["id"] == "ap1"
    assert body_of(api_calls(mocked)[0]) == {
        "name": "Coaching",
        "description": "Two flagged calls",
        "dateStart": "2025-03-03T09:00:00.000Z",
        "lengthInMinutes": 30,
        "attendeeIds": ["agent"],
        "facilitatorId": "sup",
        "conversationIds": ["c1", "c2"],
        "addToSchedule": True,
    }


def test_naive_datetimes_are_refused(genesys):
    with pytest.raises(ValueError):
        genesys.coaching.create_appointment(
            name="n",
            description="d",
            date_start=datetime(2025, 1, 1, 9),
            length_in_minutes=15,
            attendee_ids=["a"],
        )


def test_list_appointments_sends_user_ids_and_interval(mocked, genesys):
    mocked.get(f"{API}/api/v2/coaching/appointments", json={"entities": [{"id": "x"}]})
    assert list(genesys.coaching.list_appointments(["a", "b"], start=T0, end=T1)) == [{"id": "x"}]
    sent = api_calls(mocked)[0].request
    assert "userIds=a&userIds=b" in sent.url
    assert "interval=2025-03-03T09%3A00%3A00.000Z%2F2025-03-08T17%3A00%3A00.000Z" in sent.url


def test_query_slots_body(mocked, genesys):
    mocked.post(f"{API}/api/v2/coaching/scheduleslots/query", json={"suggestedSlots": []})
    genesys.coaching.query_slots(
        start=T0, end=T1, length_in_minutes=30, attendee_ids=["a"], facilitator_ids=["s"]
    )
    assert body_of(api_calls(mocked)[0]) == {
        "interval": "2025-03-03T09:00:00.000Z/2025-03-08T17:00:00.000Z",
        "lengthInMinutes": 30,
        "attendeeIds": ["a"],
        "facilitatorIds": ["s"],
    }


def test_get_appointment_not_found_is_typed(mocked, genesys):
    mocked.get(f"{API}/api/v2/coaching/appointments/nope", status=404)
    with pytest.raises(NotFound):
        genesys.coaching.get_appointment("nope")


def test_agent_schedules_inline_result_is_returned(mocked, genesys):
    path = "/api/v2/workforcemanagement/businessunits/bu/weeks/2025-03-03/schedules/s1"
    mocked.post(
        f"{API}{path}/agentschedules/query",
        json={"status": "Complete", "result": {"agentSchedules": [{"shifts": []}]}},
    )
    answer = genesys.wfm.query_agent_schedules(
        "bu", date(2025, 3, 3), "s1", management_unit_id="mu", user_ids=["a"]
    )
    assert answer["result"] == {"agentSchedules": [{"shifts": []}]}
    assert body_of(api_calls(mocked)[0]) == {"managementUnitId": "mu", "userIds": ["a"]}


def test_agent_schedules_download_url_is_fetched_without_our_token(mocked, genesys):
    path = "/api/v2/workforcemanagement/businessunits/bu/weeks/2025-03-03/schedules/s1"
    url = "https://download.example/result.json?sig=abc"
    mocked.post(
        f"{API}{path}/agentschedules/query", json={"status": "Complete", "downloadUrl": url}
    )
    mocked.get(url, json={"agentSchedules": [{"user": {"id": "a"}}]})
    answer = genesys.wfm.query_agent_schedules("bu", "2025-03-03", "s1", management_unit_id="mu")
    assert answer["result"]["agentSchedules"][0]["user"]["id"] == "a"
    assert "Authorization" not in mocked.calls[-1].request.headers


def test_forecast_data_downloads_when_only_a_url_is_given(mocked, genesys):
    base = "/api/v2/workforcemanagement/businessunits/bu/weeks/2025-03-03/shorttermforecasts"
    mocked.get(f"{API}{base}", json={"entities": [{"id": "f1"}]})
    mocked.get(f"{API}{base}/f1/data", json={"downloadUrl": "https://dl.example/f1"})
    mocked.get("https://dl.example/f1", json={"result": {"planningGroups": []}})
    assert genesys.wfm.list_short_term_forecasts("bu", "2025-03-03") == [{"id": "f1"}]
    assert genesys.wfm.forecast_data("bu", "2025-03-03", "f1") == {"planningGroups": []}


def test_week_schedules_and_management_unit(mocked, genesys):
    mocked.get(
        f"{API}/api/v2/workforcemanagement/businessunits/bu/weeks/recent/schedules",
        json={"entities": [{"id": "s1", "published": True}]},
    )
    mocked.get(
        f"{API}/api/v2/workforcemanagement/agents/a/managementunit",
        json={"managementUnit": {"id": "mu"}, "businessUnit": {"id": "bu"}},
    )
    assert genesys.wfm.list_week_schedules("bu", "recent")[0]["id"] == "s1"
    assert genesys.wfm.agent_management_unit("a")["businessUnit"]["id"] == "bu"


def test_sta_transcript_two_steps(mocked, genesys):
    base = f"{API}/api/v2/speechandtextanalytics/conversations/c1"
    mocked.get(f"{base}/communications/m1/transcripturl", json={"url": "https://s3.example/t"})
    mocked.get("https://s3.example/t", json={"transcripts": [{"phrases": []}]})
    mocked.get(base, json={"sentimentScore": -70.0})
    mocked.get(f"{base}/sentiments", json={"insights": {}})
    assert genesys.sta.transcript("c1", "m1") == {"transcripts": [{"phrases": []}]}
    assert genesys.sta.conversation_metrics("c1")["sentimentScore"] == -70.0
    assert genesys.sta.sentiments("c1") == {"insights": {}}


def test_quality_queries_need_an_id_and_page(mocked, genesys):
    with pytest.raises(ValueError):
        list(genesys.quality.query_evaluations(start_time=T0))
    mocked.get(
        f"{API}/api/v2/quality/evaluations/query",
        json={"entities": [{"id": "e1"}], "pageNumber": 1, "pageCount": 1},
    )
    mocked.get(f"{API}/api/v2/quality/publishedforms/evaluations/f1", json={"id": "f1"})
    assert list(genesys.quality.query_evaluations(agent_user_id="a")) == [{"id": "e1"}]
    assert genesys.quality.published_form("f1") == {"id": "f1"}


def test_conversation_details_pages_until_total_hits(mocked, genesys):
    url = f"{API}/api/v2/analytics/conversations/details/query"
    mocked.post(
        url,
        json={"conversations": [{"conversationId": "1"}, {"conversationId": "2"}], "totalHits": 3},
    )
    mocked.post(url, json={"conversations": [{"conversationId": "3"}], "totalHits": 3})
    found = list(genesys.analytics.conversation_details(start=T0, end=T1, page_size=2))
    assert [c["conversationId"] for c in found] == ["1", "2", "3"]
    pages = [body_of(c)["paging"] for c in api_calls(mocked)]
    assert pages == [{"pageSize": 2, "pageNumber": 1}, {"pageSize": 2, "pageNumber": 2}]


def test_conversation_details_stops_on_an_empty_page(mocked, genesys):
    mocked.post(f"{API}/api/v2/analytics/conversations/details/query", json={})
    assert list(genesys.analytics.conversation_details(start=T0, end=T1)) == []
    assert len(api_calls(mocked)) == 1


def test_notification_channel_and_subscriptions(mocked, genesys):
    base = f"{API}/api/v2/notifications/channels"
    mocked.post(
        base,
        json={
            "id": "ch",
            "connectUri": "wss://streaming.example/ch",
            "expires": "2025-03-04T09:00:00Z",
            "selfUri": "/x",
        },
    )
    mocked.post(f"{base}/ch/subscriptions", json={"entities": [{"id": "t1", "state": "Permitted"}]})
    mocked.put(f"{base}/ch/subscriptions", json={"entities": []})
    mocked.get(base, json={"entities": [{"id": "ch"}]})
    assert genesys.notifications.create_channel() == {
        "id": "ch",
        "connectUri": "wss://streaming.example/ch",
        "expires": "2025-03-04T09:00:00Z",
    }
    assert genesys.notifications.subscribe("ch", ["t1"])[0]["state"] == "Permitted"
    genesys.notifications.replace_subscriptions("ch", ["t1", "t2"])
    assert genesys.notifications.list_channels() == [{"id": "ch"}]
    assert body_of(api_calls(mocked)[2]) == [{"id": "t1"}, {"id": "t2"}]


def test_recognition_body_and_enum_check(mocked, genesys):
    mocked.post(f"{API}/api/v2/employeeengagement/recognitions", json={"id": "r1"})
    genesys.recognition.create_recognition(
        recipient_id="a",
        recognition_type="ThankYou",
        title="Great call",
        context_type="Interaction",
        context_id="c1",
    )
    assert body_of(api_calls(mocked)[0]) == {
        "recipientId": "a",
        "type": "ThankYou",
        "title": "Great call",
        "contextType": "Interaction",
        "contextId": "c1",
    }
    with pytest.raises(ValueError):
        genesys.recognition.create_recognition(
            recipient_id="a", recognition_type="Kudos", title="x"
        )


def test_sent_recognitions_are_listed_by_recipient_and_creation_window(mocked, genesys):
    mocked.get(f"{API}/api/v2/employeeengagement/recognitions",
               json={"entities": [{"id": "r1"}], "pageNumber": 1, "pageCount": 1})
    found = list(genesys.recognition.list_sent(
        recipient_id="agent-1", start=datetime(2026, 12, 1, tzinfo=UTC),
        end=datetime(2026, 12, 2, tzinfo=UTC)))
    assert found == [{"id": "r1"}]
    query = api_calls(mocked)[0].request.params
    assert query == {"direction": "sent", "recipient": "agent-1",
                     "dateStart": "2026-12-01T00:00:00.000Z", "dateEnd": "2026-12-02T00:00:00.000Z",
                     "pageSize": "100"}


@pytest.mark.parametrize("create", ["appointment", "recognition"])
def test_effect_creates_are_not_re_sent_after_a_5xx(mocked, genesys, create):
    from connectors.errors import Transient

    path = {"appointment": "coaching/appointments",
            "recognition": "employeeengagement/recognitions"}[create]
    mocked.post(f"{API}/api/v2/{path}", status=502)
    mocked.post(f"{API}/api/v2/{path}", json={"id": "x"})
    with pytest.raises(Transient):
        if create == "appointment":
            genesys.coaching.create_appointment(
                name="n", description="d", date_start=datetime(2026, 12, 1, 9, tzinfo=UTC),
                length_in_minutes=30, attendee_ids=["a"])
        else:
            genesys.recognition.create_recognition(recipient_id="a", recognition_type="ThankYou",
                                                   title="t")
    assert len(api_calls(mocked)) == 1


QUERY = ("/api/v2/workforcemanagement/businessunits/bu/weeks/2025-03-03/schedules/s1"
         "/agentschedules/query")


def _wfm(genesys, sleeps):
    from connectors.genesys.wfm import WfmClient

    return WfmClient(genesys.transport, sleep=sleeps, processing_waits=(1.0, 2.0))


def test_a_processing_answer_is_asked_again_until_it_has_its_result(mocked, genesys, sleeps):
    mocked.post(f"{API}{QUERY}", json={"status": "Processing", "operationId": "op-1",
                                       "progress": 10})
    mocked.post(f"{API}{QUERY}", json={"status": "Complete",
                                       "result": {"agentSchedules": [{"user": {"id": "a"}}]}})
    answer = _wfm(genesys, sleeps).query_agent_schedules("bu", "2025-03-03", "s1",
                                                         management_unit_id="mu")
    assert answer["result"]["agentSchedules"] == [{"user": {"id": "a"}}]
    assert sleeps.calls == [1.0]


def test_still_processing_after_the_bounded_wait_is_a_transient_error(mocked, genesys, sleeps):
    from connectors.errors import Transient
    from connectors.genesys.wfm import WfmPending

    mocked.post(f"{API}{QUERY}", json={"status": "Processing", "operationId": "op-1"})
    with pytest.raises(WfmPending) as caught:
        _wfm(genesys, sleeps).query_agent_schedules("bu", "2025-03-03", "s1",
                                                    management_unit_id="mu")
    assert isinstance(caught.value, Transient)
    assert len(api_calls(mocked)) == 3 and sleeps.calls == [1.0, 2.0]


@pytest.mark.parametrize("status", ["Error", "Canceled"])
def test_a_failed_wfm_operation_is_transient_not_an_empty_schedule(mocked, genesys, sleeps,
                                                                    status):
    from connectors.genesys.wfm import WfmPending

    mocked.post(f"{API}{QUERY}", json={"status": status, "operationId": "op-1"})
    with pytest.raises(WfmPending):
        _wfm(genesys, sleeps).query_agent_schedules("bu", "2025-03-03", "s1",
                                                    management_unit_id="mu")


def test_processing_with_a_download_url_downloads_it(mocked, genesys, sleeps):
    url = "https://download.example/r.json?sig=1"
    mocked.post(f"{API}{QUERY}", json={"status": "Processing", "downloadUrl": url})
    mocked.get(url, json={"result": {"agentSchedules": []}})
    answer = _wfm(genesys, sleeps).query_agent_schedules("bu", "2025-03-03", "s1",
                                                         management_unit_id="mu")
    assert answer["result"] == {"agentSchedules": []} and sleeps.calls == []
