import pytest

from extension.platform.router import Router
from handlers.events import DomainEvent


def event(event_type="evaluation.changed", **data):
    return DomainEvent(delivery_id="d", type=event_type, subject=None, occurred_at=None,
                       source_topic=None, data=data)


def test_dispatch_calls_handlers_for_the_type_with_extra_arguments():
    router = Router()
    seen = []

    @router.register("evaluation.changed")
    def on_evaluation(evt, session, *, tenant_id):
        seen.append((evt.type, session, tenant_id))
        return "done"

    assert router.dispatch(event(), "S", tenant_id="t1") == ["done"]
    assert seen == [("evaluation.changed", "S", "t1")]


def test_a_keyed_route_matches_only_that_value():
    router = Router()
    finished = router.register("evaluation.changed", status="finished")(lambda e: "finished")
    router.register("evaluation.changed")(lambda e: "any")
    assert router.handlers_for(event(status="inprogress"))[0]("x") == "any"
    assert len(router.handlers_for(event(status="finished"))) == 2
    assert finished in router.handlers_for(event(status="finished"))


def test_an_unmatched_event_dispatches_to_nothing():
    router = Router()
    router.register("user.changed")(lambda e: 1)
    assert router.dispatch(event("schedule.changed")) == []
    assert router.handlers_for(event(status=["not", "hashable"])) == []


def test_a_route_takes_at_most_one_key():
    with pytest.raises(TypeError):
        Router().register("evaluation.changed", status="finished", agent_id="a")


def test_routers_compose_and_see_later_registrations():
    quality, coaching = Router(), Router()
    app = Router(quality, coaching)

    @quality.register("evaluation.changed")
    def score(evt):
        return "quality"

    @coaching.register("evaluation.changed", status="finished")
    def plan(evt):
        return "coaching"

    @app.register("evaluation.changed")
    def audit(evt):
        return "app"

    assert app.dispatch(event(status="finished")) == ["quality", "coaching", "app"]
    assert app.handlers_for(event("user.changed")) == []


def test_the_decorator_returns_the_function_unchanged():
    router = Router()

    def handler(evt):
        return evt.type

    assert router.register("user.changed")(handler) is handler
